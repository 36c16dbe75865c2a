"""The work queue (我的待办): for every demo role, the home page's counts are the API's, and each
queue opens a list holding exactly that many items; a new case moves the counts of the people
who act on it.  The case page's action panel offers only the steps its viewer may take, the main
one first, and confirms a submission and each step where the user is looking."""

import re

import pytest

from core.plugins import get_plugin_manager
from tests.helpers import Browser, token_for

CARD = re.compile(r'data-queue="([\w.]+)" data-count="(\d+)"')
HREF = re.compile(r'href="/t/[\w-]+/([^"]*)" data-queue="([\w.]+)"')
TOTAL = re.compile(r'data-total="(\d+)"')
CORE_ROLES = ["company", "handler", "section_head", "leader", "dept_head", "dispatcher", "reviewer", "inspector",
              "tenant_admin"]
MODULE_ROLES = ["liaison_assistant", "liaison_runner", "liaison_lead", "liaison_coordinator", "cadre_org",
                "cadre_evaluator", "cadre"]
COURT_ROLES = ["mediation_judge", "mediation_court", "mediation_mediator", "mediation_bank"]  # the court's tenant
CITY_ROLES = ["city_leader"]  # the city's tenant: its home counts the districts it oversees
PLACES = [("luqiao", r) for r in CORE_ROLES + MODULE_ROLES] + [("luqiao-court", r) for r in COURT_ROLES] + [
    ("taizhou", r) for r in CITY_ROLES]


async def login(app, role: str, slug: str = "luqiao") -> Browser:
    b = Browser(app)
    response = await b.login(f"{role}@{slug}", slug)
    assert response.status_code == 303, response.text[:300]
    return b


async def home_queues(b: Browser, slug: str = "luqiao") -> tuple[dict[str, int], dict[str, str]]:
    home = await b.get(f"/t/{slug}/")
    assert home.status_code == 200
    counts = {key: int(n) for key, n in CARD.findall(home.text)}
    hrefs = {key: href.replace("&amp;", "&") for href, key in HREF.findall(home.text)}
    assert set(hrefs) == set(counts)
    return counts, hrefs


