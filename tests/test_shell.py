"""The web shell: tenant resolution, the login page in Chinese, navigation by enabled plugins."""

import re

from tests.helpers import Browser


def nav_links(html: str) -> set[str]:
    return set(re.findall(r'data-nav="([^"]*)"', html))


async def test_login_page_is_chinese_by_default(client):
    response = await client.get("/t/luqiao/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "登录" in response.text and "用户名" in response.text and "台州市路桥区" in response.text
    assert '<html lang="zh-CN">' in response.text


async def test_language_switch_to_english(app):
    b = Browser(app)
    response = await b.get("/t/luqiao/lang/en?next=/t/luqiao/")
    assert response.status_code == 303
    page = await b.get("/t/luqiao/")
    assert "Log in" in page.text and "Username" in page.text


async def test_unknown_and_inactive_tenant_answer_404(client):
    response = await client.get("/t/nowhere/")
    assert response.status_code == 404
    assert "该租户不存在或未启用" in response.text


async def test_host_name_resolves_the_tenant(app):
    b = Browser(app, host="luqiao.localhost")
    response = await b.get("/")
    assert response.status_code == 200 and "台州市路桥区" in response.text
    await b.login("dispatcher@luqiao", "luqiao")
    home = await b.get("/")
    assert "mediation/" in nav_links(home.text)


async def test_navigation_follows_enabled_plugins(app):
    """Each module appears in the navigation of its users where the tenant enabled it, and nowhere
    else.  (The cadre module is confidential: a dispatcher does not see it, issue 7.)"""
    # (tenant, role): (links that must be there, links that must not)
    expected = {
        ("luqiao", "mediation_court"): ({"mediation/"}, {"cadre/"}),
        ("luqiao", "liaison_coordinator"): ({"liaison/"}, {"cadre/"}),
        ("luqiao", "cadre_org"): ({"cadre/"}, set()),
        ("luqiao", "dispatcher"): ({"mediation/"}, {"cadre/"}),
        ("pengjie", "liaison_coordinator"): ({"liaison/"}, {"mediation/", "cadre/"}),
        ("pengjie", "dispatcher"): (set(), {"mediation/", "cadre/"}),
        ("jiaojiang", "dispatcher"): (set(), {"mediation/", "liaison/", "cadre/"}),
        ("jiaojiang", "tenant_admin"): (set(), {"mediation/", "liaison/", "cadre/"}),
    }
    for (slug, role), (present, absent) in expected.items():
        b = Browser(app)
        response = await b.login(f"{role}@{slug}", slug)
        assert response.status_code == 303, response.text
        links = nav_links((await b.get(f"/t/{slug}/")).text)
        assert present <= links and not (absent & links), (slug, role, links)


async def test_plugin_landing_pages_and_404_where_disabled(app):
    for role, name in (("mediation_court", "mediation"), ("liaison_coordinator", "liaison"), ("cadre_org", "cadre")):
        b = Browser(app)
        await b.login(f"{role}@luqiao", "luqiao")
        response = await b.get(f"/t/luqiao/{name}/")
        assert response.status_code == 200, (name, response.status_code)
    j = Browser(app)
    await j.login("dispatcher@jiaojiang", "jiaojiang")
    for name in ("mediation", "liaison", "cadre"):
        assert (await j.get(f"/t/jiaojiang/{name}/")).status_code == 404


async def test_security_headers(client):
    response = await client.get("/t/luqiao/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]
    assert "<script>" not in response.text and " onclick=" not in response.text


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
