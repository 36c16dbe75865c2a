"""`qinqing attachments move`: a tenant's files go local → database → local by the real command,
checksums unchanged, the attachment downloading at every step; an interrupted move resumes; a
copy that does not match its recorded checksum stays where it is; other tenants are untouched."""

import hashlib
import os
import subprocess
import sys
from types import SimpleNamespace

from core.cases.tables import Attachment, Case, CompanyMember
from core.storage import file_store, new_key
from tenants.scope import scoped
from tests.conftest import ROOT
from tests.helpers import Browser, in_tenant
from tests.test_filetypes import make_pdf

FILE = make_pdf() + b"%" + os.urandom(600_000).replace(b"%%EOF", b"xxxxx")


def move(slug: str, to: str, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "cli", "attachments", "move", "--tenant", slug, "--to", to],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert (done.returncode == 0) == ok, done.stdout + done.stderr
    return done


async def _arrange():
    from core.cases import attachments

    async with in_tenant("luqiao"):
        member = await scoped(CompanyMember).select().order_by(CompanyMember.id).first()
        case = await scoped(Case).objects().where(Case.company == member["company"]).order_by(Case.id).first()
        row = await attachments.store(case, SimpleNamespace(id=member["user"], roles={"company"}), "搬迁.pdf", FILE)
    return row


async def _keys() -> dict[str, set[str]]:
    async with in_tenant("luqiao") as tenant:
        return {name: set(await file_store(name).keys(tenant)) for name in ("local", "database")}


async def test_files_move_to_the_database_and_back_verified_and_downloadable(app):
    move("luqiao", "local")  # start with every file of the tenant on disk (other tests may have used the database)
    row = await _arrange()  # stored in the local store, the default
    async with in_tenant("jiaojiang") as jiaojiang:
        other = new_key()
        await file_store("local").put(jiaojiang, other, b"jiaojiang's file")
    company = Browser(app)
    await company.login("company@luqiao", "luqiao")
    url = f"/t/luqiao/cases/{row.case}/attachments/{row.id}"

    async def downloads() -> None:
        got = await company.client.get(url)
        assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == row.sha256 == \
            hashlib.sha256(FILE).hexdigest()

    await downloads()
    keys = await _keys()
    assert row.storage_key in keys["local"] and row.storage_key not in keys["database"]
    count = len(keys["local"])

    moved = move("luqiao", "database")
    assert f"{count} of {count} files moved from the local store to the database store" in moved.stdout
    assert "ATTACHMENT_STORE is local" in moved.stderr  # the setting still sends new uploads to the disk
    keys = await _keys()
    assert not keys["local"] and len(keys["database"]) == count and row.storage_key in keys["database"]
    await downloads()
    assert "nothing to move" in move("luqiao", "database").stdout  # again: nothing left to do

    moved = move("luqiao", "local")
    assert f"{count} of {count} files moved from the database store to the local store" in moved.stdout
    keys = await _keys()
    assert not keys["database"] and row.storage_key in keys["local"]
    await downloads()
    async with in_tenant("jiaojiang") as jiaojiang:  # another tenant's file never moved
        assert await file_store("local").read(jiaojiang, other) == b"jiaojiang's file"
        assert not await file_store("database").keys(jiaojiang)
    await company.close()


async def test_an_interrupted_move_resumes_and_a_damaged_file_stays_put(app):
    row = await _arrange()
    async with in_tenant("luqiao") as tenant:
        # an earlier run copied this one and stopped before removing the source
        await file_store("database").put(tenant, row.storage_key, FILE)
        # and this attachment's file no longer matches the checksum its row records
        damaged = await _arrange()
        await file_store("local").put(tenant, damaged.storage_key, FILE + b"tampered")
    moved = move("luqiao", "database", ok=False)
    assert "already there" in moved.stdout and damaged.storage_key in moved.stderr
    assert "does not match its recorded SHA-256" in moved.stderr
    keys = await _keys()
    assert row.storage_key in keys["database"] and row.storage_key not in keys["local"]
    assert damaged.storage_key in keys["local"] and damaged.storage_key not in keys["database"]
    async with in_tenant("luqiao") as tenant:
        assert await file_store("database").sha256(tenant, row.storage_key) == row.sha256
        await file_store("local").put(tenant, damaged.storage_key, FILE)  # put right
    move("luqiao", "local")
    keys = await _keys()
    assert not keys["database"] and {row.storage_key, damaged.storage_key} <= keys["local"]
    async with in_tenant("luqiao"):
        assert await scoped(Attachment).count().where(Attachment.id.is_in([row.id, damaged.id])) == 2
