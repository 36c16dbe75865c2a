"""The system console (系统控制台): its own login for system administrators, the tenants with
their figures, onboarding a new district from an uploaded manifest (problems listed first, then
applied in the background with progress), activation, modules, and the worker state."""

import asyncio
import re
import subprocess
import sys
import uuid

from core.cases.states import OPEN
from core.cases.tables import Case
from core.contrib import ScheduledJob
from core.outbox import enqueue
from core.tables import FailedMessage, Notification, OnboardingJob, SystemSession, User
from tenants.registry import load_tenant
from tenants.scope import scoped
from tests.conftest import ROOT
from tests.helpers import Browser, in_tenant, process_background
from workers import broker as broker_mod
from workers.broker import record_failure
from workers.relay import relay_once
from workers.scheduler import run_job_once

ADMIN = "system_admin@luqiao"
PASSWORD = "demo-Pass-2026"


def manifest(slug: str, lead: str = "jjb", role: str = "tenant_admin", users: int = 12) -> str:
    text = f'''
slug = "{slug}"
name_zh = "新区{slug}"
name_en = "New district {slug}"
kind = "district"
plugins = ["liaison"]

[[departments]]
code = "jjb"
name_zh = "经济发展局"
sections = [{{ code = "fw", name_zh = "服务科" }}]

[[departments]]
code = "zjj"
name_zh = "住房和城乡建设局"

[[categories]]
code = "general"
name_zh = "综合事务"
lead = "{lead}"
deadline_days = 5
'''
    for i in range(users):
        text += f'''
[[users]]
username = "u{i}@{slug}"
display_name = "用户{i}"
roles = ["{role if i == 0 else 'handler'}"]
department = "jjb"
'''
    return text


async def console(app, username: str = ADMIN, password: str = PASSWORD) -> Browser:
    b = Browser(app)
    await b.get("/system/login")
    response = await b.post("/system/login", {"username": username, "password": password})
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == "/system/"
    return b


async def upload(b: Browser, action: str, text: str | bytes, as_file: bool = True):
    await b.get("/system/onboarding/")
    body = text.encode() if isinstance(text, str) else text
    files = {"file": ("district.toml", body, "application/toml")} if as_file else None
    data = {"_csrf_token": b.csrf, "action": action}
    if not as_file:
        data["text"] = text
    return await b.client.post("/system/onboarding/", data=data, files=files)


async def jobs() -> int:
    return await OnboardingJob.count()


async def test_a_system_admin_logs_in_and_sees_every_tenant_with_its_figures(app):
    b = await console(app)
    cookie = next(c for c in b.client.cookies.jar if c.name == "qqs__system")
    assert cookie.path == "/system" and cookie.has_nonstandard_attr("HttpOnly")
    page = await b.get("/system/")
    assert page.status_code == 200
    for slug in ("luqiao", "pengjie", "jiaojiang"):
        assert f'data-tenant="{slug}"' in page.text
    async with in_tenant("luqiao"):
        total = await scoped(Case).count()
        still_open = await scoped(Case).count().where(Case.status.is_in(sorted(OPEN)))
    row = page.text.split('data-tenant="luqiao"', 1)[1].split("</tr>", 1)[0]
    assert f'data-figure="cases">{total}<' in row and f'data-figure="open">{still_open}<' in row
    assert "mediation" in row and "liaison" in row and "cadre" in row
    pengjie = page.text.split('data-tenant="pengjie"', 1)[1].split("</tr>", 1)[0]
    assert "luqiao" in pengjie  # its parent district
    assert (await b.get("/system/tenants/luqiao")).status_code == 200
    assert (await b.get("/system/tenants/nowhere")).status_code == 404
    out = await b.post("/system/logout")
    assert out.status_code == 303 and (await b.get("/system/")).status_code == 303


async def test_anonymous_visitors_are_sent_to_the_console_login(app):
    b = Browser(app)
    for path in ("/system/", "/system/workers/", "/system/onboarding/", "/system/tenants/luqiao"):
        response = await b.get(path)
        assert response.status_code == 303 and response.headers["location"] == f"/system/login?next={path.rstrip('/')}"
    assert (await b.get("/system/login")).status_code == 200
    refused = await b.post("/system/tenants/jiaojiang/active", {"enabled": "0"})
    assert refused.status_code == 303 and refused.headers["location"].startswith("/system/login")
    assert (await load_tenant("jiaojiang")).active
    polled = await b.client.get("/system/", headers={"HX-Request": "true"})
    assert polled.status_code == 401 and polled.headers["HX-Redirect"].startswith("/system/login")


async def test_a_non_admin_gets_403_and_no_console_session(app):
    before = await SystemSession.count()
    b = Browser(app)
    await b.get("/system/login")
    response = await b.post("/system/login", {"username": "dispatcher@luqiao", "password": PASSWORD})
    assert response.status_code == 403 and "data-error-message" in response.text
    assert "qqs__system" not in b.client.cookies and await SystemSession.count() == before
    # a tenant login, even of the tenant's own system_admin role, is no console login
    tenant = Browser(app)
    assert (await tenant.login(ADMIN, "luqiao")).status_code == 303
    assert (await tenant.get("/system/")).status_code == 303
    # an administrator whose flag is taken away is refused on the next request
    admin = await console(app)
    await User.update({User.is_system_admin: False}).where(User.username == ADMIN)
    try:
        assert (await admin.get("/system/")).status_code == 403
    finally:
        await User.update({User.is_system_admin: True}).where(User.username == ADMIN)
    assert (await admin.get("/system/")).status_code == 200


