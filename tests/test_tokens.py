"""API tokens: from the CLI and the profile page, bound to one tenant, revocable; JSON errors."""

import subprocess
import sys

from tests.conftest import ROOT
from tests.helpers import Browser, token_for


async def test_token_works_only_on_its_tenant(client):
    token = await token_for("dispatcher@luqiao", "luqiao")
    me = await client.get("/t/luqiao/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["username"] == "dispatcher@luqiao" and "dispatcher" in me.json()["roles"]
    other = await client.get("/t/jiaojiang/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert other.status_code == 401
    body = other.json()
    assert body["code"] == "invalid_token" and "令牌" in body["message"]


async def test_api_without_token_is_401_json(client):
    response = await client.get("/t/luqiao/api/v1/me")
    assert response.status_code == 401 and response.json()["code"] == "unauthorized"


async def test_api_ignores_session_cookies(app):
    b = Browser(app)
    await b.login("dispatcher@luqiao", "luqiao")
    response = await b.client.get("/t/luqiao/api/v1/me")
    assert response.status_code == 401


async def test_create_and_revoke_token_through_the_api(client):
    token = await token_for("handler@luqiao", "luqiao")
    auth = {"Authorization": f"Bearer {token}"}
    created = await client.post("/t/luqiao/api/v1/tokens", json={"name": "ci"}, headers=auth)
    assert created.status_code == 201
    new = created.json()
    assert (await client.get("/t/luqiao/api/v1/me", headers={"Authorization": f"Bearer {new['token']}"})).status_code == 200
    assert (await client.delete(f"/t/luqiao/api/v1/tokens/{new['id']}", headers=auth)).status_code == 204
    assert (await client.get("/t/luqiao/api/v1/me", headers={"Authorization": f"Bearer {new['token']}"})).status_code == 401
    bad = await client.post("/t/luqiao/api/v1/tokens", json={"name": ""}, headers=auth)
    assert bad.status_code == 400 and bad.json()["message"]
    malformed = await client.post("/t/luqiao/api/v1/tokens", content=b"{not json", headers=auth)
    assert malformed.status_code == 400 and malformed.json()["code"] == "bad_request"


async def test_profile_page_creates_and_revokes_tokens_with_htmx(app):
    b = Browser(app)
    await b.login("section_head@luqiao", "luqiao")
    await b.get("/t/luqiao/profile/")
    created = await b.post("/t/luqiao/profile/tokens", {"name": "laptop"}, htmx=True)
    assert created.status_code == 201 or created.status_code == 200
    assert "<html" not in created.text and "data-new-token" in created.text
    import re

    token = re.search(r"data-new-token>([^<]+)<", created.text).group(1)
    token_id = re.search(r'data-token="(\d+)">\s*<td>laptop</td>', created.text).group(1)
    assert (await b.client.get("/t/luqiao/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    revoked = await b.post(f"/t/luqiao/profile/tokens/{token_id}/revoke", htmx=True)
    assert "已吊销" in revoked.text
    assert (await b.client.get("/t/luqiao/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


def test_cli_prints_a_working_token(app):
    done = subprocess.run([sys.executable, "-m", "cli", "user", "token", "company@luqiao", "--tenant", "luqiao"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    token = done.stdout.strip()
    assert token.startswith("qq_")
    import anyio
    import httpx

    async def check():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            return await c.get("/t/luqiao/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert anyio.run(check).json()["username"] == "company@luqiao"


async def test_last_used_is_kept_to_five_minutes_without_a_write_per_request(client, monkeypatch):
    """Five minutes by the process's own count: on PostgreSQL the token's rows, "last used"
    with them, are kept between requests (`core.auth_cache`), so the time moves on here rather
    than the stored value back."""
    from datetime import timedelta

    import core.identity
    from core.clock import now
    from core.identity import digest
    from core.tables import ApiToken
    from tests.helpers import in_tenant

    token = await token_for("inspector@luqiao", "luqiao")
    auth = {"Authorization": f"Bearer {token}"}

    async def last_used():
        async with in_tenant("luqiao"):
            return (await ApiToken.select(ApiToken.last_used_at).where(
                ApiToken.token_hash == digest(token)).first())["last_used_at"]

    assert await last_used() is None
    assert (await client.get("/t/luqiao/api/v1/me", headers=auth)).status_code == 200
    first = await last_used()
    assert first is not None and abs((now() - first).total_seconds()) < 60
    assert (await client.get("/t/luqiao/api/v1/me", headers=auth)).status_code == 200
    assert await last_used() == first  # a second request within five minutes writes nothing
    later = now() + timedelta(minutes=6)
    monkeypatch.setattr(core.identity, "now", lambda: later)
    assert (await client.get("/t/luqiao/api/v1/me", headers=auth)).status_code == 200
    assert await last_used() > first


async def test_a_token_whose_requests_fail_is_still_seen_used(client):
    """Its use is written after the request, in a transaction of its own: a 4xx (rolled back)
    does not undo it, and a read request never writes inside its own transaction."""
    from core.identity import digest
    from core.tables import ApiToken
    from tests.helpers import in_tenant

    token = await token_for("inspector@luqiao", "luqiao")
    response = await client.get("/t/luqiao/api/v1/cases/999999999", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
    async with in_tenant("luqiao"):
        row = await ApiToken.select(ApiToken.last_used_at).where(ApiToken.token_hash == digest(token)).first()
    assert row["last_used_at"] is not None
