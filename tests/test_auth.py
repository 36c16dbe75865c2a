"""Identity: login, lockout, sessions bound to one tenant, expiry, logout, CSRF, body size."""

from datetime import timedelta

from core.clock import now
from core.tables import Session, User
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant
from tenants.scope import scoped


async def _reset_lock(username: str):
    await User.update({User.failed_logins: 0, User.locked_until: None}).where(User.username == username)


async def test_login_sets_a_safe_session_cookie_and_logout_ends_it(app):
    b = Browser(app)
    response = await b.login("handler@luqiao", "luqiao")
    assert response.status_code == 303 and response.headers["location"] == "/t/luqiao/"
    cookie = [h for h in response.headers.get_list("set-cookie") if h.startswith("qqs_luqiao=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("samesite", "SameSite")
    home = await b.get("/t/luqiao/")
    assert "欢迎" in home.text
    out = await b.post("/t/luqiao/logout")
    assert out.status_code == 303
    again = await b.get("/t/luqiao/profile/")
    assert again.status_code == 303 and "/t/luqiao/login" in again.headers["location"]


async def test_wrong_password_gets_401_with_a_clear_message(app):
    b = Browser(app)
    response = await b.login("handler@jiaojiang", "jiaojiang", password="wrong")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    await _reset_lock("handler@jiaojiang")


async def test_five_failures_lock_the_account_for_15_minutes(app):
    username = "reviewer@jiaojiang"
    b = Browser(app)
    for _ in range(4):
        assert (await b.login(username, "jiaojiang", password="nope")).status_code == 401
    fifth = await b.login(username, "jiaojiang", password="nope")
    assert fifth.status_code == 429 and "账号已锁定" in fifth.text and "15" in fifth.text
    # Even the right password is refused while locked.
    locked = await b.login(username, "jiaojiang")
    assert locked.status_code == 429
    user = await User.objects().where(User.username == username).first()
    assert user.locked_until is not None
    # After the lock runs out, the right password works again.
    await User.update({User.locked_until: now() - timedelta(seconds=1)}).where(User.username == username)
    assert (await b.login(username, "jiaojiang")).status_code == 303


async def test_a_session_of_one_tenant_is_not_a_login_on_another(app):
    b = Browser(app)
    await b.login("dispatcher@luqiao", "luqiao")
    response = await b.get("/t/jiaojiang/profile/")
    assert response.status_code == 303 and "/t/jiaojiang/login" in response.headers["location"]
    # and a user without membership cannot log in there at all
    other = await b.login("dispatcher@luqiao", "jiaojiang")
    assert other.status_code == 401
    await _reset_lock("dispatcher@luqiao")


async def test_expired_session_redirects_to_login_with_a_message(app):
    b = Browser(app)
    await b.login("leader@luqiao", "luqiao")
    async with in_tenant("luqiao"):
        user = await User.select(User.id).where(User.username == "leader@luqiao").first()
        await scoped(Session).update({Session.expires_at: now() - timedelta(minutes=1)}).where(
            Session.user == user["id"])
    response = await b.get("/t/luqiao/profile/")
    assert response.status_code == 303 and "expired=1" in response.headers["location"]
    page = await b.get(response.headers["location"])
    assert "登录已过期" in page.text


async def test_missing_csrf_token_is_refused_and_changes_nothing(app):
    b = Browser(app)
    await b.login("handler@luqiao", "luqiao")
    async with in_tenant("luqiao"):
        from core.tables import ApiToken

        before = await scoped(ApiToken).count()
    response = await b.post("/t/luqiao/profile/tokens", {"name": "no-csrf"}, csrf=False)
    assert response.status_code == 403
    assert "安全令牌" in response.text
    async with in_tenant("luqiao"):
        assert await scoped(ApiToken).count() == before


async def test_oversized_body_gets_413(app):
    b = Browser(app)
    await b.login("handler@luqiao", "luqiao")
    big = "x" * (26 * 1024 * 1024)
    response = await b.post("/t/luqiao/profile/tokens", {"name": big})
    assert response.status_code == 413


async def test_login_form_with_missing_fields_is_400(app):
    b = Browser(app)
    await b.get("/t/luqiao/login")
    response = await b.post("/t/luqiao/login", {"username": "", "password": ""})
    assert response.status_code == 400 and "请输入用户名和密码" in response.text


async def test_open_redirect_after_login_is_refused(app):
    b = Browser(app)
    await b.get("/t/luqiao/login")
    response = await b.post("/t/luqiao/login", {"username": "company@luqiao", "password": DEMO_PASSWORD,
                                                "next": "https://evil.example/"})
    assert response.headers["location"] == "/t/luqiao/"
