"""The user's profile (个人设置): who they are here, and their API tokens."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from core.clock import now
from core.tables import ApiToken
from tenants.scope import scoped
from web.errors import UserError
from web.identity import create_token
from web.rendering import current_user, login_required, page


class TokenForm(msgspec.Struct):
    name: str = ""


async def user_tokens(user_id: int) -> list[dict]:
    return await scoped(ApiToken).select(
        ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.created_at, ApiToken.last_used_at, ApiToken.revoked_at
    ).where(ApiToken.user == user_id).order_by(ApiToken.id)


class ProfileController(Controller):
    path = "/t/{tenant:str}/profile"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [login_required]

    @get("/", name="profile")
    async def profile(self, request: Request) -> object:
        user = current_user(request)
        return page(request, "profile.html", tokens=await user_tokens(user.id), new_token=None, error=None)

    @post("/tokens", name="token_create")
    async def create(
        self, request: Request, data: Annotated[TokenForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
    ) -> object:
        user = current_user(request)
        name = data.name.strip()
        if not name or len(name) > 100:
            raise UserError(400, "Give the token a name of at most 100 characters.")
        secret = await create_token(user.id, name)
        return page(request, "profile.html", fragment="_tokens.html", tokens=await user_tokens(user.id),
                    new_token=secret, error=None)

    @post("/tokens/{token_id:int}/revoke", name="token_revoke")
    async def revoke(self, request: Request, token_id: FromPath[int]) -> object:
        user = current_user(request)
        row = await scoped(ApiToken).objects().where((ApiToken.id == token_id) & (ApiToken.user == user.id)).first()
        if row is None:
            raise UserError(404, "Not found.")
        if row.revoked_at is None:
            row.revoked_at = now()
            await row.save([ApiToken.revoked_at])
        return page(request, "profile.html", fragment="_tokens.html", tokens=await user_tokens(user.id),
                    new_token=None, error=None)
