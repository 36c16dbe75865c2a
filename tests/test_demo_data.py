"""Demo data a district would recognise: each demo company logs in with its own account, every
department has its first responder, and each case is handled and signed in its own department."""

from __future__ import annotations

import re
import tomllib
from datetime import datetime, timezone

from core.cases.demo import demo_credit_code
from core.cases.tables import Case, Company, CompanyMember, SignOff
from core.tables import Department, Membership, User
from tenants.scope import scoped
from tests.conftest import ROOT
from tests.helpers import in_tenant

DEMO_UNTIL = datetime(2026, 11, 25, tzinfo=timezone.utc)  # the demo year's cases end before; tests add later ones
DEMO_COMPANY_LOGIN = re.compile(r"^company(\d{2})?@luqiao$")  # other tests add company users of their own


def _demo_department_codes(slug: str) -> set[str]:
    """The departments the demo manifest declares (other tests add departments, some left empty on purpose)."""
    manifest = tomllib.loads((ROOT / "tenants" / "manifests" / f"{slug}.toml").read_text(encoding="utf-8"))
    return {d["code"] for d in manifest.get("departments", [])}


async def test_each_demo_company_has_its_own_account():
    async with in_tenant("luqiao"):
        codes = [demo_credit_code("331004", 10_000 + i) for i in range(60)]  # the demo's own sixty companies
        companies = {c["id"] for c in await scoped(Company).select(Company.id).where(Company.credit_code.is_in(codes))}
        members = await scoped(CompanyMember).select(CompanyMember.company, CompanyMember.user.username.as_alias("u"))
        demo = [m for m in members if DEMO_COMPANY_LOGIN.match(m["u"]) and m["company"] in companies]
        by_company = {}
        for m in demo:
            by_company.setdefault(m["company"], set()).add(m["u"])
        assert len(by_company) == 60 and all(len(users) == 1 for users in by_company.values())
        assert len({u for users in by_company.values() for u in users}) == 60  # no account for two companies
        submitted = await scoped(Case).select(Case.company, Case.submitted_by).where(Case.submitted_at < DEMO_UNTIL)
        own = {(m["company"], m["user"]) for m in await scoped(CompanyMember).select(CompanyMember.company,
                                                                                      CompanyMember.user)}
        assert submitted and all((c["company"], c["submitted_by"]) in own for c in submitted)


async def test_every_department_has_a_first_responder_and_handles_its_own_cases():
    for slug in ("luqiao", "jiaojiang", "pengjie"):
        async with in_tenant(slug):
            codes = _demo_department_codes(slug)
            departments = {d["id"] for d in await scoped(Department).select(Department.id, Department.code)
                           if d["code"] in codes}
            staff = await scoped(Membership).select(Membership.user, Membership.role, Membership.department)
            handlers = {(m["user"], m["department"]) for m in staff if m["role"] == "handler"}
            assert departments <= {d for _, d in handlers}, slug
            signers = {(m["user"], m["department"], m["role"]) for m in staff}
            cases = await scoped(Case).select(Case.id, Case.handler, Case.department).where(
                (Case.submitted_at < DEMO_UNTIL) & Case.handler.is_not_null() & Case.department.is_in(
                    list(departments)))
            assert cases and all((c["handler"], c["department"]) in handlers for c in cases), slug
            signed = await scoped(SignOff).select(SignOff.signer, SignOff.level,
                                                  SignOff.refusal.case.department.as_alias("department"))
            assert all((s["signer"], s["department"], s["level"]) in signers for s in signed), slug
            departments_handling = {c["department"] for c in cases}
            assert len(departments_handling) > 1, slug  # not one department doing every case


async def test_demo_staff_carry_names_not_department_labels():
    names = [u["display_name"] for u in await User.select(User.display_name).where(
        User.username.like("%@luqiao") & User.username.not_like("mediation%"))]
    assert names and not [n for n in names if "·" in n or "局" in n]
