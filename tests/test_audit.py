"""The tamper-evident record: `qinqing audit verify` passes on the demo data and names the
tenant and the first broken event after an edit, an insertion or a deletion."""

import subprocess
import sys

from core.cases.tables import Event
from tenants.scope import scoped
from tests.conftest import ROOT
from tests.helpers import in_tenant


def verify(*args):
    return subprocess.run([sys.executable, "-m", "core.cli", "audit", "verify", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_verify_passes_on_the_demo_data():
    done = verify()
    assert done.returncode == 0, done.stderr
    assert "luqiao: ok" in done.stdout and "jiaojiang: ok" in done.stdout and "pengjie: ok" in done.stdout


async def test_an_edited_event_is_found():
    async with in_tenant("pengjie"):
        row = await scoped(Event).select().where(Event.seq == 5).first()
        await scoped(Event).update({Event.reason: "篡改后的理由"}).where(Event.id == row["id"])
    try:
        done = verify("--tenant", "pengjie")
        assert done.returncode == 1
        assert "pengjie" in done.stderr and "event 5 was altered" in done.stderr
        assert verify("--tenant", "jiaojiang").returncode == 0
    finally:
        async with in_tenant("pengjie"):
            await scoped(Event).update({Event.reason: row["reason"]}).where(Event.id == row["id"])
    assert verify("--tenant", "pengjie").returncode == 0


async def test_a_deleted_event_is_found():
    async with in_tenant("pengjie"):
        row = await scoped(Event).select().where(Event.seq == 7).first()
        await scoped(Event).delete().where(Event.id == row["id"])
    try:
        done = verify("--tenant", "pengjie")
        assert done.returncode == 1 and "event 7 is missing" in done.stderr
    finally:
        async with in_tenant("pengjie"):
            restored = {k: v for k, v in row.items() if k not in ("id", "tenant_id")}
            await scoped(Event).insert(restored)
    assert verify("--tenant", "pengjie").returncode == 0


async def test_a_second_event_with_the_same_number_is_refused_by_the_database():
    import pytest

    async with in_tenant("pengjie"):
        row = await scoped(Event).select().where(Event.seq == 3).first()
    with pytest.raises(Exception):
        async with in_tenant("pengjie"):
            await scoped(Event).insert({k: v for k, v in row.items() if k not in ("id", "tenant_id")})


async def test_an_inserted_event_is_found():
    from core.cases.audit import event_hash

    async with in_tenant("pengjie") as tenant:
        last = await scoped(Event).select().order_by(Event.seq, ascending=False).first()
        forged = {k: v for k, v in last.items() if k not in ("id", "tenant_id")}
        forged.update(seq=last["seq"] + 1, reason="伪造", prev_hash=last["hash"])
        # A forger who knows the hash rule computes a valid link; the chain's head still gives it away.
        fields = {k: forged[k] for k in ("case", "actor", "actor_role", "action", "reason", "before", "after", "data")}
        forged["hash"] = event_hash(tenant.id, forged["seq"], fields, forged["created_at"], last["hash"])
        await scoped(Event).insert(forged)
    try:
        done = verify("--tenant", "pengjie")
        assert done.returncode == 1 and f"event {last['seq'] + 1} was inserted" in done.stderr
    finally:
        async with in_tenant("pengjie"):
            await scoped(Event).delete().where(Event.reason == "伪造")
    assert verify("--tenant", "pengjie").returncode == 0


async def test_the_deleted_last_event_is_found():
    async with in_tenant("pengjie"):
        last = await scoped(Event).select().order_by(Event.seq, ascending=False).first()
        await scoped(Event).delete().where(Event.id == last["id"])
    try:
        done = verify("--tenant", "pengjie")
        assert done.returncode == 1 and f"event {last['seq']} is missing" in done.stderr
    finally:
        async with in_tenant("pengjie"):
            await scoped(Event).insert({k: v for k, v in last.items() if k not in ("id", "tenant_id")})
