"""Files uploaded for import: the route's body bound, checked by Litestar on the announced
Content-Length before a byte is read (and again while streaming), answered with a message that
names the limit; and the one file a form carries."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from core.cases.import_jobs import too_large
from core.errors import UserError
from web import errors

MULTIPART_SLACK = 64 * 1024  # the form's other fields and part headers around the file


def upload_limit(max_bytes: int) -> dict[str, Any]:
    """Keyword arguments for a route decorator that accepts a file of at most `max_bytes`."""

    def refuse(request: Request, exc: RequestEntityTooLarge) -> Response:
        return errors.exception_handler(request, too_large(max_bytes))

    return {"request_max_body_size": max_bytes + MULTIPART_SLACK, "exception_handlers": {RequestEntityTooLarge: refuse}}


def uploaded_file(data: dict[str, Any], field: str = "file") -> UploadFile:
    upload = data.get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UserError(400, "Choose a file to attach.", code="file_required")
    return upload
