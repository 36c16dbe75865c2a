"""Login (登录), logout and the language switch."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlparse

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect

from core.i18n import _, normalize_locale
from core.tables import Membership, User
from tenants.scope import current_tenant, scoped
from core.clock import as_utc, now
from web.identity import end_session, hash_password, session_cookie_name, start_session, verify_password
from web.rendering import current_user, page
from web.tenancy import keep_changes

MAX_FAILURES = 5
LOCK_MINUTES = 15
# A hash to verify against when the user does not exist, so timing does not tell.
_DUMMY_HASH = hash_password("not-a-real-password")


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""
    next: str = ""


def _safe_next(root: str, target: str) -> str:
    parsed = urlparse(target or "")
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return root
    return target


class AuthController(Controller):
    path = "/t/{tenant:str}"

    @get("/login", name="login")
    async def login_form(self, request: Request, next: FromQuery[str] = "", expired: FromQuery[int] = 0) -> object:
        return page(request, "login.html", next=next, expired=bool(expired), error=None, username="")

    @post("/login", name="login_submit")
    async def login(
        self, request: Request, data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
    ) -> object:
        root = request.scope["state"]["tenant_root"]
        username = data.username.strip()[:150]

        def fail(message: str, status: int):
            keep_changes(request)
            return page(request, "login.html", status_code=status, next=data.next, expired=False,
                        error=message, username=username)

        if not username or not data.password:
            return fail(_("Enter your username and password."), 400)
        user = await User.objects().where(User.username == username).first()
        if user is not None and user.locked_until and as_utc(user.locked_until) > now():
            minutes = max(1, int((as_utc(user.locked_until) - now()).total_seconds() // 60) + 1)
            return fail(_("This account is locked after too many failed logins. Try again in %(minutes)s minutes.",
                          minutes=minutes), 429)
        ok = verify_password(user.password_hash if user else _DUMMY_HASH, data.password[:1024])
        member = user is not None and user.active and await scoped(Membership).exists().where(Membership.user == user.id)
        if not (ok and member):
            if user is not None:
                user.failed_logins = (user.failed_logins or 0) + 1
                if user.failed_logins >= MAX_FAILURES:
                    user.failed_logins = 0
                    user.locked_until = now() + timedelta(minutes=LOCK_MINUTES)
                    await user.save([User.failed_logins, User.locked_until])
                    return fail(_("This account is locked after too many failed logins. Try again in %(minutes)s "
                                  "minutes.", minutes=LOCK_MINUTES), 429)
                await user.save([User.failed_logins])
            return fail(_("Wrong username or password."), 401)
        user.failed_logins = 0
        user.locked_until = None
        await user.save([User.failed_logins, User.locked_until])
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
