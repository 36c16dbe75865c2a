"""The side navigation is rendered once per language, tenant, set of items and current item and kept
(web.rendering.sidenav): what a user sees must still be theirs, in their language, at once — a
second user, a language switch, a role granted, another page or another tenant never shows what
was kept for someone else."""

import re
import uuid

from core.i18n import current_locale
from tenants.onboarding import ensure_membership, ensure_user
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant

ITEM = re.compile(r'<a class="nav-link( active)?" href="[^"]*" data-nav="([^"]*)"[^>]*>.*?<span>([^<]*)</span>')


def menu(html: str) -> list[tuple[str, str, bool]]:
    """(href, label, current) of each side navigation item on the page."""
    nav = html.split('<nav id="sidenav"', 1)[1].split("</nav>", 1)[0]
    return [(href, label, bool(active)) for active, href, label in ITEM.findall(nav)]


async def browser(app, username: str, slug: str = "luqiao") -> Browser:
    b = Browser(app)
    response = await b.login(username, slug)
    assert response.status_code in (302, 303), response.text[:300]
    return b


async def test_each_user_sees_their_own_items_in_their_language_at_once(app):
    dispatcher = await browser(app, "dispatcher@luqiao")
    handler = await browser(app, "handler@luqiao")
    for _ in range(2):  # the second time from what was kept
        seen = menu((await dispatcher.get("/t/luqiao/cases/")).text)
        assert ("cases/", "问题调度台", True) in seen
        assert ("", "我的待办", False) in seen
        theirs = menu((await handler.get("/t/luqiao/cases/?mine=1")).text)
        assert "问题调度台" not in [label for _, label, _ in theirs]
        assert [href for href, _, current in theirs if current] == ["cases/?mine=1"]

    await dispatcher.get("/t/luqiao/lang/en?next=/t/luqiao/")
    english = menu((await dispatcher.get("/t/luqiao/cases/")).text)
    assert ("cases/", "Dispatch console", True) in english
    assert [label for _, label, _ in english if not label.isascii()] == []
    assert menu((await handler.get("/t/luqiao/cases/?mine=1")).text) == theirs  # still in Chinese

    home = menu((await dispatcher.get("/t/luqiao/")).text)  # another page: another current item
    assert [href for href, _, current in home if current] == [""]


async def test_a_role_granted_shows_its_items_on_the_next_page(app):
    username = f"nav{uuid.uuid4().hex[:8]}@luqiao"
    async with in_tenant("luqiao"):
        user_id, _ = await ensure_user(username, "测试导航", DEMO_PASSWORD)
        await ensure_membership(user_id, "handler", None, None)
    b = await browser(app, username)
    before = menu((await b.get("/t/luqiao/")).text)
    assert "问题调度台" not in [label for _, label, _ in before]
    async with in_tenant("luqiao"):
        await ensure_membership(user_id, "dispatcher", None, None)
    after = menu((await b.get("/t/luqiao/")).text)
    assert "问题调度台" in [label for _, label, _ in after]


async def test_nothing_kept_crosses_tenants(app):
    """Two tenants' menus differ in their root (every href) and their name, even for the same role."""
    luqiao = await browser(app, "dispatcher@luqiao")
    other = await browser(app, "dispatcher@pengjie", "pengjie")
    ours = (await luqiao.get("/t/luqiao/cases/")).text
    theirs = (await other.get("/t/pengjie/cases/")).text
    ours_nav = ours.split('<nav id="sidenav"', 1)[1].split("</nav>", 1)[0]
    theirs_nav = theirs.split('<nav id="sidenav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/t/luqiao/' in ours_nav and "/t/pengjie/" not in ours_nav
    assert 'href="/t/pengjie/' in theirs_nav and "/t/luqiao/" not in theirs_nav


def test_the_kept_menu_is_the_menu_rendered_afresh():
    """The same inputs give the same HTML whether kept or rendered anew, and each language its own
    (the template reads only what the cache is keyed on)."""
    from core.contrib import NavItem
    from core.plugins import get_plugin_manager
    from web.app import _jinja_env
    from web.rendering import _kept_sidenav, _render_sidenav, navigation

    env = _jinja_env(get_plugin_manager())
    items = [NavItem("My work", "", order=0, group="work", icon="house"),
             NavItem("Dispatch console", "cases/", permission="console.view", order=10, group="work", icon="inbox")]
    shown = {}
    for locale in ("zh_CN", "en", "zh_CN"):
        token = current_locale.set(locale)
        try:
            groups, _ = navigation(items, "cases", "")
            key = tuple((k, label, tuple((i.href, i.label, icon, current) for i, icon, current in entries))
                        for k, label, entries in groups)
            shown[locale] = _kept_sidenav(env, locale, "/t/x/", "X", True, key)
            assert shown[locale] == _render_sidenav(env, locale, "/t/x/", "X", True, key)
        finally:
            current_locale.reset(token)
    assert "问题调度台" in shown["zh_CN"] and "Dispatch console" in shown["en"]
    assert 'aria-current="page"' in shown["en"] and 'href="/t/x/cases/"' in shown["en"]
