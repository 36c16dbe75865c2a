"""The JSON API under `/t/<slug>/api/v1/`: bearer-token authenticated, errors as `{code, message}`."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Controller, Request, Router, delete, get, post
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath, JSONBody

from core.api_tokens import revoke_token, tokens_of
from core.errors import UserError
from core.http import READ_ERRORS, WRITE_ERRORS, ApiError, api_errors, current_user, login_required  # noqa: F401
from core.identity import create_token
from tenants.scope import current_tenant

# Every API route wants `Authorization: Bearer <token>` (an API token of the tenant).
COMPONENTS = Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")})
SECURITY = [{"bearer": []}]


class Me(msgspec.Struct):
    id: int
    username: str
    display_name: str
    tenant: str
    roles: list[str]
    permissions: list[str]


class QueueOut(msgspec.Struct):
    key: str
    label: str  # in the token owner's language
    count: int
    mine: bool  # the user is the one to act (else: to watch)
    href: str  # the page listing exactly these items, below the tenant root
    url: str  # the same page's path


class TokenIn(msgspec.Struct):
    """A new API token: its name (at most 100 characters)."""

    name: str


class TokenOut(msgspec.Struct):
    id: int
    name: str
    prefix: str
    created_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(msgspec.Struct):
    id: int
    name: str
    token: str


class IdentityApi(Controller):
    path = "/"
    tags = ["identity"]

    @get("/me", summary="The user behind the token", responses=api_errors())
    async def me(self, request: Request) -> Me:
        user = current_user(request)
        return Me(id=user.id, username=user.username, display_name=user.display_name, tenant=current_tenant().slug,
                  roles=sorted(user.roles), permissions=sorted(user.permissions))

    @get("/me/queue", summary="The user's work queue (我的待办): each queue's count, as on the home page",
         responses=api_errors())
    async def queue(self, request: Request) -> list[QueueOut]:
        from core.cases.work_queue import work_queue
        from core.i18n import gettext

        tenant = current_tenant()
        root = f"/t/{tenant.slug}/"
        return [QueueOut(key=q.key, label=gettext(q.label), count=q.count, mine=q.mine, href=q.href, url=root + q.href)
                for q in await work_queue(tenant, current_user(request))]

    @get("/tokens", summary="The user's API tokens on this tenant", responses=api_errors())
    async def tokens(self, request: Request) -> list[TokenOut]:
        rows = await tokens_of(current_user(request).id)
        return [TokenOut(**{k: r[k] for k in TokenOut.__struct_fields__}) for r in rows]

    @post("/tokens", summary="Create an API token; the secret is shown once", responses=api_errors(413))
    async def create(self, request: Request, data: JSONBody[TokenIn]) -> TokenCreated:
        name = data.name.strip()
        if not name or len(name) > 100:
            raise UserError(400, "Give the token a name of at most 100 characters.")
        secret = await create_token(current_user(request).id, name)
        rows = await tokens_of(current_user(request).id)
        return TokenCreated(id=rows[-1]["id"], name=name, token=secret)

    @delete("/tokens/{token_id:int}", summary="Revoke an API token", status_code=204, responses=api_errors())
    async def revoke(self, request: Request, token_id: FromPath[int]) -> None:
        await revoke_token(current_user(request).id, token_id)


def api_router(extra_handlers: list | None = None) -> Router:
    return Router(
        path="/t/{tenant:str}/api/v1",
        route_handlers=[IdentityApi, *(extra_handlers or [])],
        guards=[login_required],
        security=SECURITY,
        opt={"api": True},
    )


def plugin_api_router(name: str, handlers: list) -> Router:
    """A plugin's API under `/t/<slug>/api/v1/<name>/`, with the same guards as the core API."""
    return Router(path=f"/t/{{tenant:str}}/api/v1/{name}", route_handlers=handlers, guards=[login_required],
                  security=SECURITY, opt={"api": True, "plugin": name})
