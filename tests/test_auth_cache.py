"""The tenants and API tokens each process keeps between requests (`core.auth_cache`, PostgreSQL)
are dropped as soon as the database says they changed: a token revoked, a user disabled, a
membership removed or a tenant switched off — by another process or by hand in the database —
is refused on the very next request, though the request before it was answered from the cache."""

from __future__ import annotations

import os

import asyncpg
import httpx
import pytest

from core import auth_cache
from core.identity import digest
from tests.helpers import token_for

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


def _kept(token: str) -> bool:
    return any(token_hash == digest(token) for _, token_hash in auth_cache._tokens)


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
