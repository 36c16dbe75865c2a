"""Tenant export and import: Luqiao (demo data, its three modules, an attachment) goes from the
test database to a fresh database of the other engine and back (SQLite → PostgreSQL → SQLite, or
PostgreSQL → SQLite → PostgreSQL), by the real `qinqing` commands.  Every count is equal, every
value survives both engines, the record verifies, users log in with their passwords, the
attachment's bytes are the same; an existing slug, a damaged archive and a forged record are
refused with nothing written."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import DATABASE_URL, DEMO_PASSWORD, ROOT
from tests.test_filetypes import make_png

SOURCE_IS_PG = DATABASE_URL.startswith("postgres")
_test_url = os.environ.get("TEST_DATABASE_URL", "")
PG_ADMIN = re.sub(r"/[^/]*$", "/postgres", _test_url) if _test_url.startswith("postgres") \
    else "postgresql://postgres@127.0.0.1:5432/postgres"
OTHER_PASSWORD = "other-Pass-2026"

LOGIN_SCRIPT = """
import asyncio, json, sys
from tests.helpers import Browser

async def main():
    from web.app import create_app
    from workers.broker import setup_broker
    setup_broker()
    app = create_app(embedded_worker=False)
    out = {}
    for username, password in json.loads(sys.argv[1]):
        browser = Browser(app)
        out[f"{username} {password}"] = (await browser.login(username, "luqiao", password)).status_code
        await browser.close()
    browser = Browser(app)
    await browser.login("dispatcher@luqiao", "luqiao", password=sys.argv[3])
    download = await browser.get(sys.argv[2])
    out["download"] = [download.status_code, download.content.hex()]
    print(json.dumps(out))

