"""Errors users see: a translatable message (a msgid plus parameters), a stable code, a status."""

from __future__ import annotations

from litestar.exceptions import HTTPException

from core.i18n import N_, gettext

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "too_many_requests",
         500: "server_error", 503: "unavailable"}


class UserError(HTTPException):
    """An error with a translatable message and a stable code, raised anywhere in the app."""

    def __init__(self, status_code: int, message: str, code: str | None = None, **params):
        self.msgid = message
        self.params = params
        self.code = code or CODES.get(status_code, "error")
        super().__init__(status_code=status_code, detail=message)

    def message(self) -> str:
        return gettext(self.msgid, **{k: gettext(v) if isinstance(v, str) and k.endswith("_label") else v
                                      for k, v in self.params.items()})


MB = 1024 * 1024
MSG_TOO_LARGE = N_("The file is larger than %(max)s MB; split it or remove unused sheets and rows.")


def too_large(max_bytes: int) -> UserError:
    """413 for an upload past `max_bytes`, naming the limit in MB."""
    return UserError(413, MSG_TOO_LARGE, code="too_large", max=max_bytes // MB)