async def test_the_tenant_nav_links_system_admins_to_the_console(app):
    admin = Browser(app)
    await admin.login(ADMIN, "luqiao")
    assert "data-system-console" in (await admin.get("/t/luqiao/")).text
    dispatcher = Browser(app)
    await dispatcher.login("dispatcher@luqiao", "luqiao")
    assert "data-system-console" not in (await dispatcher.get("/t/luqiao/")).text


async def test_cli_system_admin_and_console_login_lockout(app):
    done = subprocess.run([sys.executable, "-m", "cli", "user", "create", "ops@console", "--tenant", "jiaojiang",
                           "--role", "tenant_admin", "--password", "ops-Pass-2026", "--system-admin"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "system administrator" in done.stdout, done.stderr
    await console(app, "ops@console", "ops-Pass-2026")
    b = Browser(app)
    await b.get("/system/login")
    statuses = [(await b.post("/system/login", {"username": "ops@console", "password": "wrong"})).status_code
                for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    locked = await b.post("/system/login", {"username": "ops@console", "password": "ops-Pass-2026"})
    assert locked.status_code == 429 and "data-error-message" in locked.text


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(app):
    b = await console(app)
    await b.get("/system/tenants/jiaojiang")
    response = await b.post("/system/tenants/jiaojiang/active", {"enabled": "0"}, csrf=False)
    assert response.status_code == 403
    assert (await load_tenant("jiaojiang")).active
    before = await jobs()
    response = await b.client.post("/system/onboarding/", data={"action": "apply", "text": manifest("nocsrf")})
    assert response.status_code == 403 and await jobs() == before
    assert await load_tenant("nocsrf") is None


async def test_a_new_district_is_onboarded_from_the_console(app):
    """The acceptance: two errors → both listed, nothing applied; corrected → applied in the
    background with progress to 100%, the new tenant visible at once."""
    await process_background()  # an empty outbox, so the steps below are this job's
    b = await console(app)
    slug = "xinqu"
    broken = manifest(slug, lead="nope", role="nobody")
    before = await jobs()
    for action in ("validate", "apply"):
        response = await upload(b, action, broken)
        assert response.status_code == 400, response.text[:500]
        assert 'data-problems="2"' in response.text
        problems = re.findall(r'data-problem="([^"]+)"', response.text)
        assert problems == ["categories[0].lead", "users[0].roles[0]"]
        assert "未知角色" in response.text  # the problems read in the user's language
    assert await load_tenant(slug) is None and await jobs() == before

    checked = await upload(b, "validate", manifest(slug), as_file=False)
    assert checked.status_code == 200 and "data-valid" in checked.text and await load_tenant(slug) is None
    started = await upload(b, "apply", manifest(slug))
    assert started.status_code == 303, started.text[:500]
    job_url = started.headers["location"]
    assert re.fullmatch(r"/system/onboarding/\d+", job_url)
    first = await b.get(job_url)
    assert 'data-status="queued"' in first.text and 'data-percent="0"' in first.text and "hx-get" in first.text

    if broker_mod.is_embedded():  # one step at a time: the progress moves, the tenant stays hidden
        await relay_once(limit=1)
        await relay_once(limit=1)
        partial = await b.client.get(job_url, headers={"HX-Request": "true"})
        assert partial.text.startswith("<section") and 'data-status="running"' in partial.text
        assert 0 < int(re.search(r'data-percent="(\d+)"', partial.text).group(1)) < 100
        assert 'data-step-state="current"' in partial.text
        assert (await b.get(f"/t/{slug}/login")).status_code == 404
    await process_background()

    # Two tabs polling at once: the generated passwords appear on one of them, once.
    pages = await asyncio.gather(*(b.client.get(job_url, headers={"HX-Request": "true"}) for _ in range(2)))
    assert [p.status_code for p in pages] == [200, 200]
    assert sum("data-passwords" in p.text for p in pages) == 1
    [done] = [p for p in pages if "data-passwords" in p.text]
    assert 'data-status="done"' in done.text and 'data-percent="100"' in done.text and "hx-get" not in done.text
    assert f'href="/t/{slug}/"' in done.text
    passwords = dict(re.findall(r'data-user="([^"]+)"><td>[^<]+</td><td class="token-secret">([^<]+)<', done.text))
    assert set(passwords) == {f"u{i}@{slug}" for i in range(12)}
    again = await b.get(job_url)
    assert "data-passwords" not in again.text  # shown once

    assert (await b.get(f"/t/{slug}/login")).status_code == 200
    assert f'data-tenant="{slug}"' in (await b.get("/system/")).text
    tenant = Browser(app)
    assert (await tenant.login(f"u0@{slug}", slug, passwords[f"u0@{slug}"])).status_code == 303
    tenant_row = await load_tenant(slug)
    assert tenant_row.active and tenant_row.plugins == ("liaison",)


async def test_malformed_uploads_get_a_clear_4xx_and_nothing_is_applied(app):
    b = await console(app)
    before = await jobs()
    cases = [
        (b"\xff\xfe\x00s\x00l\x00u\x00g", 400, "UTF-8"),
        ('slug = = "x"\n', 400, "TOML"),
        ("", 400, None),
        ("   \n", 400, None),
        ('# padding\n' + "#" * (300 * 1024), 413, "256"),
    ]
    for text, status, needle in cases:
        for action in ("validate", "apply"):
            response = await upload(b, action, text)
            assert response.status_code == status, (text[:20], response.status_code)
            assert "data-error-message" in response.text or "data-problems" in response.text
            if needle:
                assert needle in response.text
    empty = await b.client.post("/system/onboarding/", data={"_csrf_token": b.csrf, "action": "apply", "text": ""})
    assert empty.status_code == 400
    assert await jobs() == before


async def test_deactivating_a_tenant_hides_it_until_it_is_activated_again(app):
    b = await console(app)
    await b.get("/system/tenants/jiaojiang")
    assert (await b.post("/system/tenants/jiaojiang/active", {"enabled": "0"})).status_code == 303
    try:
        assert (await b.get("/t/jiaojiang/login")).status_code == 404
        assert (await b.get("/t/jiaojiang/")).status_code == 404
        assert 'data-tenant="jiaojiang" data-active="0"' in (await b.get("/system/")).text
    finally:
        assert (await b.post("/system/tenants/jiaojiang/active", {"enabled": "1"})).status_code == 303
    assert (await b.get("/t/jiaojiang/login")).status_code == 200


async def test_enabling_and_disabling_a_module(app):
    b = await console(app)
    visitor = Browser(app)
    assert (await visitor.get("/t/pengjie/mediation/")).status_code == 404
    await b.get("/system/tenants/pengjie")
    assert (await b.post("/system/tenants/pengjie/plugins/mediation", {"enabled": "1"})).status_code == 303
    try:
        page = await b.get("/system/tenants/pengjie")
        assert 'data-plugin="mediation" data-enabled="1"' in page.text
        assert (await visitor.get("/t/pengjie/mediation/")).status_code != 404  # now there: asks for a login
    finally:
        assert (await b.post("/system/tenants/pengjie/plugins/mediation", {"enabled": "0"})).status_code == 303
    assert (await visitor.get("/t/pengjie/mediation/")).status_code == 404
    assert (await b.post("/system/tenants/pengjie/plugins/teleport", {"enabled": "1"})).status_code == 404


async def test_a_failed_message_is_listed_and_retried(app):
    await process_background()
    async with in_tenant("luqiao") as tenant:
        user = await User.select(User.id).where(User.username == "dispatcher@luqiao").first()
        message_id = await enqueue("deliver_notification", user_id=user["id"], kind="test",
                                   title="Notifications", link="")
    # the relay handed it over and the worker gave up on it
    from core.clock import now
    from core.tables import OutboxMessage

    await OutboxMessage.update({OutboxMessage.sent_at: now()}).where(OutboxMessage.message_id == message_id)
    await record_failure("deliver_notification", {"message_id": message_id, "tenant_id": tenant.id, "kwargs": {
        "user_id": user["id"], "kind": "test", "title": "Notifications", "link": ""}}, "RuntimeError('smtp down')")
    failed = await FailedMessage.select(FailedMessage.id).where(FailedMessage.message_id == message_id).first()

    b = await console(app)
    page = await b.get("/system/workers/")
    assert page.status_code == 200 and f'data-failed-id="{failed["id"]}"' in page.text and "smtp down" in page.text
    retried = await b.post(f"/system/workers/failed/{failed['id']}/retry")
    assert retried.status_code == 303
    assert not await FailedMessage.exists().where(FailedMessage.message_id == message_id)
    await process_background()
    async with in_tenant("luqiao"):
        assert await scoped(Notification).count().where(Notification.source == message_id) == 1
    assert (await b.post(f"/system/workers/failed/{failed['id']}/retry")).status_code == 404


async def test_the_worker_page_shows_backlog_queues_and_scheduler_runs(app, monkeypatch):
    async def probe():
        return None

    await run_job_once(ScheduledJob("console_probe", 3600, probe), f"probe-{uuid.uuid4().hex[:8]}")
    b = await console(app)
    page = await b.get("/system/workers/")
    assert page.status_code == 200 and "data-outbox-pending" in page.text and 'data-run="console_probe"' in page.text
    if broker_mod.is_embedded():
        assert 'data-broker="embedded"' in page.text
    else:
        assert 'data-queue="qinqing"' in page.text
    # an unreachable broker is reported, not a failure of the page
    monkeypatch.setattr(broker_mod, "_broker", broker_mod.make_broker("redis://127.0.0.1:1/0"))
    page = await b.get("/system/workers/")
    assert page.status_code == 200 and "data-broker-error" in page.text
