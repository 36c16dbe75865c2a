"""Staffing of the chain (办理链条人员配备): each department needs a handler and three different
signers, and a leader to escalate to.  The check on the demo and on a tenant of our own, the
catalogue page's notice, onboarding's warnings (manifest, CLI, console) and escalation refused
when there is nobody to escalate to."""

import re
import subprocess
import sys

from core.cases.staffing import assess, shortfalls
from core.cases.tables import Case
from core.tables import Department, Membership, User
from tenants.demo import load_demo
from tenants.onboarding import apply_manifest
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.conftest import ROOT
from tests.helpers import DEMO_PASSWORD, Browser, in_tenant, process_background
from tests.test_system_console import console, manifest as console_manifest, upload

SLUG = "staffcheck"
# `main` is staffed by the demo's <role>@staffcheck accounts (lead of the first category);
# `bare` has nobody; `half` has a handler and a section head only.
MANIFEST = f'''
slug = "{SLUG}"
name_zh = "人员配备测试区"
name_en = "Staffing check district"
kind = "district"

[settings]
demo_cases = 10

[[departments]]
code = "main"
name_zh = "主办局"

[[departments]]
code = "bare"
name_zh = "空缺局"

[[departments]]
code = "half"
name_zh = "半缺局"

[[categories]]
code = "municipal"
name_zh = "市政设施"
lead = "main"
deadline_days = 5

[[categories]]
code = "barecat"
name_zh = "无人承办事项"
lead = "bare"
deadline_days = 5

[[users]]
username = "handler.half@{SLUG}"
display_name = "半缺局 · 承办人"
roles = ["handler"]
department = "half"

[[users]]
username = "section_head.half@{SLUG}"
display_name = "半缺局 · 科室负责人"
roles = ["section_head"]
department = "half"
'''
_made: list[str] = []


async def tenant() -> str:
    if not _made:
        await load_demo(DEMO_PASSWORD, [MANIFEST])
        _made.append(SLUG)
    return SLUG


def kinds(found) -> list[tuple[str, str, str]]:
    return [(s.department, s.kind, s.role) for s in found]


# -- the check itself ---------------------------------------------------------------------------

def test_assess_names_what_is_missing_and_whom_to_add():
    def check(holders):
        return kinds(assess("d", "部门", "Dept", holders))

    assert check({}) == [("d", "no_staff", "")]
    assert check({"handler": {1}, "section_head": {2}, "dept_head": {3}}) == [("d", "missing", "leader")]
    assert check({"handler": {1}, "section_head": {2}, "leader": {3}, "dept_head": {4}}) == []
    # One person holding two levels and nobody else for them: three people for four places.
    doubled = assess("d", "部门", "Dept", {"handler": {1}, "section_head": {2}, "leader": {2}, "dept_head": {3}})
    assert kinds(doubled) == [("d", "too_few", "leader")] and doubled[0].params == {"count": 3}
    assert "only 3" in str(doubled[0])
    # Four names, but two of them hold the same three roles: still only three places filled.
    crowded = {"handler": {1, 2}, "section_head": {1, 2}, "leader": {1, 2}, "dept_head": {3, 4}}
    assert kinds(assess("d", "部门", "Dept", crowded)) == [("d", "too_few", "leader")]
    # Someone may hold two roles when another can take one of them.
    assert check({"handler": {1, 2}, "section_head": {1}, "leader": {3}, "dept_head": {4}}) == []


async def test_the_demo_tenants_can_staff_every_department():
    """Every department the demo manifests declare (other tests add departments of their own)."""
    import tomllib

    from tests.conftest import ROOT

    for slug in ("luqiao", "jiaojiang", "pengjie"):
        manifest = tomllib.loads((ROOT / "tenants" / "manifests" / f"{slug}.toml").read_text(encoding="utf-8"))
        declared = {d["code"] for d in manifest["departments"]}
        async with in_tenant(slug):
            assert [s for s in await shortfalls() if s.department in declared] == [], slug


