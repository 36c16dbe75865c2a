"""The side navigation's counts (侧栏待办数): each item that leads to a work queue shows the count
of what waits there — the very number the home page and the API report — none when nothing waits,
and the count in words for screen readers; a step moves them."""

import re

import pytest

from core.cases.work_queue import QueueCount
from core.contrib import NavItem
from tests.helpers import Browser, token_for
from tests.test_work_queue import api_queues, home_queues, login, submit, version_of

# role (at Luqiao unless "@<slug>"): {nav item href: the queue whose count it shows}
EXPECTED = {
    "dispatcher": {"cases/": "core.to_dispatch"},
    "handler": {"cases/?mine=1": "core.to_accept"},
    "section_head": {"signoffs/": "core.to_sign"},
    "leader": {"signoffs/": "core.to_sign", "cases/?mine=1": "core.extensions"},
    "company": {"cases/": "core.to_rate", "liaison/inbox": "liaison.messages"},
    "reviewer": {"reviews/": "core.reviews_requested"},
    "inspector": {"inspections/": "inspections.open"},
    "mediation_judge@luqiao-court": {"mediation/": "mediation.settled"},
}


NAV = re.compile(r'data-nav="([^"]*)"')


async def nav_counts(b: Browser, slug: str = "luqiao") -> dict[str, dict]:
    response = await b.get(f"/t/{slug}/nav/counts")
    assert response.status_code == 200, response.text[:300]
    return {item["href"]: item for item in response.json()["items"]}


@pytest.mark.parametrize("account", EXPECTED)
async def test_each_item_shows_the_first_queue_waiting_for_the_user_behind_it(app, client, account):
    """Whatever the demo's counts: the item that leads to a queue's list carries that queue's count."""
    from web.rendering import nav_counts as assign

    role, _, slug = account.partition("@")
    slug = slug or "luqiao"
    b = await login(app, role, slug)
    page = (await b.get(f"/t/{slug}/")).text
    menu = page.split('id="sidenav"', 1)[1].split("</nav>", 1)[0]
    items = [NavItem("item", href.replace("&amp;", "&"), group="work") for href in NAV.findall(menu)]
    token = await token_for(f"{role}@{slug}", slug)
    api = (await client.get(f"/t/{slug}/api/v1/me/queue", headers={"Authorization": f"Bearer {token}"})).json()
    queues = [QueueCount(q["key"], q["label"], q["href"], 1, q["mine"]) for q in api]
    assert {href: q.key for href, q in assign(items, queues).items()} == EXPECTED[account]


@pytest.mark.parametrize("account", EXPECTED)
async def test_the_navigation_counts_are_the_home_pages_and_the_apis(app, client, account):
    role, _, slug = account.partition("@")
    slug = slug or "luqiao"
    b = await login(app, role, slug)
    home, _ = await home_queues(b, slug)
    api = await api_queues(client, role, slug)
    shown = await nav_counts(b, slug)
    expected = {href: key for href, key in EXPECTED[account].items() if api[key]}
    assert {href: item["queue"] for href, item in shown.items()} == expected, (role, api)
    page = (await b.get(f"/t/{slug}/")).text
    for href, item in shown.items():
        assert item["count"] == api[item["queue"]] == home[item["queue"]] > 0
        assert f'data-nav="{href}"' in page.replace("&amp;", "&"), "the badge belongs to an item of the menu"
        assert str(item["count"]) in item["text"].replace(",", "") and item["label"] in item["text"]
    assert 'data-nav-counts-url="/t/%s/nav/counts"' % slug in page


async def test_dispatching_moves_the_dispatchers_and_the_handlers_counts(app, client):
    company, dispatcher, handler = [await login(app, r) for r in ("company", "dispatcher", "handler")]
    case_id = await submit(company, "导航待办数测试：路面塌陷")
    before = (await nav_counts(dispatcher))["cases/"]
    assert before["count"] == (await api_queues(client, "dispatcher"))["core.to_dispatch"] > 0
    assert re.fullmatch(r"（待交办：[\d,]+ 项待办）", before["text"]), before["text"]
    to_accept = (await nav_counts(handler)).get("cases/?mine=1", {"count": 0})["count"]
    response = await dispatcher.post(f"/t/luqiao/cases/{case_id}/dispatch",
                                     {"version": await version_of(dispatcher, case_id), "department": "zgj"},
                                     htmx=True)
    assert response.status_code == 200
    after = (await nav_counts(dispatcher)).get("cases/", {"count": 0})["count"]
    assert after == before["count"] - 1 == (await api_queues(client, "dispatcher"))["core.to_dispatch"]
    accepted = (await nav_counts(handler))["cases/?mine=1"]
    assert accepted["count"] == to_accept + 1 == (await api_queues(client, "handler"))["core.to_accept"]


async def test_the_count_in_words_follows_the_language(app):
    dispatcher = await login(app, "dispatcher")
    await dispatcher.get("/t/luqiao/lang/en?next=/t/luqiao/")
    item = (await nav_counts(dispatcher))["cases/"]
    assert item["label"] == "To dispatch"
    assert re.fullmatch(r"\(To dispatch: [\d,]+ waiting\)", item["text"]), item["text"]


async def test_nothing_waiting_shows_no_badge_and_strangers_get_none(app):
    admin = await login(app, "tenant_admin")  # its queues (set-up health) have no item in the menu
    assert await nav_counts(admin) == {}
    anonymous = Browser(app)
    response = await anonymous.get("/t/luqiao/nav/counts")
    assert response.status_code in (302, 303, 401)
