"""Errors as users see them: a translated message and the right status, never a stack trace.

API paths answer JSON `{"code", "message", "details"}`; pages answer an HTML page; an expired or
missing login on a page redirects to the login form.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import ClientException, InternalServerException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from core.db import database_unavailable
from core.errors import CODES, UserError  # noqa: F401  (re-exported)
from core.i18n import N_, gettext

log = logging.getLogger("qinqing.web")

MESSAGES = {
    400: N_("The request is not valid."),
    401: N_("Please log in first."),
    403: N_("You are not allowed to do this."),
    404: N_("Not found."),
    405: N_("This action is not allowed here."),
    409: N_("This step is not allowed in the current state."),
    413: N_("The request is too large."),
    415: N_("This type of content is not accepted."),
    422: N_("The request is not valid."),
    429: N_("Too many attempts. Please wait and try again."),
    500: N_("Something went wrong on our side. The error has been logged."),
    503: N_("The service is not ready. Please try again shortly."),
}


class BodyCheckedRequest(Request):
    """The app's request: a JSON body with invalid UTF-8 inside a string, or nested past the
    decoder's depth, is bad input (400), not a fault of ours — msgspec raises UnicodeDecodeError
    and RecursionError for these, which Litestar does not turn into a client error."""

    async def json(self):
        try:
            return await super().json()
        except (UnicodeDecodeError, RecursionError):
            raise ClientException("malformed JSON body") from None


def is_api(request: Request) -> bool:
    path = request.url.path
    return "/api/" in path or path.startswith("/schema") or path.startswith("/open311/")


# msgspec names the field when the body as a whole is wrong: "Object missing required field `title`".
_BODY_FIELD = re.compile(r"field `([^`]+)`|`\$\.([^`]+)`")


def _field_of(error: dict) -> str:
    """The parameter or body field a validation error is about."""
    key = error.get("key") or ""
    if key in ("", "data") and error.get("source") == "body":
        found = _BODY_FIELD.search(str(error.get("message") or ""))
        if found:
            return found.group(1) or found.group(2)
    return key or error.get("source") or ""


def _message_for(exc: Exception, status: int) -> tuple[str, str, list]:
    if isinstance(exc, UserError):
        return exc.code, exc.message(), []
    details: list = []
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        details = [
            {"field": _field_of(e), "message": gettext(N_("invalid value"))}
            for e in exc.extra if isinstance(e, dict)
        ]
    detail = getattr(exc, "detail", "") or ""
    if status == 403 and "CSRF" in detail:
        return "csrf", gettext(N_("The form has expired or its security token is missing. Reload the page and try again.")), []
    return CODES.get(status, "error"), gettext(MESSAGES.get(status, MESSAGES[400] if status < 500 else MESSAGES[500])), details


def render_error(request: Request, status: int, code: str, message: str, details: list | None = None,
                 headers: dict | None = None) -> Response:
    from web.open311 import error_response, is_open311

    if is_open311(request.url.path):
        return error_response(request.url.path, status, message, code)
    if is_api(request):
        return Response({"code": code, "message": message, "details": details or []}, status_code=status,
                        headers=headers or {})
    from web.rendering import page_context

    return Template(
        "error.html",
        context={**page_context(request), "status": status, "message": message, "details": details or []},
        status_code=status,
        headers=headers or {},
        media_type="text/html",
    )


def out_of_range(exc: Exception) -> bool:
    """A value the database cannot hold (an id or number beyond its integer columns, a date beyond
    its calendar): bad input, answered 400 — not a fault of ours."""
    from asyncpg.exceptions import DataError as PostgresDataError  # SQLSTATE class 22, "data exception"
    from asyncpg.exceptions._base import DataError as ArgumentError  # asyncpg's own check of an argument

    return isinstance(exc, (OverflowError, PostgresDataError, ArgumentError))


def unavailable_response(request: Request) -> Response:
    """503 with Retry-After: the database is down, restarting or (SQLite) its write lock is busy."""
    return render_error(request, 503, CODES[503], gettext(MESSAGES[503]), [], {"Retry-After": "5"})


def client_left(exc: Exception) -> bool:
    """The client closed the connection before its request body arrived: nobody to answer."""
    return isinstance(exc, InternalServerException) and exc.detail == "client disconnected prematurely"


def read_afresh(request: Request, exc: Exception) -> Response:
    """A kept tenant found out of date by a page's first statement (`core.auth_cache.Stale`): not
    an answer but a retry, which the tenancy middleware makes with the tenant read afresh."""
    raise exc


def exception_handler(request: Request, exc: Exception) -> Response:
    if client_left(exc):
        # Not a fault of ours, and nothing is stored (the request's transaction rolls back).
        log.info("client disconnected before sending all of %s %s", request.method, request.url.path)
        exc = UserError(400, "The request was cut off before it was complete.", code="client_disconnected")
    if out_of_range(exc):
        log.warning("value out of range on %s %s: %s", request.method, request.url.path, exc)
        exc = UserError(400, "A number or date in the request is out of range.", code="out_of_range")
    status = getattr(exc, "status_code", HTTP_500_INTERNAL_SERVER_ERROR)
    if status == HTTP_500_INTERNAL_SERVER_ERROR and database_unavailable(exc):
        # The database is down or restarting: not a bug; the client may retry shortly.
        log.warning("database unavailable on %s %s: %s: %s", request.method, request.url.path,
                    exc.__class__.__name__, exc)
        return unavailable_response(request)
    if status >= 500:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    state = request.scope.get("state", {})
    if status == 401 and not is_api(request) and state.get("tenant") is not None:
        root = state.get("tenant_root") or "/"
        target = f"{root}login?next={quote(request.url.path)}"
        if state.get("session_expired"):
            target += "&expired=1"
        if request.headers.get("hx-request"):
            return Response(b"", status_code=401, headers={"HX-Redirect": target})
        return Redirect(path=target, status_code=303)
    code, message, details = _message_for(exc, status)
    headers = dict(getattr(exc, "headers", None) or {})  # e.g. `Allow` on a 405
    if status == 401 and is_api(request):
        headers["WWW-Authenticate"] = "Bearer"
    return render_error(request, status, code, message, details, headers)


def not_found_response(scope, unknown_tenant: bool = False) -> Response:
    from litestar import Request as _Request

    request = _Request(scope)
    message = gettext(N_("This tenant does not exist or is not active.")) if unknown_tenant else gettext(MESSAGES[404])
    return render_error(request, 404, "unknown_tenant" if unknown_tenant else "not_found", message).to_asgi_response(None, request)
