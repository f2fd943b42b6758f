"""The text of a PDF as a reader sees it (pypdf): the PDFs embed a subset Unicode font, so
their text is not in their bytes as plain characters."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    """All pages' text, with every kind of space (Babel's no-break spaces) as a plain space."""
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return "".join(" " if ch.isspace() and ch != "\n" else ch for ch in text)
