"""Identity: login, lockout, sessions bound to one tenant, expiry, logout, CSRF, body size."""

import asyncio
import re
from datetime import timedelta

import pytest

from core.clock import as_utc, now
from core.tables import LoginThrottle, Session, User
from tenants.scope import scoped
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant


async def _reset_lock(username: str):
    await LoginThrottle.delete().where(LoginThrottle.username == username)


async def _throttle(username: str) -> dict | None:
    return await LoginThrottle.select().where(LoginThrottle.username == username).first()


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
    assert as_utc((await _throttle(username))["locked_until"]) > now() + timedelta(minutes=14)
    # After the lock runs out, the right password works again.
    await LoginThrottle.update({LoginThrottle.locked_until: now() - timedelta(seconds=1)}).where(
        LoginThrottle.username == username)
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


# -- the throttle under parallel guesses ---------------------------------------------------------

LOGINS = {  # where: (login page, form target, user, password)
    "tenant": ("/t/luqiao/login", "/t/luqiao/login", "dept_head@luqiao", DEMO_PASSWORD),
    "console": ("/system/login", "/system/login", "system_admin@jiaojiang", DEMO_PASSWORD),
}


@pytest.mark.parametrize("where", sorted(LOGINS))
async def test_100_parallel_guesses_count_at_most_five_failures_and_lock_out_the_right_password(app, where):
    """99 wrong guesses in parallel, and the right password once five of them have been answered
    while the rest are still in flight: at most four are told "wrong password" (the fifth failure
    locks), none is a 5xx, and the right password is refused while locked."""
    from core.db import close_pool, start_pool

    page, target, username, password = LOGINS[where]
    await _reset_lock(username)
    await start_pool()  # as the server does (PostgreSQL: 100 requests share ten connections)
    try:
        browsers = [Browser(app) for _ in range(100)]
        await asyncio.gather(*(b.get(page) for b in browsers))
        guesses = [asyncio.create_task(b.post(target, {"username": username, "password": f"guess-{i}"}))
                   for i, b in enumerate(browsers[:99])]
        pending, answered = set(guesses), 0
        while answered < 5:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            answered += len(done)
        right = await browsers[99].post(target, {"username": username, "password": password})
        answers = [guess.status_code for guess in await asyncio.gather(*guesses)]
    finally:
        await close_pool()
    assert set(answers) <= {401, 429}, answers
    assert answers.count(401) <= 4, f"{answers.count(401)} wrong guesses answered 401, not the lock"
    assert right.status_code == 429 and "data-error-message" in right.text
    row = await _throttle(username)
    assert row["failures"] < 5 and as_utc(row["locked_until"]) > now()
    # and still refused afterwards, one at a time
    assert (await browsers[99].post(target, {"username": username, "password": password})).status_code == 429
    await _reset_lock(username)


# -- unknown and known usernames -----------------------------------------------------------------

def _error(response) -> str:
    match = re.search(r"data-error-message>([^<]*)<", response.text)
    return match.group(1) if match else ""


@pytest.mark.parametrize("where", sorted(LOGINS))
async def test_an_unknown_username_gets_the_same_answers_as_a_known_one(app, where, monkeypatch):
    import core.identity

    page, target, _, _ = LOGINS[where]
    known, unknown = "reviewer@luqiao", f"nobody-{where}@luqiao"
    verified = []
    real_verify = core.identity.verify_password
    monkeypatch.setattr(core.identity, "verify_password", lambda h, p: verified.append(h) or real_verify(h, p))
    answers = {}
    for username in (known, unknown):
        await _reset_lock(username)
        b = Browser(app)
        await b.get(page)
        responses = [await b.post(target, {"username": username, "password": "not-the-password"}) for _ in range(7)]
        answers[username] = [(r.status_code, _error(r)) for r in responses]
        await _reset_lock(username)
    assert answers[known] == answers[unknown]
    assert [status for status, _ in answers[known]] == [401] * 4 + [429] * 3
    # an unknown name costs an argon2 check like a known one (five checks each; locked answers none)
    assert len(verified) == 10 and all(h.startswith("$argon2") for h in verified)


# -- CSRF tokens bound to the session ------------------------------------------------------------

async def _token_count() -> int:
    from core.tables import ApiToken

    async with in_tenant("luqiao"):
        return await scoped(ApiToken).count()


async def test_a_csrf_token_of_one_session_is_refused_on_another(app):
    a, b = Browser(app), Browser(app)
    assert (await a.login("dispatcher@luqiao", "luqiao")).status_code == 303
    assert (await b.login("handler@luqiao", "luqiao")).status_code == 303
    await a.get("/t/luqiao/profile/")
    await b.get("/t/luqiao/profile/")
    stolen, nonce = a.token_for("/t/luqiao/"), a.client.cookies.get("csrftoken")
    assert stolen and stolen != b.token_for("/t/luqiao/")
    before = await _token_count()
    # A's token (with A's pre-session cookie planted beside it, as a sibling subdomain could) on B's session
    b.client.cookies.set("csrftoken", nonce, domain="testserver.local", path="/")
    refused = await b.client.post("/t/luqiao/profile/tokens", data={"_csrf_token": stolen, "name": "stolen"})
    assert refused.status_code == 403 and "安全令牌" in refused.text
    refused = await b.client.post("/t/luqiao/profile/tokens", data={"name": "stolen-htmx"},
                                  headers={"X-CSRFToken": stolen, "HX-Request": "true"})
    assert refused.status_code == 403
    assert await _token_count() == before
    # A's token still works for A
    assert (await a.post("/t/luqiao/profile/tokens", {"name": "own"})).status_code in (200, 303)
    assert await _token_count() == before + 1


async def test_the_anonymous_token_from_before_login_is_refused_after_login(app):
    b = Browser(app)
    await b.get("/t/luqiao/login")
    anonymous = b.token_for("/t/luqiao/")
    assert (await b.login("leader@luqiao", "luqiao")).status_code == 303
    assert b.token_for("/t/luqiao/") != anonymous
    before = await _token_count()
    refused = await b.client.post("/t/luqiao/profile/tokens", data={"_csrf_token": anonymous, "name": "old"})
    assert refused.status_code == 403 and await _token_count() == before


async def test_the_login_forms_need_their_pre_session_token(app):
    for page in ("/t/luqiao/login", "/system/login"):
        b, other = Browser(app), Browser(app)
        await b.get(page)
        await other.get(page)
        form = {"username": "leader@luqiao", "password": DEMO_PASSWORD}
        assert (await b.post(page, form, csrf=False)).status_code == 403
        # another visitor's token does not fit this visitor's pre-session cookie
        assert (await b.client.post(page, data={**form, "_csrf_token": other.token_for(page)})).status_code == 403