async def test_a_department_stripped_of_its_staff_warns_and_recovers():
    slug = await tenant()
    async with in_tenant(slug):
        assert kinds(await shortfalls()) == [("bare", "no_staff", ""), ("half", "missing", "leader"),
                                             ("half", "missing", "dept_head")]
        main = (await scoped(Department).select(Department.id).where(Department.code == "main").first())["id"]
        kept = await scoped(Membership).select().where(Membership.department == main)
        leader = next(m["user"] for m in kept if m["role"] == "leader")
        try:
            await User.update({User.active: False}).where(User.id == leader)  # a leader who left
            assert ("main", "missing", "leader") in kinds(await shortfalls())
            await User.update({User.active: True}).where(User.id == leader)
            await scoped(Membership).delete().where(Membership.department == main)
            assert ("main", "no_staff", "") in kinds(await shortfalls())
        finally:
            await User.update({User.active: True}).where(User.id == leader)
            for m in kept:
                if not await scoped(Membership).exists().where(Membership.id == m["id"]):
                    await scoped(Membership).add(user=m["user"], role=m["role"], department=m["department"],
                                                 section=m["section"])
        assert "main" not in {s.department for s in await shortfalls()}


# -- where it is shown -----------------------------------------------------------------------------

async def test_the_catalogue_page_names_the_departments_and_whom_to_add(app):
    slug = await tenant()
    admin = Browser(app)
    assert (await admin.login(f"tenant_admin@{slug}", slug)).status_code == 303
    page = await admin.get(f"/t/{slug}/admin/catalogue/")
    assert page.status_code == 200
    assert 'data-shortfalls="3"' in page.text and 'role="status"' in page.text
    assert re.findall(r'data-shortfall="(\w+)" data-kind="(\w+)" data-role="(\w*)"', page.text) == [
        ("bare", "no_staff", ""), ("half", "missing", "leader"), ("half", "missing", "dept_head")]
    assert "没有分管领导" in page.text and "[[users]]" in page.text  # in the user's language, with the remedy
    assert 'data-shortfall="main"' not in page.text
    luqiao = Browser(app)
    await luqiao.login("tenant_admin@luqiao", "luqiao")
    assert "data-shortfalls" not in (await luqiao.get("/t/luqiao/admin/catalogue/")).text


async def test_onboarding_a_manifest_reports_understaffed_departments_as_warnings():
    await tenant()
    result = await apply_manifest(MANIFEST)  # applied again: an update, nothing rejected
    assert not result.created
    assert kinds(result.warnings) == [("bare", "no_staff", ""), ("half", "missing", "leader"),
                                      ("half", "missing", "dept_head")]


def test_cli_apply_prints_the_warnings(tmp_path):
    path = tmp_path / "district.toml"
    path.write_text(MANIFEST.replace(SLUG, "staffcli"), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "cli", "tenant", "apply", str(path)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "tenant staffcli created" in done.stdout
    assert "warning: department bare: Nobody is assigned here yet." in done.stdout
    assert "warning: department main: Nobody" in done.stdout  # no demo accounts here
    assert "apply the manifest again" in done.stdout


async def test_the_console_job_lists_the_warnings_when_done(app):
    await process_background()
    b = await console(app)
    started = await upload(b, "apply", console_manifest("staffjob", users=2))
    assert started.status_code == 303, started.text[:500]
    await process_background()
    done = await b.client.get(started.headers["location"], headers={"HX-Request": "true"})
    assert 'data-status="done"' in done.text and "data-problems" not in done.text
    assert re.findall(r'data-shortfall="(\w+)" data-kind="(\w+)" data-role="(\w*)"', done.text) == [
        ("jjb", "missing", "section_head"), ("jjb", "missing", "leader"), ("jjb", "missing", "dept_head"),
        ("zjj", "no_staff", "")]


# -- escalation reaches a person (the fallback chain: tests/test_escalation_fallback.py) ----------------

async def test_escalation_to_a_department_without_a_leader_reaches_the_fallback(app):
    slug = await tenant()
    api = Api(app, slug)
    case = await api.submit(category="barecat")
    await api.step("dispatcher", case["id"], "dispatch")
    escalated = await api.step("dispatcher", case["id"], "escalate", {"reason": "无人办理"})
    assert escalated["escalated"] is True  # to the dispatchers: no leader here, no district leader named
    async with in_tenant(slug):
        dispatcher = await User.select(User.id).where(User.username == f"dispatcher@{slug}").first()
        row = await scoped(Case).select(Case.escalated_to).where(Case.id == case["id"]).first()
    assert row["escalated_to"] == dispatcher["id"]
    staffed = await api.submit()
    await api.step("dispatcher", staffed["id"], "dispatch")
    escalated = await api.step("dispatcher", staffed["id"], "escalate", {"reason": "涉及多个部门"})
    assert escalated["escalated"]
