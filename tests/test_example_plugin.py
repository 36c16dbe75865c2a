"""The example plugin (``examples/qinqing-visits``, 走访记录), a third party's package built only on
``core.sdk``: installed as a distribution of its own and found through its entry point; enabled
for one tenant and invisible to another; its page, API, case-event reaction, actor and nightly
per-tenant job work; its table goes out with the tenant's archive and comes back on import."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import sqlite3
import subprocess
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import DEMO_PASSWORD, ROOT
from tests.helpers import Browser, in_tenant, token_for

SLUG = "zoufang"  # this file's own tenant: luqiao's departments and categories, the visit log only
EXAMPLE = ROOT / "examples" / "qinqing-visits"


@pytest.fixture(scope="module")
async def zoufang() -> str:
    """The tenant, made as any tenant is: a manifest with ``plugins = ["visits"]`` and demo data
    (the core's cases and the plugin's own visits, through its ``qinqing_demo_data``)."""
    from tenants.demo import load_demo
    from tenants.manifest import demo_manifest_paths

    luqiao = next(p for p in demo_manifest_paths() if p.stem == "luqiao").read_text(encoding="utf-8")
    manifest = (luqiao.replace('slug = "luqiao"', f'slug = "{SLUG}"').replace("@luqiao", f"@{SLUG}")
                .replace("demo_cases = 2000", "demo_cases = 20"))
    manifest = re.sub(r"(?m)^plugins = .*$", 'plugins = ["visits"]', manifest, count=1)
    accounts = await load_demo(DEMO_PASSWORD, [manifest])
    assert f"visits_officer@{SLUG}" in accounts[SLUG]  # the plugin's role has its demo account
    return SLUG


def _visit_table():
    from qinqing_visits.tables import Visit  # the plugin's own module, imported as the core does

    return Visit


# -- installed as a package of its own --------------------------------------------------------------

def test_the_example_is_a_distribution_of_its_own_found_through_its_entry_point():
    from core.plugins import get_plugin_manager

    dist = importlib.metadata.distribution("qinqing-visits")
    assert [(ep.name, ep.value) for ep in dist.entry_points if ep.group == "qinqing.plugins"] == \
        [("visits", "qinqing_visits")]
    assert any(req.split()[0] == "qinqing" for req in dist.requires or [])
    own = importlib.metadata.distribution("qinqing")
    assert "visits" not in {ep.name for ep in own.entry_points if ep.group == "qinqing.plugins"}
    import qinqing_visits

    assert EXAMPLE in Path(qinqing_visits.__file__).resolve().parents
    assert "visits" in get_plugin_manager().optional_names()


def test_no_demo_tenant_enables_it():
    import tomllib

    from tenants.manifest import demo_manifest_paths

    for path in demo_manifest_paths():
        assert "visits" not in tomllib.loads(path.read_text(encoding="utf-8")).get("plugins", []), path.name


# -- enabled for one tenant, invisible to another -----------------------------------------------------

async def test_the_page_and_api_work_where_enabled_and_answer_404_elsewhere(app, zoufang):
    officer = Browser(app)
    await officer.login(f"visits_officer@{zoufang}", zoufang)
    home = await officer.get(f"/t/{zoufang}/")
    assert 'data-nav="visits/"' in home.text
    listing = await officer.get(f"/t/{zoufang}/visits/")
    assert listing.status_code == 200 and listing.text.count("data-visit=") == 3  # the demo visits
    assert 'id="visit-form"' in listing.text

    async with in_tenant(zoufang):
        from core.sdk import Company, scoped

        companies = await scoped(Company).select(Company.credit_code, Company.name).order_by(Company.id).limit(5)
    logged = await officer.post(f"/t/{zoufang}/visits/", {"company": companies[3]["credit_code"].lower(),
                                                          "note": "了解用工需求"})
    assert logged.status_code == 303
    listing = await officer.get(f"/t/{zoufang}/visits/")
    assert listing.text.count("data-visit=") == 4 and "了解用工需求" in listing.text
    refused = await officer.post(f"/t/{zoufang}/visits/", {"company": "91330000NOTHERE000", "note": "x"})
    assert refused.status_code == 400
    assert (await officer.post(f"/t/{zoufang}/visits/", {"company": companies[0]["credit_code"],
                                                         "visited_on": "not a date"})).status_code == 400

    token = await token_for(f"visits_officer@{zoufang}", zoufang)
    auth = {"Authorization": f"Bearer {token}"}
    api = f"/t/{zoufang}/api/v1/visits/visits"
    made = await officer.client.post(api, json={"company": companies[4]["credit_code"], "note": "API"}, headers=auth)
    assert made.status_code == 201, made.text
    assert made.json()["company_name"] == companies[4]["name"] and made.json()["status"] == "done"
    bad = await officer.client.post(api, json={"note": "no company"}, headers=auth)
    assert bad.status_code == 400 and bad.json()["code"]
    future = (date.today() + timedelta(days=30)).isoformat()
    later = await officer.client.post(api, json={"company": companies[4]["credit_code"], "visited_on": future},
                                      headers=auth)
    assert later.status_code == 400 and later.json()["code"] == "future_visit"
    listed = await officer.client.get(api, headers=auth)
    assert listed.status_code == 200 and len(listed.json()) == 5
    handler = {"Authorization": f"Bearer {await token_for(f'handler@{zoufang}', zoufang)}"}
    assert (await officer.client.post(api, json={"company": companies[0]["credit_code"]},
                                      headers=handler)).status_code == 403  # the role is required
    assert (await officer.client.get(api)).status_code == 401  # the API takes tokens, not cookies

    # Luqiao has not enabled the plugin: no link, and its routes answer 404 even to an administrator.
    admin = Browser(app)
    await admin.login("tenant_admin@luqiao", "luqiao")
    assert 'data-nav="visits/"' not in (await admin.get("/t/luqiao/")).text
    assert (await admin.get("/t/luqiao/visits/")).status_code == 404
    luqiao = {"Authorization": f"Bearer {await token_for('tenant_admin@luqiao', 'luqiao')}"}
    assert (await admin.client.get("/t/luqiao/api/v1/visits/visits", headers=luqiao)).status_code == 404

    schema = (await officer.client.get("/schema/openapi.json")).json()
    body = schema["paths"]["/t/{tenant}/api/v1/visits/visits"]["post"]["requestBody"]
    assert "company" in json.dumps(schema["components"]["schemas"]) and body["required"]


# -- the case-event reaction, the actor and the per-tenant job ---------------------------------------

async def _outbox(actor: str) -> list[dict]:
    from core.tables import OutboxMessage

    return await OutboxMessage.select().where(OutboxMessage.actor == actor).order_by(OutboxMessage.id)


async def test_a_resolved_case_gets_one_follow_up_visit_only_where_enabled(app, zoufang):
    from core.sdk import Case, scoped
    from tests.cases_helpers import Api
    from workers.actors import run_actor

    before = len(await _outbox("visits_plan_follow_up"))
    elsewhere = await Api(app, "luqiao").resolved()  # luqiao: the hook is not called
    assert len(await _outbox("visits_plan_follow_up")) == before
    case = await Api(app, zoufang).resolved()
    messages = (await _outbox("visits_plan_follow_up"))[before:]
    assert len(messages) == 1 and json.loads(messages[0]["payload"])["case_id"] == case["id"]
    message = messages[0]
    payload = {k: v for k, v in json.loads(message["payload"]).items() if not k.startswith("_")}
    assert await run_actor("visits_plan_follow_up", message["message_id"], message["tenant_id"], payload)
    assert not await run_actor("visits_plan_follow_up", message["message_id"], message["tenant_id"], payload)
    Visit = _visit_table()
    async with in_tenant(zoufang):
        follow_ups = await scoped(Visit).select().where(Visit.case == case["id"])
        company = (await scoped(Case).select(Case.company).where(Case.id == case["id"]).first())["company"]
        assert [(v["status"], v["company"]) for v in follow_ups] == [("planned", company)]
        from core.sdk import today

        assert follow_ups[0]["planned_on"] == today() + timedelta(days=14)  # the setting's default
    async with in_tenant("luqiao"):
        assert not await scoped(Visit).exists().where(Visit.case == elsewhere["id"])

    # The officer's next visit to that company fulfils the follow-up rather than adding a visit.
    async with in_tenant(zoufang):
        from core.sdk import Company

        code = (await scoped(Company).select(Company.credit_code).where(Company.id == company).first())["credit_code"]
        before_visit = await scoped(Visit).count()
    officer = {"Authorization": f"Bearer {await token_for(f'visits_officer@{zoufang}', zoufang)}"}
    made = await Api(app, zoufang).client.post(f"/t/{zoufang}/api/v1/visits/visits", json={"company": code},
                                               headers=officer)
    assert made.status_code == 201, made.text
    assert (made.json()["id"], made.json()["status"], made.json()["case"]) == (follow_ups[0]["id"], "done", case["id"])
    async with in_tenant(zoufang):
        assert await scoped(Visit).count() == before_visit
    timeline = (await Api(app, zoufang).get("dispatcher", case["id"]))
    assert "visits_follow_up" in json.dumps(timeline, ensure_ascii=False)


async def test_the_nightly_job_runs_in_each_enabled_tenant_only(zoufang):
    from core.plugins import get_plugin_manager
    from core.sdk import Company, scoped, today
    from workers.scheduler import run_job

    (plugin, job), = [(p, j) for p, j in get_plugin_manager().scheduled_jobs_by_plugin() if j.name == "visits_overdue"]
    assert plugin == "visits" and job.per_tenant and job.interval_seconds == 86400
    Visit = _visit_table()
    past = today() - timedelta(days=1)
    ids = {}
    for slug in (zoufang, "luqiao"):  # luqiao: a row in the table of a plugin it has not enabled
        async with in_tenant(slug):
            company = (await scoped(Company).select(Company.id).order_by(Company.id).first())["id"]
            ids[slug] = (await scoped(Visit).add(company=company, status="planned", planned_on=past)).id
    try:
        await run_job(job, plugin)
        for slug, expected in ((zoufang, "overdue"), ("luqiao", "planned")):
            async with in_tenant(slug):
                row = await scoped(Visit).select(Visit.status).where(Visit.id == ids[slug]).first()
                assert row["status"] == expected, slug
    finally:
        async with in_tenant("luqiao"):
            await scoped(Visit).delete().where(Visit.id == ids["luqiao"])


# -- out with the tenant's archive, and back --------------------------------------------------------

async def test_its_table_is_exported_and_imported_with_the_tenant(zoufang, tmp_path):
    from core.sdk import scoped

    Visit = _visit_table()
    async with in_tenant(zoufang):
        source = await scoped(Visit).select(Visit.note, Visit.status, Visit.planned_on, Visit.visited_on,
                                            Visit.company.credit_code.as_alias("company"),
                                            Visit.visitor.username.as_alias("visitor")).order_by(Visit.id)
    assert len(source) >= 3  # the demo visits, and those the other tests logged
    archive = tmp_path / f"{zoufang}.zip"
    target = tmp_path / "target.db"
    here = dict(os.environ)  # this installation (`tenant export` logs in as the owner on PostgreSQL)
    there = dict(os.environ, DATABASE_URL=f"sqlite:///{target}", QINQING_VAR_DIR=str(tmp_path / "var"))
    for env, args in ((here, ["tenant", "export", zoufang, str(archive)]), (there, ["migrate"]),
                      (there, ["tenant", "import", str(archive)])):
        done = subprocess.run([str(Path(sys.executable).parent / "qinqing"), *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(archive) as zf:
        assert json.loads(zf.read("manifest.json"))["tables"]["visits_visit"] == len(source)
    db = sqlite3.connect(target)
    db.row_factory = sqlite3.Row
    tenant = db.execute("SELECT id, plugins FROM tenant WHERE slug = ?", (zoufang,)).fetchone()
    assert "visits" in json.loads(tenant["plugins"])  # enabled there as here
    rows = db.execute("""SELECT v.note, v.status, v.planned_on, v.visited_on, c.credit_code AS company,
                                u.username AS visitor
                         FROM visits_visit v JOIN company c ON c.id = v.company AND c.tenant_id = v.tenant_id
                         LEFT JOIN app_user u ON u.id = v.visitor
                         WHERE v.tenant_id = ? ORDER BY v.id""", (tenant["id"],)).fetchall()
    db.close()

    def key(row) -> tuple:
        return (row["note"], row["status"], str(row["planned_on"] or ""), str(row["visited_on"] or ""),
                row["company"], row["visitor"])

    # every row, with its company and visitor found again by their keys under the new ids
    assert [key(r) for r in rows] == [key(r) for r in source]


# -- its messages are translated ----------------------------------------------------------------------

def test_the_examples_messages_and_templates_are_translated():
    from babel.messages.extract import extract_from_dir

    from tests.test_i18n import KEYWORDS, METHOD_MAP, OPTIONS, catalog, literal_text

    ids = {m[0] if isinstance(m, tuple) else m
           for _, _, m, _, _ in extract_from_dir(EXAMPLE, METHOD_MAP, OPTIONS, KEYWORDS)}
    assert "Company visits" in ids and "Log a visit" in ids
    for locale in ("zh_CN", "en"):
        translated = catalog(locale)
        assert not sorted(i for i in ids if not translated.get(i)), locale
    for path in EXAMPLE.rglob("templates/**/*.html"):
        assert literal_text(path.read_text(encoding="utf-8")) == [], path.name
