"""The record anchored outside the database (存证): chain heads signed daily with a key kept in a
file, published on the public page, in anchors.json and in the export, and a record held to the
heads saved earlier — a chain rewritten consistently (events and head) verifies on its own but
fails against them."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import zipfile

from core.cases.tables import AuditAnchor, AuditHead, Event
from tenants.scope import scoped
from tests.conftest import ROOT, TMP
from tests.helpers import in_tenant


def qinqing(*args):
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


async def _head(slug: str) -> tuple[int, str]:
    async with in_tenant(slug):
        head = await scoped(AuditHead).select().first()
    return head["last_seq"], head["last_hash"]


async def _anchors(slug: str) -> list[dict]:
    async with in_tenant(slug):
        return await scoped(AuditAnchor).select().order_by(AuditAnchor.seq)


async def _saved(client, slug: str = "pengjie") -> dict:
    response = await client.get(f"/t/{slug}/public/anchors.json")
    assert response.status_code == 200
    return response.json()


async def test_anchor_signs_every_head_with_a_key_made_on_first_use():
    from core.cases.audit import append_event

    key = TMP / "audit_signing_key.pem"
    for slug in ("luqiao", "pengjie", "jiaojiang"):  # a daily job run by another module may have signed a head
        async with in_tenant(slug):
            await append_event(action="attach", actor=None, actor_role="system", data={"note": "moves the head"})
    before = len(await _anchors("pengjie"))
    done = qinqing("audit", "anchor")
    assert done.returncode == 0, done.stderr
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "BEGIN PRIVATE KEY" in key.read_text()
    for slug in ("luqiao", "pengjie", "jiaojiang"):
        seq, digest = await _head(slug)
        assert f"{slug}: head {seq} signed" in done.stdout
        assert [(a["seq"], a["hash"]) for a in await _anchors(slug)][-1] == (seq, digest)
    again = qinqing("audit", "anchor", "--tenant", "pengjie")  # the head has not moved: nothing new
    assert again.returncode == 0 and "nothing new to sign" in again.stdout
    assert len(await _anchors("pengjie")) == before + 1


async def test_the_daily_job_signs_a_head_that_moved():
    from core.cases.audit import append_event
    from core.plugins import get_plugin_manager
    from workers.scheduler import run_job

    job = next(j for j in get_plugin_manager().scheduled_jobs() if j.name == "audit_anchors")
    assert job.interval_seconds == 86400
    async with in_tenant("jiaojiang"):
        await append_event(action="attach", actor=None, actor_role="system", data={"note": "moves the head"})
    await run_job(job)
    seq, digest = await _head("jiaojiang")
    assert (await _anchors("jiaojiang"))[-1]["seq"] == seq


async def test_a_broken_record_is_never_signed():
    from core.cases.anchors import anchor_tenant
    from core.cases.audit import append_event

    async with in_tenant("jiaojiang"):
        event = await append_event(action="attach", actor=None, actor_role="system", data={})
        await scoped(Event).update({Event.reason: "篡改"}).where(Event.seq == event.seq)
        try:
            assert await anchor_tenant() is None
            assert not await scoped(AuditAnchor).exists().where(AuditAnchor.seq == event.seq)
        finally:
            await scoped(Event).update({Event.reason: ""}).where(Event.seq == event.seq)


async def test_the_public_page_publishes_the_heads_and_the_key(client):
    from core.cases.anchors import signature_valid

    saved = await _saved(client)
    assert saved["tenant"] == "pengjie" and saved["algorithm"] == "Ed25519" and len(saved["public_key"]) == 64
    assert saved["anchors"] and all(signature_valid("pengjie", a, saved["public_key"]) for a in saved["anchors"])
    download = await client.get("/t/pengjie/public/anchors.json")
    assert 'filename="anchors.json"' in download.headers["content-disposition"]
    page = await client.get("/t/pengjie/public/")
    assert page.status_code == 200
    assert saved["public_key"] in page.text and f'data-anchor="{saved["anchors"][-1]["seq"]}"' in page.text
    assert "记录存证" in page.text and 'href="anchors.json"' in page.text


async def test_the_export_carries_the_signed_heads(tmp_path):
    archive = tmp_path / "pengjie.zip"
    done = qinqing("tenant", "export", "pengjie", str(archive))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(archive) as z:
        manifest = json.loads(z.read("manifest.json"))
        rows = [json.loads(line) for line in z.read("tables/audit_anchor.jsonl").decode().splitlines() if line]
    published = manifest["audit"]["anchors"]
    assert published["tenant"] == "pengjie" and published["anchors"]
    assert [a["seq"] for a in published["anchors"]] == [r["seq"] for r in rows]


async def test_verify_holds_the_record_to_saved_heads(client, tmp_path):
    saved = tmp_path / "anchors.json"
    saved.write_text(json.dumps(await _saved(client)), encoding="utf-8")
    done = qinqing("audit", "verify", "--anchors", str(saved))
    assert done.returncode == 0, done.stderr
    assert "pengjie: ok" in done.stdout and "signed heads hold" in done.stdout
    assert "luqiao" not in done.stdout  # the file names its tenant


async def test_a_forged_signature_or_another_key_fails(client, tmp_path):
    document = await _saved(client)
    forged = json.loads(json.dumps(document))
    forged["anchors"][0]["hash"] = "f" * 64
    (tmp_path / "forged.json").write_text(json.dumps(forged), encoding="utf-8")
    done = qinqing("audit", "verify", "--anchors", str(tmp_path / "forged.json"))
    assert done.returncode == 1 and "is not signed by key" in done.stderr
    (tmp_path / "saved.json").write_text(json.dumps(document), encoding="utf-8")
    other = qinqing("audit", "verify", "--anchors", str(tmp_path / "saved.json"), "--key", "ab" * 32)
    assert other.returncode == 1 and "is not signed by key abababab" in other.stderr


async def test_a_rewritten_chain_verifies_alone_but_fails_against_the_published_heads(client, tmp_path):
    """The forger rewrites an event and every later one, hashes and head included: the chain is
    consistent again, so plain verify passes; the heads published earlier give it away."""
    from core.cases.audit import event_hash

    saved = tmp_path / "anchors.json"
    document = await _saved(client)
    saved.write_text(json.dumps(document), encoding="utf-8")
    anchored = document["anchors"][-1]["seq"]
    async with in_tenant("pengjie") as tenant:
        original = await scoped(Event).select().where(Event.seq >= anchored - 2).order_by(Event.seq)
        head = await scoped(AuditHead).select().first()
        prev = original[0]["prev_hash"]
        for row in original:
            role = "伪造者" if row["seq"] == anchored - 2 else row["actor_role"]  # who did it, rewritten
            fields = {k: row[k] for k in ("case", "actor", "reason", "action", "before", "after", "data")}
            digest = event_hash(tenant.id, row["seq"], dict(fields, actor_role=role), row["created_at"], prev)
            await scoped(Event).update({Event.actor_role: role, Event.prev_hash: prev, Event.hash: digest}).where(
                Event.id == row["id"])
            prev = digest
        await scoped(AuditHead).update({AuditHead.last_hash: prev})
    try:
        alone = qinqing("audit", "verify", "--tenant", "pengjie")
        assert alone.returncode == 0, alone.stderr
        held = qinqing("audit", "verify", "--anchors", str(saved))
        assert held.returncode == 1
        caught = min(a["seq"] for a in document["anchors"] if a["seq"] >= anchored - 2)  # the first signed head
        assert f"pengjie: BROKEN — event {caught} differs from the head signed on" in held.stderr, held.stderr
    finally:
        async with in_tenant("pengjie"):
            for row in original:
                await scoped(Event).update({Event.actor_role: row["actor_role"], Event.prev_hash: row["prev_hash"],
                                            Event.hash: row["hash"]}).where(Event.id == row["id"])
            await scoped(AuditHead).update({AuditHead.last_hash: head["last_hash"]})
    assert qinqing("audit", "verify", "--anchors", str(saved)).returncode == 0


async def test_the_signed_heads_are_behind_row_level_security():
    import os

    import pytest
    from piccolo.engine import engine_finder

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("row-level security is a PostgreSQL feature; this runs in the PostgreSQL pass of .ci/run")
    from core.rls import tenant_tables

    assert "audit_anchor" in tenant_tables()
    async with in_tenant("jiaojiang") as jiaojiang:
        conn = engine_finder().current_transaction.get().connection
        assert await conn.fetchval("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'audit_anchor'")
        assert {r["tenant_id"] for r in await conn.fetch("SELECT tenant_id FROM audit_anchor")} == {jiaojiang.id}
