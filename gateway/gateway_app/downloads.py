"""A PDF or an XML file as a download (the API and the web pages): never cached, never sniffed."""

from __future__ import annotations

import io

from flask import Response, send_file


def pdf_download(content: bytes, filename: str) -> Response:
    return _download(content, filename, "application/pdf")


def xml_download(content: bytes, filename: str) -> Response:
    """An XML file such as a direct debit collection's pain.008."""
    return _download(content, filename, "application/xml")


def _download(content: bytes, filename: str, mimetype: str) -> Response:
    response = send_file(
        io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=filename, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
