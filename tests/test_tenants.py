"""Tenant manifests: apply idempotently, reject malformed ones whole, enable and disable plugins."""

import subprocess
import sys

import pytest

from core.tables import Category, Department, Membership
from tenants.manifest import ManifestError, demo_manifest_paths
from tenants.onboarding import apply_manifest
from tenants.registry import load_tenant
from tenants.scope import scoped
from tests.conftest import ROOT
from tests.helpers import in_tenant

NEW = """
slug = "xinqiao"
name_zh = "新桥镇"
name_en = "Xinqiao Township"
kind = "township"
parent = "luqiao"
plugins = ["liaison"]

[[departments]]
code = "jjb"
name_zh = "经济办"
sections = [{ code = "fw", name_zh = "服务组" }]

[[categories]]
code = "general"
name_zh = "综合"
lead = "jjb"
deadline_days = 5

[[users]]
username = "admin@xinqiao"
display_name = "新桥镇管理员"
roles = ["tenant_admin"]
department = "jjb"
"""


def qinqing(*args):
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True)


async def counts(slug):
    async with in_tenant(slug):
        return (await scoped(Department).count(), await scoped(Category).count(), await scoped(Membership).count())


async def test_apply_creates_then_updates_idempotently():
    first = await apply_manifest(NEW, default_password="x-Password-1")
    assert first.created and first.tenant.parent_id == (await load_tenant("luqiao")).id
    before = await counts("xinqiao")
    assert before == (1, 1, 1)
    again = await apply_manifest(NEW.replace('name_zh = "综合"', 'name_zh = "综合事务"'))
    assert not again.created
    assert await counts("xinqiao") == before
    async with in_tenant("xinqiao"):
        assert (await scoped(Category).select(Category.name_zh).first())["name_zh"] == "综合事务"


async def test_demo_manifests_reapply_without_change():
    before = {s: await counts(s) for s in ("luqiao", "pengjie", "jiaojiang")}
    for path in demo_manifest_paths():
        await apply_manifest(path.read_text(encoding="utf-8"))
    assert {s: await counts(s) for s in before} == before


@pytest.mark.parametrize("broken, field", [
    ('slug = "bad"\nname_zh = "x"\nname_en = "x"\nkind = 3\n', "kind"),
    ('slug = "bad"\nname_zh = "x"\n', "name_en"),
    ('slug = "bad"\nname_zh = "x"\nname_en = "x"\nkind = "district"\ncolour = "red"\n', "colour"),
    ('slug = "bad"\nname_zh = "x"\nname_en = "x"\nkind = "township"\nparent = "nowhere"\n', "parent"),
    ('slug = "bad"\nname_zh = "x"\nname_en = "x"\nkind = "district"\nplugins = ["teleport"]\n', "plugins[0]"),
    ('slug = "bad"\nname_zh = "x"\nname_en = "x"\nkind = "district"\n[[categories]]\ncode = "c"\n'
     'name_zh = "c"\nlead = "ghost"\ndeadline_days = 3\n', "categories[0].lead"),
    ('slug = "bad"\nname_zh = "x"\nname_en = "x"\nkind = "district"\n[[users]]\nusername = "u"\n'
     'display_name = "u"\nroles = ["pope"]\n', "users[0].roles[0]"),
    ('slug = "bad\nname', "TOML"),
])
async def test_malformed_manifest_is_rejected_whole_naming_the_field(broken, field):
    with pytest.raises(ManifestError) as info:
        await apply_manifest(broken)
    assert any(field in p for p in info.value.problems), info.value.problems
    assert await load_tenant("bad") is None


async def test_every_problem_is_listed_at_once():
    text = NEW.replace('slug = "xinqiao"', 'slug = "two-errors"').replace('lead = "jjb"', 'lead = "nope"').replace(
        'roles = ["tenant_admin"]', 'roles = ["nobody"]')
    with pytest.raises(ManifestError) as info:
        await apply_manifest(text)
    assert len(info.value.problems) == 2
    assert await load_tenant("two-errors") is None


def test_cli_tenant_commands(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('slug = "cli-bad"\nname_zh = "x"\nname_en = "x"\nkind = "county"\n', encoding="utf-8")
    done = qinqing("tenant", "apply", str(bad))
    assert done.returncode == 1 and "kind" in done.stderr and "nothing was applied" in done.stderr
    good = tmp_path / "good.toml"
    good.write_text(NEW.replace("xinqiao", "clitown"), encoding="utf-8")
    done = qinqing("tenant", "apply", str(good))
    assert done.returncode == 0 and "clitown created" in done.stdout
    assert "admin@clitown password:" in done.stdout
    assert qinqing("tenant", "enable-plugin", "clitown", "mediation").returncode == 0
    listed = qinqing("tenant", "list").stdout
    line = [l for l in listed.splitlines() if l.startswith("clitown")][0]
    assert "liaison,mediation" in line
    assert qinqing("tenant", "disable-plugin", "clitown", "liaison").returncode == 0
    line = [l for l in qinqing("tenant", "list").stdout.splitlines() if l.startswith("clitown")][0]
    assert "plugins=mediation" in line
    assert qinqing("tenant", "enable-plugin", "clitown", "teleport").returncode == 1
