"""The user's profile (个人设置): who they are here, and their API tokens."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from core.api_tokens import revoke_token, tokens_of
from core.identity import create_token
from web.errors import UserError
from web.rendering import current_user, login_required, page


class TokenForm(msgspec.Struct):
    name: str = ""


class ProfileController(Controller):
    path = "/t/{tenant:str}/profile"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [login_required]

    @get("/", name="profile")
    async def profile(self, request: Request) -> object:
        user = current_user(request)
        return page(request, "profile.html", tokens=await tokens_of(user.id), new_token=None, error=None)

    @post("/tokens", name="token_create")
    async def create(
        self, request: Request, data: Annotated[TokenForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
    ) -> object:
        user = current_user(request)
        name = data.name.strip()
        if not name or len(name) > 100:
            raise UserError(400, "Give the token a name of at most 100 characters.")
        secret = await create_token(user.id, name)
        return page(request, "profile.html", fragment="_tokens.html", tokens=await tokens_of(user.id),
                    new_token=secret, error=None)

    @post("/tokens/{token_id:int}/revoke", name="token_revoke")
    async def revoke(self, request: Request, token_id: FromPath[int]) -> object:
        user = current_user(request)
        await revoke_token(user.id, token_id)
        return page(request, "profile.html", fragment="_tokens.html", tokens=await tokens_of(user.id),
                    new_token=None, error=None)
