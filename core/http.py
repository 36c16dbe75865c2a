"""The HTTP face a module's pages and API routes use: who is asking, guards, rendering a page in
the site's layout, the API's documented errors and uploaded files.

The web shell fills in the layout (`render_pages_with`, called by `web.app.create_app`), so the
domain and the plugins never import `web`.
"""

from __future__ import annotations

from typing import Any, Callable

import msgspec
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Template

from core.errors import UserError, too_large
from core.i18n import N_
from core.users import CurrentUser

Guard = Callable[[ASGIConnection, BaseRouteHandler], Any]
PageRenderer = Callable[..., Template]


# -- who is asking ---------------------------------------------------------------------------------

def current_user(request: Request | ASGIConnection) -> CurrentUser | None:
    """The signed-in user of a request (None when nobody is)."""
    return request.scope.get("state", {}).get("user")


def signed_in_user(request: Request | ASGIConnection) -> CurrentUser:
    """The user of a route behind `login_required` (401, as that guard says, when nobody is signed in)."""
    _check_login(request)
    return request.scope["state"]["user"]


def tenant_of(request: Request | ASGIConnection) -> Any:
    """The tenant a request is for (the registry's `TenantContext`)."""
    return request.scope.get("state", {}).get("tenant")


# -- guards ----------------------------------------------------------------------------------------

def _check_login(connection: ASGIConnection) -> None:
    state = connection.scope.get("state", {})
    if state.get("user") is None:
        if state.get("auth_error") == "invalid_token":
            raise UserError(401, "The API token is not valid for this tenant.", code="invalid_token")
        raise UserError(401, "Please log in first.")


# Guards are coroutines: Litestar runs a plain-function guard in a worker thread, a hop per
# request that costs more than the check itself.
async def login_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A guard: someone must be logged in here (401 otherwise)."""
    _check_login(connection)


NOT_ALLOWED = N_("You are not allowed to do this.")


def requires(*permissions: str, roles: tuple[str, ...] = (), message: str = NOT_ALLOWED) -> Guard:
    """A guard: the user must be logged in here and hold one of `permissions` — or one of `roles`
    (e.g. ``requires("case.submit_on_behalf", roles=("company",))``) — 403 otherwise, saying
    `message` (an `N_` msgid; "You are not allowed to do this." unless the page says better)."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        _check_login(connection)
        user = current_user(connection)
        if user is None or not (any(user.can(p) for p in permissions) or user.has_role(*roles)):
            raise UserError(403, message)

    guard.__name__ = "requires_" + "_or_".join(p.replace(".", "_") for p in (*permissions, *roles))
    return guard


# -- pages -----------------------------------------------------------------------------------------

def _bare_page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    context.pop("fragment", None)
    return Template(template, context=context, status_code=status_code, media_type="text/html")


_renderer: PageRenderer = _bare_page


def render_pages_with(renderer: PageRenderer) -> None:
    """Let the web shell render pages in its layout (called once, by the app factory)."""
    global _renderer
    _renderer = renderer


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    """Render a page in the site's layout (or, for an htmx request with `fragment`, that fragment)."""
    return _renderer(request, template, status_code=status_code, **context)


# -- the API's errors ------------------------------------------------------------------------------

class ErrorDetail(msgspec.Struct):
    """One invalid field of a request: its name and what is wrong with it."""

    field: str
    message: str


class ApiError(msgspec.Struct):
    """An error as every API route answers it: a stable code, the translated message and, for an
    invalid parameter or body, one entry per field."""
    code: str
    message: str
    details: list[ErrorDetail]


ERROR_DESCRIPTIONS = {
    400: "The request is not valid: a malformed parameter or body, or a value the step does not accept.",
    401: "No bearer token, or one that is not valid for this tenant.",
    403: "The caller's roles do not allow this.",
    404: "No such tenant (or module not enabled there), or no such resource in this tenant.",
    409: "The step is not allowed in the resource's current state, or the given version is stale.",
    413: "The request body is too large.",
}


def api_errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The error responses an API route documents (`responses=`): 400, 401 and 404 always, plus
    the given ones."""
    return {status: ResponseSpec(data_container=ApiError, description=ERROR_DESCRIPTIONS[status],
                                 generate_examples=False)
            for status in sorted({400, 401, 404, *statuses})}


READ_ERRORS = api_errors(403)
WRITE_ERRORS = api_errors(403, 409, 413)


# -- uploads ---------------------------------------------------------------------------------------

MULTIPART_SLACK = 64 * 1024  # the form's other fields and part headers around the file


def upload_limit(max_bytes: int) -> dict[str, Any]:
    """Keyword arguments for a route decorator that accepts a file of at most `max_bytes`: Litestar
    checks the announced Content-Length before a byte is read, and the answer names the limit."""
    def refuse(request: Request, exc: RequestEntityTooLarge) -> Response:
        answer = request.app.exception_handlers.get(HTTPException)  # the app's error answer (web.errors)
        error = too_large(max_bytes)
        if answer is None:
            return Response({"code": error.code, "message": error.message()}, status_code=413)
        return answer(request, error)

    return {"request_max_body_size": max_bytes + MULTIPART_SLACK, "exception_handlers": {RequestEntityTooLarge: refuse}}


def uploaded_file(data: dict[str, Any], field: str = "file") -> UploadFile:
    """The one file a multipart form carries in `field` (400 when there is none)."""
    upload = data.get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UserError(400, "Choose a file to attach.", code="file_required")
    return upload
