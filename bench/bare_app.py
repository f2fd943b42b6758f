"""The limit of the benchmark: a bare Flask app with one constant route, served by the same
gunicorn configuration as the gateway (deploy/gunicorn.conf.py)."""

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def constant():
        return {"status": "ok"}

    return app
