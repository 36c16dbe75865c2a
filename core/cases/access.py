"""Who may see a case, and who acts for a department: the case-level access rules."""

from __future__ import annotations

from piccolo.columns.combination import Where

from core.cases.tables import Case, CompanyMember
from core.errors import UserError
from core.prepared import Prepared, Read
from core.scope import scoped
from core.tables import Membership

_COMPANY_IDS = Prepared(lambda user_id: scoped(CompanyMember).select(CompanyMember.company).where(
    CompanyMember.user == user_id))


def company_ids_of(user_id: int) -> Read:
    """The ids of the companies `user_id` acts for."""
    return _COMPANY_IDS.bind(user_id).then(lambda rows: [r["company"] for r in rows])


async def visibility(user) -> Where | None:
    """A filter for the cases `user` may see (None: all of the tenant's cases)."""
    if user.can("case.view_all"):
        return None
    clause = (Case.submitted_by == user.id) | (Case.escalated_to == user.id)  # whom an escalation reached
    if user.can("case.view_dept") and user.department_ids:
        clause = clause | Case.department.is_in(list(user.department_ids))
    if user.can("case.view_own"):
        companies = await company_ids_of(user.id)
        if companies:
            clause = clause | Case.company.is_in(companies)
    return clause


_CASE = Prepared(lambda case_id: scoped(Case).objects().where(Case.id == case_id), first=True)


async def load_visible_case(user, case_id: int) -> Case:
    """The case, if `user` may see it; otherwise 404 (its existence is not revealed)."""
    clause = await visibility(user)
    if clause is None:
        case = await _CASE.first(case_id)
    else:
        case = await scoped(Case).objects().where((Case.id == case_id) & clause).first()
    if case is None:
        raise UserError(404, "Not found.")
    return case


_MEMBERS = Prepared(lambda role: scoped(Membership).select(Membership.user).where(Membership.role == role))
_DEPARTMENT_MEMBERS = Prepared(lambda role, department_id: scoped(Membership).select(Membership.user).where(
    (Membership.role == role) & (Membership.department == department_id)))


def members_with_role(role: str, department_id: int | None = None) -> Read:
    """User ids holding `role` in the tenant (within `department_id` when given); a read, to await
    or to run with others (`core.prepared.together`)."""
    read = _MEMBERS.bind(role) if department_id is None else _DEPARTMENT_MEMBERS.bind(role, department_id)
    return read.then(lambda rows: sorted({r["user"] for r in rows}))


async def company_users(company_id: int) -> list[int]:
    """The ids of the users who act for the company (its members), sorted."""
    rows = await scoped(CompanyMember).select(CompanyMember.user).where(CompanyMember.company == company_id)
    return sorted({r["user"] for r in rows})
