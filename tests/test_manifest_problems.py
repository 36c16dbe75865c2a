"""Manifest validation lists every problem at once, shape problems included, each with its path;
system-only roles are refused; company users are linked to their company by its credit code."""

import pytest

from core.cases.tables import Company, CompanyMember
from core.tables import User
from tenants.manifest import ManifestError
from tenants.onboarding import apply_manifest
from tenants.registry import load_tenant
from tenants.scope import scoped
from tests.helpers import in_tenant
from tests.test_system_console import console, upload
from tests.test_tenants import qinqing

GOOD_CODE = "91331004MA2AB0001U"
OTHER_CODE = "91331004MA2AB0002Y"

HEAD = """
slug = "{slug}"
name_zh = "五问镇"
name_en = "Wuwen Township"
kind = "township"
parent = "luqiao"

[[departments]]
code = "jjb"
name_zh = "经济办"
"""

FIVE = HEAD + """
[[categories]]
code = "general"
name_zh = "综合"
deadline_days = 5

[[categories]]
code = "roads"
name_zh = "道路"
lead = ""
deadline_days = 5

[[users]]
username = "a@{slug}"
display_name = "甲"
roles = ["pope"]

[[users]]
username = "b@{slug}"
display_name = "乙"
roles = ["system_admin"]

[[users]]
username = "c@{slug}"
display_name = "丙"
roles = ["company"]
company = "91331004MA2AB000"
"""

FIVE_FIELDS = {"categories[0].lead", "categories[1].lead", "users[0].roles[0]", "users[1].roles[0]",
               "users[2].company"}


async def test_five_problems_of_different_kinds_are_listed_at_once():
    with pytest.raises(ManifestError) as info:
        await apply_manifest(FIVE.format(slug="wuwen"))
    problems = info.value.problems
    assert {p.field for p in problems} == FIVE_FIELDS, problems
    assert len(problems) == 5
    by_field = {p.field: p.message for p in problems}
    assert by_field["categories[0].lead"] == "is missing"
    assert "system role" in by_field["users[1].roles[0]"]
    assert "18 characters" in by_field["users[2].company"]
    assert await load_tenant("wuwen") is None


async def test_shape_problems_do_not_hide_each_other():
    text = HEAD.format(slug="xingzhuang") + """
colour = "red"
[[categories]]
code = "general"
name_zh = 7
lead = "jjb"
deadline_days = "five"
"""
    with pytest.raises(ManifestError) as info:
        await apply_manifest(text)
    assert {p.field: p.message for p in info.value.problems} == {
        "departments[0].colour": "unknown field", "categories[0].name_zh": "must be text",
        "categories[0].deadline_days": "must be a whole number"}
    assert await load_tenant("xingzhuang") is None


async def test_the_console_lists_all_five_in_the_users_language(app):
    b = await console(app)
    page = await upload(b, "validate", FIVE.format(slug="wuwen-console"))
    assert page.status_code == 400
    assert 'data-problems="5"' in page.text
    for field in FIVE_FIELDS:
        assert f'data-problem="{field}"' in page.text
    assert "缺少此项" in page.text and "系统角色" in page.text  # zh-CN, the default
    assert await load_tenant("wuwen-console") is None


def test_the_cli_lists_all_five(tmp_path):
    path = tmp_path / "five.toml"
    path.write_text(FIVE.format(slug="wuwen-cli"), encoding="utf-8")
    done = qinqing("tenant", "apply", str(path))
    assert done.returncode == 1 and "nothing was applied" in done.stderr
    for field in FIVE_FIELDS:
        assert f"  - {field}: " in done.stderr, done.stderr


LINKED = HEAD + """
[[categories]]
code = "general"
name_zh = "综合"
lead = "jjb"
deadline_days = 5

[[companies]]
credit_code = "{code}"
name = "五问机械有限公司"
township = "五问镇"

[[users]]
username = "boss@{slug}"
display_name = "王经理"
roles = ["company"]
company = "{code}"
liaison = true
"""


async def members(slug: str, username: str) -> list[tuple[str, bool]]:
    user = await User.select(User.id).where(User.username == username).first()
    async with in_tenant(slug):
        rows = await scoped(CompanyMember).select(CompanyMember.company.credit_code, CompanyMember.is_liaison).where(
            CompanyMember.user == user["id"])
    return [(r["company.credit_code"], r["is_liaison"]) for r in rows]


async def test_a_company_user_is_linked_by_the_credit_code():
    result = await apply_manifest(LINKED.format(slug="wuwen-linked", code=GOOD_CODE))
    assert result.created
    assert await members("wuwen-linked", "boss@wuwen-linked") == [(GOOD_CODE, True)]
    async with in_tenant("wuwen-linked"):
        assert (await scoped(Company).select(Company.name).first())["name"] == "五问机械有限公司"
    # Applied again with a second user: the company registered before needs no declaration.
    again = (LINKED.format(slug="wuwen-linked", code=GOOD_CODE).split("[[companies]]")[0]
             + '[[users]]\nusername = "clerk@wuwen-linked"\ndisplay_name = "李会计"\nroles = ["company"]\n'
             f'company = "{GOOD_CODE.lower()}"\n')
    await apply_manifest(again)
    assert await members("wuwen-linked", "clerk@wuwen-linked") == [(GOOD_CODE, False)]
    # A code neither declared nor registered is a problem, and nothing is applied.
    unknown = again.replace("clerk@", "temp@").replace(GOOD_CODE.lower(), OTHER_CODE)
    with pytest.raises(ManifestError) as info:
        await apply_manifest(unknown)
    assert [p.field for p in info.value.problems] == ["users[0].company"]
    assert await User.select(User.id).where(User.username == "temp@wuwen-linked").first() is None


async def test_the_console_applies_companies_before_the_users_linked_to_them(app):
    from tests.helpers import process_background

    await process_background()  # an empty outbox, so the steps below are this job's
    b = await console(app)
    started = await upload(b, "apply", LINKED.format(slug="wuwen-console-linked", code=OTHER_CODE))
    assert started.status_code == 303, started.text[:500]
    await process_background()
    done = await b.client.get(started.headers["location"], headers={"HX-Request": "true"})
    assert 'data-status="done"' in done.text, done.text[:500]
    assert await members("wuwen-console-linked", "boss@wuwen-console-linked") == [(OTHER_CODE, True)]