async def api_queues(client, role: str, slug: str = "luqiao") -> dict[str, int]:
    token = await token_for(f"{role}@{slug}", slug)
    api = await client.get(f"/t/{slug}/api/v1/me/queue", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200, api.text
    return {q["key"]: q["count"] for q in api.json()}


async def list_total(b: Browser, href: str, slug: str = "luqiao") -> int:
    """How many items the list at `href` holds: its stated total (all pages), or its rows."""
    page = await b.get(f"/t/{slug}/{href}")
    assert page.status_code == 200, (href, page.status_code)
    totals = TOTAL.findall(page.text)
    if totals:
        return int(totals[0])
    assert href.startswith("mediation/"), f"{href} shows no count"
    return page.text.count('<tr data-dispute="')


def test_every_role_of_the_core_and_these_modules_is_checked():
    manager = get_plugin_manager()
    plugins = {"core", "inspections", "mediation", "liaison", "cadre"}
    roles = {k for k in manager.roles if manager.role_plugin(k) in plugins and k != "system_admin"}
    assert roles == {role for _, role in PLACES}


@pytest.mark.parametrize("slug,role", PLACES)
async def test_home_counts_equal_the_api_and_the_linked_list(app, client, slug, role):
    b = await login(app, role, slug)
    counts, hrefs = await home_queues(b, slug)
    assert counts, f"{role} sees no work queue on the home page"
    assert await api_queues(client, role, slug) == counts
    for key, href in hrefs.items():
        assert await list_total(b, href, slug) == counts[key], (role, key, href)
    mine = [m for m in re.findall(r'data-mine="(\d)"', (await b.get(f"/t/{slug}/")).text)]
    assert mine == sorted(mine, reverse=True), "what waits for the user comes first"


async def submit(b: Browser, title: str) -> int:
    await b.get("/t/luqiao/cases/new")
    response = await b.client.post("/t/luqiao/cases", data={
        "_csrf_token": b.csrf, "category": "municipal", "title": title, "description": "请尽快处理。"})
    assert response.status_code == 303, response.text[:300]
    return int(response.headers["location"].rsplit("/", 1)[1])


async def version_of(b: Browser, case_id: int) -> str:
    page = await b.get(f"/t/luqiao/cases/{case_id}")
    return re.search(r'data-version="(\d+)"', page.text).group(1)


async def test_a_new_case_moves_the_queues_of_who_acts_on_it(app, client):
    company, dispatcher, handler = [await login(app, r) for r in ("company", "dispatcher", "handler")]
    before = await api_queues(client, "dispatcher")
    case_id = await submit(company, "厂区围墙外路灯损坏")
    after = await api_queues(client, "dispatcher")
    assert after["core.to_dispatch"] == before["core.to_dispatch"] + 1
    counts, hrefs = await home_queues(dispatcher)
    assert counts["core.to_dispatch"] == after["core.to_dispatch"]
    listed = await dispatcher.get(f"/t/luqiao/{hrefs['core.to_dispatch']}&per_page=100&sort=newest")
    assert f'/cases/{case_id}"' in listed.text
    accept_before = (await api_queues(client, "handler"))["core.to_accept"]
    response = await dispatcher.post(f"/t/luqiao/cases/{case_id}/dispatch",
                                     {"version": await version_of(dispatcher, case_id), "department": "zgj"},
                                     htmx=True)
    assert response.status_code == 200
    assert (await api_queues(client, "handler"))["core.to_accept"] == accept_before + 1
    assert (await api_queues(client, "dispatcher"))["core.to_dispatch"] == before["core.to_dispatch"]
    counts, hrefs = await home_queues(handler)
    assert f'/cases/{case_id}"' in (await handler.get(f"/t/luqiao/{hrefs['core.to_accept']}&per_page=100")).text


def steps_offered(html: str) -> list[str]:
    return re.findall(r'data-step="([\w-]+)"', html)


def main_step(html: str) -> str | None:
    found = re.search(r'<div class="primary-step[^"]*">\s*<form[^>]*data-step="([\w-]+)"', html)
    return found.group(1) if found else None


async def test_submitting_confirms_the_number_the_deadline_and_who_acts_next(app):
    company = await login(app, "company")
    case_id = await submit(company, "园区道路积水")
    page = await company.get(f"/t/luqiao/cases/{case_id}")
    number = re.search(r"<code>(\w+)</code>", page.text).group(1)
    confirmation = re.search(r"<div[^>]*data-submitted>(.*?)</div>", page.text, flags=re.S).group(1)
    assert number in confirmation and "个工作日" in confirmation and "调度员" in confirmation
    # Shown once: reloading the case page does not confirm again.
    assert "data-submitted" not in (await company.get(f"/t/luqiao/cases/{case_id}")).text
    # The company's one step here, withdrawing, is not the main button: it waits under "more actions".
    again = await company.get(f"/t/luqiao/cases/{case_id}")
    assert steps_offered(again.text) == ["withdraw"] and main_step(again.text) is None
    assert re.search(r'<details[^>]*>\s*<summary[^>]*>撤回</summary>', again.text)


async def test_the_action_panel_offers_each_viewer_only_their_steps(app):
    company, dispatcher, handler = [await login(app, r) for r in ("company", "dispatcher", "handler")]
    case_id = await submit(company, "门前人行道破损")
    page = await dispatcher.get(f"/t/luqiao/cases/{case_id}")
    assert main_step(page.text) == "dispatch" and "交办" in page.text
    assert set(steps_offered(page.text)) == {"dispatch", "escalate", "merge", "advance"}
    fragment = await dispatcher.post(f"/t/luqiao/cases/{case_id}/dispatch",
                                     {"version": await version_of(dispatcher, case_id), "department": "zgj"}, htmx=True)
    assert 'data-step-done="dispatch"' in fragment.text and "下一步：由部门承办人受理" in fragment.text
    page = await handler.get(f"/t/luqiao/cases/{case_id}")
    assert main_step(page.text) == "accept" and "受理" in page.text
    await handler.post(f"/t/luqiao/cases/{case_id}/accept", {"version": await version_of(handler, case_id)},
                       htmx=True)
    page = await handler.get(f"/t/luqiao/cases/{case_id}")
    assert main_step(page.text) == "resolve" and "答复办结" in page.text
    assert {"refuse", "extend"} <= set(steps_offered(page.text)) and "说“不”（不能办）" in page.text
    seen_by_company = await company.get(f"/t/luqiao/cases/{case_id}")
    assert not {"resolve", "refuse", "accept", "dispatch"} & set(steps_offered(seen_by_company.text))
    assert main_step(seen_by_company.text) is None and "下一步：承办人在时限内答复" in seen_by_company.text
    # A stale form answers 409 with its message; the panel has the place where the page shows it.
    stale = await handler.post(f"/t/luqiao/cases/{case_id}/resolve", {"version": "0", "reply": "已修复"}, htmx=True)
    assert stale.status_code == 409
    assert "data-flash-here" in page.text and 'id="action-panel"' in page.text


async def test_a_step_without_script_confirms_it_after_the_redirect(app):
    company, dispatcher = [await login(app, r) for r in ("company", "dispatcher")]
    case_id = await submit(company, "厂区附近垃圾清运不及时")
    response = await dispatcher.post(f"/t/luqiao/cases/{case_id}/dispatch",
                                     {"version": await version_of(dispatcher, case_id), "department": "zgj"})
    assert response.status_code == 303
    page = await dispatcher.get(response.headers["location"])
    assert 'data-step-done="dispatch"' in page.text
    assert 'data-step-done' not in (await dispatcher.get(f"/t/luqiao/cases/{case_id}")).text


async def test_the_review_docket_is_paged_with_the_waiting_first(app):
    from core.cases.tables import Review
    from core.scope import scoped
    from tests.helpers import in_tenant

    reviewer = await login(app, "reviewer")
    async with in_tenant("luqiao"):
        total = await scoped(Review).count()
        requested = await scoped(Review).count().where(Review.status == "requested")
    page = await reviewer.get("/t/luqiao/reviews/")
    assert int(TOTAL.search(page.text).group(1)) == total
    statuses = re.findall(r'data-review-status="(\w+)"', page.text)
    assert len(statuses) == min(total, 50)
    assert statuses == sorted(statuses, key=lambda s: s == "ruled"), "reviews waiting come before ruled ones"
    filtered = await reviewer.get("/t/luqiao/reviews/?status=requested")
    assert int(TOTAL.search(filtered.text).group(1)) == requested
    assert set(re.findall(r'data-review-status="(\w+)"', filtered.text)) <= {"requested"}


async def test_notifications_are_paged_unread_first_with_the_case_title(app):
    from core.cases.tables import Case
    from core.scope import scoped
    from core.tables import Notification, User
    from tests.helpers import in_tenant, process_background

    company = await login(app, "company")
    await submit(company, "通知标题测试")  # the dispatcher is told, naming the case
    await process_background()
    dispatcher = await login(app, "dispatcher")
    async with in_tenant("luqiao"):
        user = await User.select(User.id).where(User.username == "dispatcher@luqiao").first()
        mine = Notification.user == user["id"]
        total = await scoped(Notification).count().where(mine)
        unread = await scoped(Notification).count().where(mine & Notification.read_at.is_null())
        titles = {r["title"] for r in await scoped(Case).select(Case.title)}
    page = await dispatcher.get("/t/luqiao/notifications/")
    assert int(re.search(r'id="notifications"[^>]*data-total="(\d+)"', page.text).group(1)) == total
    rows = re.findall(r'class="list-group-item [^"]*\b(read|unread)\b', page.text)
    assert len(rows) == min(total, 50) and rows == sorted(rows, key=lambda r: r == "read")
    shown = re.findall(r"<small[^>]*data-case-title>([^<]*)</small>", page.text)
    assert "通知标题测试" in shown and set(shown) <= titles
    only_unread = await dispatcher.get("/t/luqiao/notifications/?unread=1")
    assert int(re.search(r'id="notifications"[^>]*data-total="(\d+)"', only_unread.text).group(1)) == unread
