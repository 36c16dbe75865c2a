"""Open311 GeoReport v2 over HTTP (市民服务请求接口).

Every tenant answers at `/open311/v2/` with `jurisdiction_id` = its slug, and at its own
`/t/<slug>/open311/v2/` (or host `<slug>.<base domain>/open311/v2/`), where `jurisdiction_id`
may be left out and, if given, must be that slug.  `JurisdictionRewrite` maps the first form onto
the second before routing, so every Open311 request runs through the one tenant layer
(`TenantMiddleware`: the tenant's scope and transaction, 404 for an unknown tenant).

Resources answer XML or JSON by their extension.  Reading is public (no key); creating a request
needs `api_key`, an API token of the tenant.  Errors are the specification's list of
`{code, description}` with HTTP 400, 403 (missing or wrong `api_key`) or 404.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.params import FromPath
from litestar.types import ASGIApp, Receive, Scope, Send

from core import open311
from core.errors import UserError
from core.i18n import N_, gettext
from core.identity import user_from_token
from web.rendering import tenant_of

PREFIX = "/open311/v2/"
TENANT_PATH = re.compile(r"^/t/[^/]+/open311/v2/")
SLUG = re.compile(r"[a-z][a-z0-9-]{1,62}")
MEDIA_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# XML element names of a list's items (the specification's containers).
ITEMS = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
         "errors": "error"}
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def is_open311(path: str) -> bool:
    return path.startswith(PREFIX) or bool(TENANT_PATH.match(path))


def format_of(path: str) -> str:
    return "json" if path.endswith(".json") else "xml"  # XML is the specification's required format


# -- rendering ------------------------------------------------------------------------------------

def _fill(element: ET.Element, mapping: dict) -> None:
    for name, value in mapping.items():
        child = ET.SubElement(element, name)
        if isinstance(value, list):
            for item in value:
                _fill(ET.SubElement(child, ITEMS[name]), item)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = NOT_XML.sub("", str(value))


def encode(fmt: str, root: str, data: list | dict) -> bytes:
    """The body in `fmt`: JSON as the Spark convention maps the XML, or the XML itself."""
    if fmt == "json":
        return msgspec.json.encode(data)
    top = ET.Element(root)
    if isinstance(data, list):
        for item in data:
            _fill(ET.SubElement(top, ITEMS[root]), item)
    else:
        _fill(top, data)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="unicode").encode()


def respond(fmt: str, root: str, data: list | dict, status: int = 200) -> Response:
    # Litestar adds "; charset=utf-8" to text types itself.
    media_type = MEDIA_TYPES[fmt].split(";")[0] if fmt == "xml" else MEDIA_TYPES[fmt]
    return Response(encode(fmt, root, data), status_code=status, media_type=media_type)


def spec_status(status: int) -> int:
    """404 for what does not exist, 403 for a missing or wrong key, 400 for anything else."""
    if status in (401, 403):
        return 403
    return status if status == 404 or status >= 500 else 400


def error_response(path: str, status: int, description: str, code: str = "") -> Response:
    if code == "unknown_tenant":
        description = gettext(N_("jurisdiction_id %(jurisdiction)s was not found."), jurisdiction=path.split("/")[2])
    status = spec_status(status)
    return respond(format_of(path), "errors", [{"code": status, "description": description}], status)


# -- the jurisdiction -----------------------------------------------------------------------------

async def _read_body(receive: Receive, limit: int) -> bytes | None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > limit:
            return None
        if not message.get("more_body"):
            return body


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class JurisdictionRewrite:
    """`/open311/v2/<x>?jurisdiction_id=<slug>` → `/t/<slug>/open311/v2/<x>` (the slug may also
    come in a form-encoded POST body, as the specification's example sends it)."""

    def __init__(self, app: ASGIApp, max_body: int):
        self.app = app
        self.max_body = max_body

    def __getattr__(self, name):  # reads through to the wrapped application (`.routes`, …)
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        slug = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("jurisdiction_id", [""])[0].strip()
        headers = dict(scope.get("headers", []))
        if not slug and scope["method"] == "POST" and headers.get(b"content-type", b"").startswith(
                b"application/x-www-form-urlencoded"):
            body = await _read_body(receive, self.max_body)
            if body is None:
                await self._error(scope, send, 413, gettext(N_("The request is too large.")))
                return
            slug = parse_qs(body.decode("latin-1")).get("jurisdiction_id", [""])[0].strip()
            receive = _replay(body)
        if not slug:
            await self._error(scope, send, 400, gettext(N_("jurisdiction_id was not provided.")))
        elif not SLUG.fullmatch(slug):
            await self._error(scope, send, 404, gettext(N_("jurisdiction_id %(jurisdiction)s was not found."),
                                                        jurisdiction=slug[:63]))
        else:
            rewritten = f"/t/{slug}{path}"
            await self.app({**scope, "path": rewritten, "raw_path": rewritten.encode()}, receive, send)

    @staticmethod
    async def _error(scope: Scope, send: Send, status: int, description: str) -> None:
        status = spec_status(status)
        fmt = format_of(scope["path"])
        body = encode(fmt, "errors", [{"code": status, "description": description}])
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", MEDIA_TYPES[fmt].encode()),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _check_jurisdiction(request: Request, value: str | None) -> None:
    value = (value or "").strip()
    if value and value != tenant_of(request).slug:
        raise UserError(400, "jurisdiction_id %(jurisdiction)s does not match this endpoint.",
                        code="jurisdiction_mismatch", jurisdiction=value[:63])


def _split(ref: str) -> tuple[str, str]:
    """`"municipal.json"` → `("municipal", "json")`; an unknown extension is not found."""
    value, dot, fmt = ref.rpartition(".")
    if not dot or fmt not in MEDIA_TYPES:
        raise UserError(404, "Not found.")
    return value, fmt


def _query(request: Request) -> dict[str, str]:
    """Query parameters; one declared several times counts as a comma-delimited list."""
    params = request.query_params
    return {key: ",".join(params.getall(key)) for key in params.keys()}


# -- the resources --------------------------------------------------------------------------------

@get(["/services.json", "/services.xml"], name="open311_services", summary="Open311: the service list")
async def services(request: Request) -> Response:
    _check_jurisdiction(request, request.query_params.get("jurisdiction_id"))
    return respond(format_of(request.url.path), "services", await open311.services())


@get("/services/{service_ref:str}", name="open311_service", summary="Open311: a service definition")
async def service(request: Request, service_ref: FromPath[str]) -> Response:
    _check_jurisdiction(request, request.query_params.get("jurisdiction_id"))
    code, fmt = _split(service_ref)
    return respond(fmt, "service_definition", await open311.service_definition(code))


@post(["/requests.json", "/requests.xml"], name="open311_submit", status_code=200,
      summary="Open311: create a service request (form-encoded, api_key required)")
async def submit(request: Request) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    _check_jurisdiction(request, form.get("jurisdiction_id") or request.query_params.get("jurisdiction_id"))
    key = (form.get("api_key") or request.query_params.get("api_key") or "").strip()
    if not key:
        raise UserError(403, "api_key was not provided.", code="api_key_missing")
    user = await user_from_token(key) if len(key) <= 200 else None
    if user is None:
        raise UserError(403, "The api_key is not valid for this jurisdiction.", code="api_key_invalid")
    return respond(format_of(request.url.path), "service_requests", [await open311.submit(user, form)])


@get(["/requests.json", "/requests.xml"], name="open311_requests", summary="Open311: service requests")
async def requests(request: Request) -> Response:
    params = _query(request)
    _check_jurisdiction(request, params.get("jurisdiction_id"))
    return respond(format_of(request.url.path), "service_requests", await open311.find_requests(params))


@get("/requests/{request_ref:str}", name="open311_request", summary="Open311: one service request")
async def request_detail(request: Request, request_ref: FromPath[str]) -> Response:
    _check_jurisdiction(request, request.query_params.get("jurisdiction_id"))
    ref, fmt = _split(request_ref)
    return respond(fmt, "service_requests", [await open311.find_request(ref)])


@get("/tokens/{token_ref:str}", name="open311_token", summary="Open311: the service request of a token")
async def token(request: Request, token_ref: FromPath[str]) -> Response:
    _check_jurisdiction(request, request.query_params.get("jurisdiction_id"))
    value, fmt = _split(token_ref)
    return respond(fmt, "service_requests", [await open311.from_token(value)])


def open311_router() -> Router:
    """The endpoints under a tenant: public reads (only public fields), keyed writes.  Left out of
    the OpenAPI schema: GeoReport v2 is their contract (tests/test_open311.py, tests/test_fuzz.py)."""
    return Router(path="/t/{tenant:str}/open311/v2", route_handlers=[services, service, submit, requests,
                                                                      request_detail, token],
                  opt={"public": True}, tags=["open311"], include_in_schema=False)
