"""A file uploaded as the multipart field `file` (the merge's signed form, a contact request's
attachment), read within its limit: the one place that raises the app-wide 1 MB limit for a
view, answers 413 for a larger body or file (also a chunked one, cut while parsing) and 422 for
a missing or empty file. Whether it is a PDF is checked by the service that stores it
(cc_common/rules/documents.py)."""

from __future__ import annotations

from dataclasses import dataclass

from cc_common.errors import InvalidInput
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

# Room for the multipart boundaries, part headers and the other fields beside the file.
FORM_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class Upload:
    filename: str
    mimetype: str
    content: bytes


def uploaded_file(*, limit: int, too_large: str, empty: str, missing: str | None = None) -> Upload | None:
    """The `file` of this request of at most `limit` bytes. Without one: None, or 422 with
    `missing` when a file is required; an empty one: 422 with `empty`; a larger one or request:
    413 with `too_large`."""
    request.max_content_length = limit + FORM_OVERHEAD  # Flask >= 3.1 reads it from the request
    if request.content_length is not None and request.content_length > request.max_content_length:
        raise RequestEntityTooLarge(too_large)
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:  # a chunked body over the limit, cut while parsing
        raise RequestEntityTooLarge(too_large) from None
    if upload is None or (not upload.filename and not upload.content_length):
        if missing is not None:
            raise InvalidInput(missing, field="file")
        return None
    content = upload.stream.read(limit + 1)
    if len(content) > limit:
        raise RequestEntityTooLarge(too_large)
    if not content:
        raise InvalidInput(empty, field="file")
    return Upload(upload.filename or "", upload.mimetype or "", content)
