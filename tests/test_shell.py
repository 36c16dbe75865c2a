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


async def _court_of_mediation() -> str:
    """The demo court, whose clerk (`mediation_court@<slug>`) runs court mediation."""
    return "luqiao-court"


async def test_navigation_follows_enabled_plugins(app):
    """Each module appears in the navigation of its users where the tenant enabled it, and nowhere
    else: a module's menu only for its roles (a handler does not see mediation; the cadre module is
    confidential)."""
    court = await _court_of_mediation()
    # (tenant, role): (links that must be there, links that must not)
    expected = {
        (court, "mediation_court"): ({"mediation/"}, {"cadre/"}),
        ("luqiao", "liaison_coordinator"): ({"liaison/"}, {"cadre/", "mediation/"}),
        ("luqiao", "cadre_org"): ({"cadre/"}, {"mediation/"}),
        ("luqiao", "dispatcher"): ({"cases/"}, {"cadre/", "liaison/"}),  # court referrals are its own work
        ("luqiao", "handler"): ({"cases/?mine=1"}, {"mediation/", "cadre/"}),
        ("luqiao", "tenant_admin"): (set(), {"mediation/", "cadre/"}),
        ("pengjie", "liaison_coordinator"): ({"liaison/"}, {"mediation/", "cadre/"}),
        ("pengjie", "dispatcher"): (set(), {"mediation/", "cadre/"}),
        ("jiaojiang", "dispatcher"): ({"cases/"}, {"liaison/", "cadre/"}),
        ("jiaojiang", "tenant_admin"): (set(), {"mediation/", "liaison/", "cadre/"}),
    }
    for (slug, role), (present, absent) in expected.items():
        b = Browser(app)
        response = await b.login(f"{role}@{slug}", slug)
        assert response.status_code == 303, response.text
        links = nav_links((await b.get(f"/t/{slug}/")).text)
        assert present <= links and not (absent & links), (slug, role, links)


async def test_a_module_menu_appears_with_one_of_its_roles(app):
    """The court's administrator does not see mediation in the menu until given a mediation role."""
    from core.tables import Membership, User
    from tenants.scope import scoped
    from tests.helpers import in_tenant

    court = await _court_of_mediation()
    b = Browser(app)
    assert (await b.login(f"tenant_admin@{court}", court)).status_code == 303
    assert "mediation/" not in nav_links((await b.get(f"/t/{court}/")).text)
    async with in_tenant(court):
        user = await User.select(User.id).where(User.username == f"tenant_admin@{court}").first()
        extra = await scoped(Membership).add(user=user["id"], role="mediation_mediator", department=None, section=None)
    try:
        assert "mediation/" in nav_links((await b.get(f"/t/{court}/")).text)
    finally:
        async with in_tenant(court):
            await scoped(Membership).delete().where(Membership.id == extra.id)
    assert "mediation/" not in nav_links((await b.get(f"/t/{court}/")).text)


async def test_plugin_landing_pages_and_404_where_disabled(app):
    court = await _court_of_mediation()
    for slug, role, name in ((court, "mediation_court", "mediation"), ("luqiao", "liaison_coordinator", "liaison"),
                             ("luqiao", "cadre_org", "cadre")):
        b = Browser(app)
        await b.login(f"{role}@{slug}", slug)
        response = await b.get(f"/t/{slug}/{name}/")
        assert response.status_code == 200, (name, response.status_code)
    j = Browser(app)
    await j.login("dispatcher@jiaojiang", "jiaojiang")
    for name in ("liaison", "cadre"):  # jiaojiang enables only court referrals (mediation)
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


async def test_the_public_page_is_linked_from_the_portal_and_the_login_page(client):
    assert 'href="/t/luqiao/public/"' in (await client.get("/")).text
    assert 'href="/t/luqiao/public/"' in (await client.get("/t/luqiao/login")).text
    assert (await client.get("/t/luqiao/public/")).status_code == 200


async def test_in_demo_mode_the_login_page_names_the_demo_accounts(app, client, monkeypatch):
    """`qinqing serve --demo-banner` (QINQING_DEMO=1): each role's account with its role in the
    reader's language, the company accounts and the password; never outside demo mode."""
    from tests.helpers import DEMO_PASSWORD

    assert "data-demo-hint" not in (await client.get("/t/luqiao/login")).text
    monkeypatch.setenv("QINQING_DEMO", "1")
    page = (await client.get("/t/luqiao/login")).text
    accounts = dict(re.findall(r'data-demo-account="([^"]+)"><td><code>[^<]*</code></td><td>([^<]*)</td>', page))
    assert accounts["dispatcher@luqiao"] == "调度员" and accounts["company@luqiao"] == "企业"
    assert {"handler@luqiao", "section_head@luqiao", "liaison_coordinator@luqiao", "cadre_org@luqiao"} <= set(accounts)
    assert all(label and "_" not in label for label in accounts.values()), accounts
    assert "company60@luqiao" in page and f"<code data-demo-password>{DEMO_PASSWORD}</code>" in page
    b = Browser(app)
    assert (await b.login("company02@luqiao", "luqiao")).status_code == 303  # a company's own account works
