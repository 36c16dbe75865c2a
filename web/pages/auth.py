"""Login (登录), logout and the language switch."""

from __future__ import annotations

import os
import re
from typing import Annotated
from urllib.parse import urlparse

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect

from core.i18n import normalize_locale
from core.identity import LoginRefused, check_login, end_session, start_session
from core.user_roles import is_member, role_holders
from tenants.scope import current_tenant
from web.rendering import current_user, page
from web.tenancy import keep_changes, session_cookie_name


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""
    next: str = ""


def demo_mode() -> bool:
    """Whether this server shows its demo accounts (`qinqing serve --demo-banner` sets QINQING_DEMO=1)."""
    return os.environ.get("QINQING_DEMO") == "1"


async def demo_hint() -> dict | None:
    """In demo mode, the tenant's demo accounts for the login page: one `<role>@<slug>` per role
    (the core's roles first), how many more company accounts there are, and the password."""
    if not demo_mode():
        return None
    from core.config import get_settings
    from core.plugins import get_plugin_manager

    slug = current_tenant().slug
    rows = await role_holders()
    held = {r["username"]: r["role"] for r in rows if r["username"].endswith(f"@{slug}")}
    manager = get_plugin_manager()
    order = list(manager.roles)

    def place(role: str) -> tuple[bool, int]:  # the core's roles first, then each module's
        info = manager.infos.get(manager.role_plugin(role) or "")
        return (bool(info and info.optional), order.index(role) if role in order else len(order))

    accounts = sorted(((u, role) for u, role in held.items() if u == f"{role}@{slug}"), key=lambda a: place(a[1]))
    # The demo's numbered company logins (company02@… to companyNN@…), not other company users.
    numbered = [int(m.group(1)) for u, role in held.items()
                if role == "company" and (m := re.fullmatch(rf"company(\d+)@{re.escape(slug)}", u))]
    companies = max(numbered) - 1 if numbered else 0
    settings = get_settings()
    password = settings.demo_password
    if not password and (settings.var_dir / "demo_password").exists():
        password = (settings.var_dir / "demo_password").read_text().strip()
    return {"accounts": accounts, "companies": companies, "password": password or "", "slug": slug}


def _safe_next(root: str, target: str) -> str:
    parsed = urlparse(target or "")
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return root
    return target


class AuthController(Controller):
    path = "/t/{tenant:str}"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API

    @get("/login", name="login")
    async def login_form(self, request: Request, next: FromQuery[str] = "", expired: FromQuery[int] = 0) -> object:
        return page(request, "login.html", next=next, expired=bool(expired), error=None, username="",
                    demo=await demo_hint())

    @post("/login", name="login_submit")
    async def login(
        self, request: Request, data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
    ) -> object:
        root = request.scope["state"]["tenant_root"]
        username = data.username.strip()[:150]

        async def fail(message: str, status: int):
            keep_changes(request)
            return page(request, "login.html", status_code=status, next=data.next, expired=False,
                        error=message, username=username, demo=await demo_hint())

        try:
            user = await check_login(username, data.password, lambda user: is_member(user.id))
        except LoginRefused as refused:
            return await fail(refused.message, refused.status)
        key = await start_session(user.id)
        response = Redirect(path=_safe_next(root, data.next), status_code=303)
        response.set_cookie(Cookie(key=session_cookie_name(current_tenant().slug), value=key, httponly=True,
                                   samesite="lax", path="/", max_age=12 * 3600))
        return response

    @post("/logout", name="logout")
    async def logout(self, request: Request) -> Redirect:
        user = current_user(request)
        if user is not None and user.session_id:
            await end_session(user.session_id)
        response = Redirect(path=request.scope["state"]["tenant_root"] + "login", status_code=303)
        response.delete_cookie(session_cookie_name(current_tenant().slug), path="/")
        return response

    @get("/lang/{code:str}", name="set_language")
    async def set_language(self, request: Request, code: FromPath[str]) -> Redirect:
        locale = normalize_locale(code) or "zh_CN"
        root = request.scope["state"]["tenant_root"]
        back = _safe_next(root, request.query_params.get("next", root))
        response = Redirect(path=back, status_code=303)
        response.set_cookie(Cookie(key="lang", value=locale, samesite="lax", path="/", max_age=365 * 86400))
        return response