asyncio.run(main())
"""


class Target:
    """A second installation: its own database and var directory."""

    def __init__(self, label: str, postgres: bool, tmp: Path, store: str = "local"):
        self.var, self.store = tmp / label, store
        self.var.mkdir()
        if postgres:
            self.db = f"qinqing_archive_{os.getpid()}_{uuid.uuid4().hex[:6]}_{label}"
            subprocess.run(["psql", PG_ADMIN, "-qc", f'CREATE DATABASE "{self.db}"'], check=True, capture_output=True)
            self.url = re.sub(r"/[^/]*$", f"/{self.db}", PG_ADMIN)
        else:
            self.db = None
            self.url = f"sqlite:///{tmp}/{label}.db"
        self.qinqing("migrate")

    def env(self) -> dict:
        return dict(os.environ, DATABASE_URL=self.url, QINQING_VAR_DIR=str(self.var), ATTACHMENT_STORE=self.store)

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env(), capture_output=True, text=True,
                              timeout=600)
        if ok and done.returncode != 0:
            raise AssertionError(f"{args} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def qinqing(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        return self.run("-m", "cli", *args, ok=ok)

    def drop(self) -> None:
        if self.db:
            subprocess.run(["psql", PG_ADMIN, "-qc", f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)'],
                           capture_output=True)


def qinqing_here(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    if ok and done.returncode != 0:
        raise AssertionError(f"{args} failed:\n{done.stdout}\n{done.stderr}")
    return done


def read_archive(path: Path) -> tuple[dict, dict[str, list[dict]], dict[str, bytes]]:
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
        tables = {name: [json.loads(line) for line in z.read(f"tables/{name}.jsonl").splitlines() if line.strip()]
                  for name in manifest["tables"]}
        files = {n: z.read(n) for n in z.namelist() if n.startswith("files/")}
    return manifest, tables, files


def rewrite(source: Path, target: Path, change, resum: bool) -> None:
    """Copy an archive, changing members with `change(name, bytes) -> bytes`; keep or recompute sums."""
    import hashlib

    with zipfile.ZipFile(source) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members = {n: change(n, data) for n, data in members.items()}
    if resum:
        members["SHA256SUMS"] = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(members.items())
                                        if n != "SHA256SUMS").encode()
    with zipfile.ZipFile(target, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


async def arrange_source() -> dict:
    """An attachment, a notification linking to a case and an inspection naming it, in Luqiao."""
    from core.cases import attachments
    from core.cases.tables import Case, CompanyMember
    from core.inspections.tables import Inspection
    from core.tables import Notification
    from tenants.scope import scoped
    from tests.helpers import in_tenant

    png = make_png()
    async with in_tenant("luqiao"):
        member = await scoped(CompanyMember).select().order_by(CompanyMember.id).first()
        case = await scoped(Case).objects().where(Case.company == member["company"]).order_by(Case.id).first()
        await attachments.store(case, SimpleNamespace(id=member["user"], roles={"company"}), "现场照片.png", png)
        await scoped(Notification).add(user=member["user"], kind="case", title="Case %(number)s was dispatched.",
                                       link=f"cases/{case.id}", source="archive-test")
        await scoped(Inspection).add(
            rule="long_overdue", dedupe_key=f"long_overdue:{case.id}", case=case.id, summary="archive test",
            params=json.dumps({"number": case.number}),
            evidence=json.dumps([{"kind": "case", "id": case.id, "label": case.number}], ensure_ascii=False))
    return {"png": png, "case_number": case.number}


async def clean_source() -> None:
    from core.inspections.tables import Inspection
    from core.tables import Notification
    from tenants.scope import scoped
    from tests.helpers import in_tenant

    async with in_tenant("luqiao"):
        await scoped(Notification).delete().where(Notification.source == "archive-test")
        await scoped(Inspection).delete().where(Inspection.summary == "archive test")


@pytest.fixture(scope="module")
async def trip():
    tmp = Path(tempfile.mkdtemp(prefix="qinqing-archive-"))
    made: list[Target] = []
    try:
        arranged = await arrange_source()
        try:
            first = tmp / "luqiao.zip"
            exported = qinqing_here("tenant", "export", "luqiao", str(first))
        finally:
            await clean_source()

        # A: the other engine, already holding a tenant (ids collide) and a user named like one of Luqiao's.
        a = Target("a", not SOURCE_IS_PG, tmp)
        made.append(a)
        a.qinqing("tenant", "apply", "tenants/manifests/jiaojiang.toml")
        a.qinqing("user", "create", "handler@luqiao", "--tenant", "jiaojiang", "--role", "handler",
                  "--password", OTHER_PASSWORD)
        refused = {}
        damaged = tmp / "damaged.zip"
        rewrite(first, damaged, lambda n, d: d.replace(b'"title": "', '"title": "改'.encode(), 1)
                if n == "tables/case_file.jsonl" else d, resum=False)
        refused["damaged"] = a.qinqing("tenant", "import", str(damaged), ok=False)
        forged = tmp / "forged.zip"
        rewrite(first, forged, lambda n, d: d.replace(b'"reason": "', '"reason": "篡改'.encode(), 1)
                if n == "tables/case_event.jsonl" else d, resum=True)
        refused["forged"] = a.qinqing("tenant", "import", str(forged), ok=False)
        not_zip = tmp / "notes.zip"
        not_zip.write_text("not an archive")
        refused["not_zip"] = a.qinqing("tenant", "import", str(not_zip), ok=False)
        refused["listed"] = a.qinqing("tenant", "list").stdout
        refused["files_after"] = sorted(str(p) for p in a.var.rglob("*") if p.is_file())

        imported_a = a.qinqing("tenant", "import", str(first))
        second = tmp / "luqiao-a.zip"
        a.qinqing("tenant", "export", "luqiao", str(second))

        # B: back on the source's engine, from A's archive, keeping attachments in the database store.
        b = Target("b", SOURCE_IS_PG, tmp, store="database")
        made.append(b)
        imported_b = b.qinqing("tenant", "import", str(second))
        third = tmp / "luqiao-b.zip"
        b.qinqing("tenant", "export", "luqiao", str(third))
        again = b.qinqing("tenant", "import", str(second), ok=False)
        fourth = tmp / "luqiao-b-again.zip"
        b.qinqing("tenant", "export", "luqiao", str(fourth))

        yield SimpleNamespace(a=a, b=b, tmp=tmp, exported=exported, refused=refused, imported_a=imported_a,
                              imported_b=imported_b, again=again, archives=[first, second, third, fourth], **arranged)
    finally:
        for target in made:
            target.drop()
        shutil.rmtree(tmp, ignore_errors=True)


def test_export_writes_one_archive_with_a_manifest_and_checksums(trip):
    manifest, tables, files = read_archive(trip.archives[0])
    assert manifest["format"] == "qinqing-tenant-archive" and manifest["format_version"] == 1
    assert manifest["slug"] == "luqiao" and manifest["source_engine"] == ("postgresql" if SOURCE_IS_PG else "sqlite")
    assert manifest["app_version"] and manifest["created_at"]
    for name in ("tenant", "app_user", "membership", "department", "section", "category", "company", "case_file",
                 "case_event", "audit_head", "attachment", "notification", "inspection", "mediation_referral",
                 "liaison_pairing", "cadre_campaign"):
        assert manifest["tables"][name] == len(tables[name]), name
        assert manifest["tables"][name] > 0, name
    assert "web_session" not in manifest["tables"] and "api_token" not in manifest["tables"]
    assert "outbox_message" not in manifest["tables"]
    assert all(u["password_hash"].startswith("$argon2") for u in tables["app_user"])
    assert {"dispatcher@luqiao", "company@luqiao"} <= {u["username"] for u in tables["app_user"]}
    assert not any(u["username"].endswith("@jiaojiang") for u in tables["app_user"])
    stored = {hashlib.sha256(data).hexdigest() for data in files.values()}
    assert trip.png in files.values() and {a["sha256"] for a in tables["attachment"]} <= stored
    with zipfile.ZipFile(trip.archives[0]) as z:
        sums = dict(line.split("  ")[::-1] for line in z.read("SHA256SUMS").decode().splitlines())
        assert set(sums) == set(z.namelist()) - {"SHA256SUMS"}
    assert "case_file" in trip.exported.stderr and "exported" in trip.exported.stdout


def test_every_count_is_equal_after_going_to_the_other_engine_and_back(trip):
    counts = [read_archive(path)[0]["tables"] for path in trip.archives]
    assert set(counts[0]) == set(counts[1]) == set(counts[2])
    for name, count in counts[0].items():
        # each import adds one record to the chain: the import itself
        extra = 1 if name == "case_event" else 0
        assert counts[1][name] == count + extra, name
        assert counts[2][name] == count + 2 * extra, name
    assert "case_event" in trip.imported_a.stderr and "the record verifies" in trip.imported_a.stdout


def test_values_survive_both_engines_and_every_reference_follows(trip):
    _, before, files_before = read_archive(trip.archives[0])
    _, after, files_after = read_archive(trip.archives[2])
    from tenants.archive import tenant_tables
    from tenants.archive_refs import renumber

    tables = {t._meta.tablename: t for t in tenant_tables()}
    users_before = {u["id"]: u for u in before["app_user"]}
    users_after = {u["username"]: u for u in after["app_user"]}
    maps = {"app_user": {i: users_after[u["username"]]["id"] for i, u in users_before.items()},
            "tenant": {before["tenant"][0]["id"]: after["tenant"][0]["id"]}}
    for name in tables:  # new ids keep the old order, so rows pair up by position
        maps[name] = {old["id"]: new["id"] for old, new in zip(before[name], after[name])}
    for name, table in tables.items():
        fks = {c._meta.name: c._foreign_key_meta.resolved_references._meta.tablename
               for c in table._meta.foreign_key_columns if c._meta.name != "tenant_id"}
        for old, new in zip(before[name], after[name]):
            expected = dict(old, id=maps[name][old["id"]])
            for column, target in fks.items():
                expected[column] = maps[target].get(old[column]) if old[column] is not None else None
            renumber(name, expected, lambda t, i: maps.get(t, {}).get(i))
            if name == "audit_head":
                expected.update(last_seq=old["last_seq"] + 2, last_hash=new["last_hash"])
            assert new == expected, (name, old, new)
    # users keep their password hashes, except the one linked to an existing user in A (kept as A had it)
    for user in before["app_user"]:
        carried = users_after[user["username"]]
        if user["username"] == "handler@luqiao":
            assert carried["password_hash"] != user["password_hash"]
        else:
            assert {k: v for k, v in carried.items() if k not in ("id", "is_system_admin")} == \
                   {k: v for k, v in user.items() if k not in ("id", "is_system_admin")}
            assert not carried.get("is_system_admin")
    source, copy = before["tenant"][0], after["tenant"][0]
    for key in ("slug", "name_zh", "name_en", "kind", "plugins", "settings", "hosts", "active", "created_at"):
        assert copy[key] == source[key], key
    assert sorted(files_after.values()) == sorted(files_before.values()) and trip.png in files_before.values()
    # a link and a finding's key inside text name the new ids
    case = next(c for c in after["case_file"] if c["number"] == trip.case_number)
    assert any(n["link"] == f"cases/{case['id']}" for n in after["notification"])
    assert any(i["dedupe_key"] == f"long_overdue:{case['id']}" and json.loads(i["evidence"])[0]["id"] == case["id"]
               for i in after["inspection"])


def test_the_record_verifies_on_both_targets_with_the_source_hashes(trip):
    for target in (trip.a, trip.b):
        done = target.qinqing("audit", "verify", "--tenant", "luqiao")
        assert "luqiao: ok" in done.stdout
    _, before, _ = read_archive(trip.archives[0])
    _, after, _ = read_archive(trip.archives[2])
    hashes = [e["hash"] for e in before["case_event"]]
    assert [e["hash"] for e in after["case_event"]][:len(hashes)] == hashes
    imports = [e for e in after["case_event"] if e["action"] == "tenant_import"]
    assert len(imports) == 2 and all(e["case"] is None and e["actor"] is None for e in imports)


def test_users_log_in_with_their_passwords_and_the_attachment_downloads(trip):
    _, after, _ = read_archive(trip.archives[2])
    attachment = next(a for a in after["attachment"] if a["filename"] == "现场照片.png")
    url = f"/t/luqiao/cases/{attachment['case']}/attachments/{attachment['id']}"
    logins = [["dispatcher@luqiao", DEMO_PASSWORD], ["company@luqiao", DEMO_PASSWORD],
              ["handler@luqiao", DEMO_PASSWORD], ["handler@luqiao", OTHER_PASSWORD]]
    done = trip.b.run("-c", LOGIN_SCRIPT, json.dumps(logins), url, DEMO_PASSWORD)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out[f"dispatcher@luqiao {DEMO_PASSWORD}"] == 303
    assert out[f"company@luqiao {DEMO_PASSWORD}"] == 303
    # handler@luqiao already existed in A: linked, not overwritten, so A's password stands
    assert out[f"handler@luqiao {DEMO_PASSWORD}"] == 401
    assert out[f"handler@luqiao {OTHER_PASSWORD}"] == 303
    assert "linked existing user handler@luqiao" in trip.imported_a.stdout
    assert trip.imported_a.stdout.count("linked existing user") == 1
    assert out["download"] == [200, trip.png.hex()]


def test_the_database_store_takes_the_files_in_and_gives_them_out_again(trip):
    _, _, files_b = read_archive(trip.archives[2])  # exported by B, whose files are in its database
    assert not [p for p in (trip.b.var / "attachments").rglob("*") if p.is_file()]
    assert sorted(files_b.values()) == sorted(read_archive(trip.archives[0])[2].values())
    assert trip.png in files_b.values() and "file_chunk" not in read_archive(trip.archives[2])[0]["tables"]


def test_importing_twice_is_refused_and_writes_nothing(trip):
    assert trip.again.returncode == 1
    assert trip.again.stderr.strip() == "error: a tenant with slug 'luqiao' already exists; nothing was imported"
    before, after = (read_archive(p)[0]["tables"] for p in trip.archives[2:4])
    assert before == after


def test_a_damaged_or_forged_archive_is_refused_and_writes_nothing(trip):
    damaged, forged, not_zip = (trip.refused[k] for k in ("damaged", "forged", "not_zip"))
    assert damaged.returncode == 1 and len(damaged.stderr.strip().splitlines()) == 1
    assert "tables/case_file.jsonl does not match its SHA-256 checksum; nothing was imported" in damaged.stderr
    # checksums recomputed by a forger: the record itself gives the edit away
    assert forged.returncode == 1
    assert forged.stderr.strip().splitlines()[-1] == (
        "error: the imported record of luqiao does not verify (event 1 was altered); nothing was imported")
    assert not_zip.returncode == 1 and "is not a tenant archive" in not_zip.stderr
    assert "luqiao" not in trip.refused["listed"] and "jiaojiang" in trip.refused["listed"]
    assert not any("attachments" in p for p in trip.refused["files_after"])
