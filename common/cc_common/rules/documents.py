"""Uploaded documents: a signed form comes as a PDF of at most 5 MB (the merge's legal proof,
an attachment of a contact request)."""

from __future__ import annotations

from cc_common.errors import InvalidInput, PayloadTooLarge

MAX_PDF_BYTES = 5 * 1024 * 1024


def check_pdf(content: bytes, *, field: str = "file", what: str = "the signed form") -> bytes:
    """`content` if it is a PDF document (starts with `%PDF-`, ends with `%%EOF` in its last
    2 KB) within MAX_PDF_BYTES; else 413 payload_too_large or 422 naming `field`."""
    if not content:
        raise InvalidInput(f"Please choose {what} (a PDF file).", field=field)
    if len(content) > MAX_PDF_BYTES:
        raise PayloadTooLarge(
            f"The file is larger than the limit of 5 MB ({MAX_PDF_BYTES} bytes). Please upload a smaller scan.",
            field=field,
        )
    if not content.startswith(b"%PDF-") or b"%%EOF" not in content[-2048:]:
        raise InvalidInput("The file is not a PDF document. Please upload it as a PDF.", field=field)
    return content
