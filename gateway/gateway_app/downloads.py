"""A PDF as a download (the API and the web pages): never cached, never sniffed."""

from __future__ import annotations

import io

from flask import Response, send_file


def pdf_download(content: bytes, filename: str) -> Response:
    response = send_file(
        io.BytesIO(content), mimetype="application/pdf", as_attachment=True, download_name=filename, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
