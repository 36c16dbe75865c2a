"""The tenants, API tokens and login sessions each process keeps between requests
(`core.auth_cache`, PostgreSQL) are dropped as soon as the database says they changed: a token
revoked, a session ended or cut short, a user disabled, a membership removed or a tenant switched
off — by another process or by hand in the database — is refused on the very next request, though
the request before it was answered from the cache."""

from __future__ import annotations

import os

import asyncpg
import httpx
import pytest

from core import auth_cache
from core.identity import digest
from tests.helpers import Browser, token_for
from web.tenancy import session_cookie_name

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                reason="the cache and its version triggers are PostgreSQL's")


def _owner_config() -> dict:
    from core.config import get_settings
    from core.pg_logins import owner_login

    return owner_login(get_settings()).asyncpg_config()


async def _elsewhere(sql: str, *args) -> None:
    """A change committed by someone else: a connection of its own, as the database's owner."""
    conn = await asyncpg.connect(**_owner_config())
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def _me(app, token: str, slug: str = "luqiao") -> int:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await client.get(f"/t/{slug}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def _kept(token: str, kind: str = "token") -> bool:
    return any(key[1:] == (kind, digest(token)) for key in auth_cache._entries)


async def _signed_in(app, username: str = "dispatcher@luqiao") -> Browser:
    browser = Browser(app)
    await browser.login(username, "luqiao")
    return browser


def _session_key(browser: Browser) -> str:
    return browser.client.cookies[session_cookie_name("luqiao")]


async def _home(browser: Browser) -> int:
    """200 for the signed-in console, 303 to the login page otherwise."""
    return (await browser.get("/t/luqiao/cases", follow_redirects=False)).status_code


async def test_a_session_ended_by_another_process_is_signed_out_at_once(app):
    from web.app import create_app

    browser = await _signed_in(app)
    try:
        assert await _home(browser) == 200
        assert _kept(_session_key(browser), "session"), "the session's rows are kept after its first use"
        assert await _home(browser) == 200  # answered from the cache
        await _elsewhere("DELETE FROM web_session WHERE key_hash = $1", digest(_session_key(browser)))
        assert await _home(browser) == 303
        other = Browser(create_app(embedded_worker=False))
        other.client.cookies.update(browser.client.cookies)
        assert await _home(other) == 303
        await other.close()
    finally:
        await browser.close()


async def test_a_session_cut_short_in_the_database_is_expired_at_once(app):
    browser = await _signed_in(app)
    try:
        assert await _home(browser) == 200
        assert await _home(browser) == 200
        await _elsewhere("UPDATE web_session SET expires_at = now() - interval '1 minute' WHERE key_hash = $1",
                         digest(_session_key(browser)))
        assert await _home(browser) == 303
    finally:
        await browser.close()


async def test_signing_out_ends_the_kept_session_on_every_process(app):
    from web.app import create_app

    browser = await _signed_in(app)
    other = Browser(create_app(embedded_worker=False))
    try:
        other.client.cookies.update(browser.client.cookies)
        assert await _home(other) == 200 and await _home(browser) == 200
        await browser.get("/t/luqiao/")  # the page the logout form is on
        assert (await browser.post("/t/luqiao/logout", {})).status_code in (200, 303)
        assert await _home(other) == 303
    finally:
        await browser.close()
        await other.close()


async def test_signing_in_leaves_the_version_alone(app):
    """Every login writes a session: it must not empty every process's cache."""
    conn = await asyncpg.connect(**_owner_config())
    try:
        before = await conn.fetchval("SELECT auth_version FROM tenant WHERE slug = 'luqiao'")
        browser = await _signed_in(app)
        await browser.close()
        assert await conn.fetchval("SELECT auth_version FROM tenant WHERE slug = 'luqiao'") == before
    finally:
        await conn.close()


async def test_a_token_revoked_by_another_process_is_refused_at_once(app):
    from web.app import create_app

    other = create_app(embedded_worker=False)  # a second app instance, as another process would run
    token = await token_for("company@luqiao", "luqiao")
    assert await _me(app, token) == 200
    assert _kept(token), "the token's rows are kept after its first use"
    assert await _me(app, token) == 200  # answered from the cache
    await _elsewhere("UPDATE api_token SET revoked_at = now() WHERE token_hash = $1", digest(token))
    assert await _me(app, token) == 401
    assert await _me(other, token) == 401


async def test_a_token_revoked_through_the_api_is_refused_at_once(app):
    token = await token_for("company@luqiao", "luqiao")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/t/luqiao/api/v1/me", headers=headers)).status_code == 200
        mine = (await client.get("/t/luqiao/api/v1/tokens", headers=headers)).json()
        assert (await client.delete(f"/t/luqiao/api/v1/tokens/{mine[-1]['id']}", headers=headers)).status_code == 204
        assert (await client.get("/t/luqiao/api/v1/me", headers=headers)).status_code == 401


async def test_a_user_disabled_in_the_database_is_refused_at_once(app):
    token = await token_for("company@luqiao", "luqiao")
    assert await _me(app, token) == 200
    try:
        await _elsewhere("UPDATE app_user SET active = false WHERE username = 'company@luqiao'")
        assert await _me(app, token) == 401
    finally:
        await _elsewhere("UPDATE app_user SET active = true WHERE username = 'company@luqiao'")
    assert await _me(app, token) == 200


async def test_a_membership_removed_in_the_database_is_refused_at_once(app):
    token = await token_for("company@luqiao", "luqiao")
    assert await _me(app, token) == 200
    conn = await asyncpg.connect(**_owner_config())
    try:
        rows = await conn.fetch("""SELECT m.* FROM membership m JOIN app_user u ON u.id = m."user"
                                   WHERE u.username = 'company@luqiao'""")
        assert rows
        await conn.execute("DELETE FROM membership WHERE id = ANY($1::int[])", [r["id"] for r in rows])
        try:
            assert await _me(app, token) == 401
        finally:
            columns = list(rows[0].keys())
            names = ", ".join('"' + c + '"' for c in columns)
            marks = ", ".join(f"${i + 1}" for i in range(len(columns)))
            await conn.executemany(f"INSERT INTO membership ({names}) VALUES ({marks})", [tuple(r) for r in rows])
    finally:
        await conn.close()
    assert await _me(app, token) == 200


async def test_a_tenant_switched_off_in_the_database_answers_404_at_once(app):
    token = await token_for("company@luqiao", "luqiao")
    assert await _me(app, token) == 200
    assert any(slug == "luqiao" for slug in auth_cache._tenants)
    try:
        await _elsewhere("UPDATE tenant SET active = false WHERE slug = 'luqiao'")
        assert await _me(app, token) == 404
    finally:
        await _elsewhere("UPDATE tenant SET active = true WHERE slug = 'luqiao'")
    assert await _me(app, token) == 200


async def test_bookkeeping_leaves_the_version_alone(app):
    """A token's "last used" time is written often: it must not empty every process's cache."""
    token = await token_for("company@luqiao", "luqiao")
    conn = await asyncpg.connect(**_owner_config())
    try:
        before = await conn.fetchval("SELECT auth_version FROM tenant WHERE slug = 'luqiao'")
        await conn.execute("UPDATE api_token SET last_used_at = now() WHERE token_hash = $1", digest(token))
        assert await conn.fetchval("SELECT auth_version FROM tenant WHERE slug = 'luqiao'") == before
    finally:
        await conn.close()


async def test_a_kept_tenant_is_not_read_again_but_checked_by_each_begin(app, monkeypatch):
    """The tenant read is saved while the version holds; a change made elsewhere is seen by the
    very next request all the same (its BEGIN's check fails, and the tenant is read afresh)."""
    reads = []
    read = auth_cache._tenant_row

    async def counted(engine, slug):
        reads.append(slug)
        return await read(engine, slug)

    monkeypatch.setattr(auth_cache, "_tenant_row", counted)
    browser = await _signed_in(app)
    try:
        assert await _home(browser) == 200
        before = len(reads)
        page = await browser.get("/t/luqiao/cases")
        assert len(reads) == before and page.status_code == 200, "a kept tenant is not read again"
        try:
            await _elsewhere("UPDATE tenant SET name_zh = name_zh || '（新）' WHERE slug = 'luqiao'")
            page = await browser.get("/t/luqiao/cases")
            assert page.status_code == 200 and "（新）" in page.text
            assert len(reads) == before + 1
        finally:
            await _elsewhere("UPDATE tenant SET name_zh = replace(name_zh, '（新）', '') WHERE slug = 'luqiao'")
        assert "（新）" not in (await browser.get("/t/luqiao/cases")).text
    finally:
        await browser.close()


async def test_a_module_switched_on_elsewhere_is_served_at_once(app):
    """A module's page answered 404 from a kept tenant is checked against the database first."""
    conn = await asyncpg.connect(**_owner_config())
    try:
        plugins = await conn.fetchval("SELECT plugins FROM tenant WHERE slug = 'luqiao'")
        assert "mediation" in plugins
        browser = await _signed_in(app)
        try:
            assert (await browser.get("/t/luqiao/mediation/", follow_redirects=False)).status_code != 404
            await conn.execute("""UPDATE tenant SET plugins = replace(plugins, '"mediation"', '"x-off"')
                                  WHERE slug = 'luqiao'""")
            assert (await browser.get("/t/luqiao/mediation/", follow_redirects=False)).status_code == 404
            assert (await browser.get("/t/luqiao/mediation/", follow_redirects=False)).status_code == 404
            await conn.execute("UPDATE tenant SET plugins = $1 WHERE slug = 'luqiao'", plugins)
            assert (await browser.get("/t/luqiao/mediation/", follow_redirects=False)).status_code != 404
        finally:
            await browser.close()
    finally:
        await conn.execute("UPDATE tenant SET plugins = $1 WHERE slug = 'luqiao'", plugins)
        await conn.close()
