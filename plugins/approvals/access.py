"""Who sees and does what in the module.

Staff with ``approvals.view`` (coordinators, helpers, approval officers) see every project and
application of the tenant; a company user sees only its own company's, and anything else answers
404 so that another company's records are not even revealed to exist.  A coordinator
(``approvals.manage``) keeps the catalogue and the bundles and assigns helpers; a project's helper
(``approvals.help``) moves it on; an approval officer (``approvals.decide``) decides the
applications of their department (of every department when their role names none: the
integrated window, 综合窗口)."""

from __future__ import annotations

from datetime import date, timedelta

from core.sdk import Company, Membership, UserError, company_ids_of, members_with_role, scoped, today
from plugins.approvals.tables import BundleFiling, Filing, Project

HELPER_ROLES = ("approvals_helper", "approvals_coordinator")
OFFICER = "approvals_officer"


def forbid() -> UserError:
    return UserError(403, "You are not allowed to do this.")


def not_found() -> UserError:
    return UserError(404, "Not found.")


def invalid(field: str) -> UserError:
    return UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=field)


def check_day(value, field: str) -> None:
    """A date within reach of the working-day calendar: 2000 to twenty years from now (else 400)."""
    if value is not None and not (date(2000, 1, 1) <= value <= today() + timedelta(days=366 * 20)):
        raise invalid(field)


def is_staff(user) -> bool:
    return user is not None and user.can("approvals.view")


def is_company(user) -> bool:
    return user is not None and user.has_role("company")


def require(user, permission: str) -> None:
    if user is None or not user.can(permission):
        raise forbid()


def require_any(user) -> None:
    """Some standing in the module: staff, or a company user."""
    if not (is_staff(user) or is_company(user)):
        raise forbid()


async def visible_companies(user) -> list[int] | None:
    """The companies whose records `user` sees (None: the whole tenant's)."""
    require_any(user)
    if is_staff(user):
        return None
    return list(await company_ids_of(user.id))


async def _check(user, company_id: int | None) -> None:
    allowed = await visible_companies(user)
    if allowed is not None and company_id not in allowed:
        raise not_found()


async def load_project(user, project_id: int) -> Project:
    row = await scoped(Project).objects().where(Project.id == project_id).first()
    if row is None:
        raise not_found()
    await _check(user, row.company)
    return row


async def load_filing(user, filing_id: int) -> Filing:
    row = await scoped(Filing).objects().where(Filing.id == filing_id).first()
    if row is None:
        raise not_found()
    await _check(user, row.company)
    return row


async def load_bundle_filing(user, bundle_filing_id: int) -> BundleFiling:
    row = await scoped(BundleFiling).objects().where(BundleFiling.id == bundle_filing_id).first()
    if row is None:
        raise not_found()
    await _check(user, row.company)
    return row


def require_helper_of(user, project: Project | None) -> None:
    """A coordinator, or the project's own helper (any helper for an application without project)."""
    if user is None:
        raise forbid()
    if user.can("approvals.manage"):
        return
    if not user.can("approvals.help") or (project is not None and project.helper not in (None, user.id)):
        raise UserError(403, "Only the project's helper or a coordinator can do this.")


async def officer_departments(user) -> set[int] | None:
    """The departments whose applications `user` decides (None: every department)."""
    rows = await scoped(Membership).select(Membership.department).where(
        (Membership.user == user.id) & (Membership.role == OFFICER))
    departments = {r["department"] for r in rows}
    return None if not departments or None in departments else departments


async def require_decider(user, filing: Filing) -> None:
    require(user, "approvals.decide")
    departments = await officer_departments(user)
    if departments is not None and filing.department not in departments:
        raise UserError(403, "Only an approval officer of the department can decide this application.")


async def is_helper(user_id: int) -> bool:
    for role in HELPER_ROLES:
        if user_id in await members_with_role(role):
            return True
    return False


async def company_for(user, credit_code: str) -> Company:
    """The company an application or project is for: by credit code, or a company user's own."""
    code = (credit_code or "").strip().upper()
    own = list(await company_ids_of(user.id)) if is_company(user) else []
    if not code:
        if own:
            return await scoped(Company).objects().where(Company.id == own[0]).first()
        raise invalid("company")
    row = await scoped(Company).objects().where(Company.credit_code == code).first()
    if row is None or (not is_staff(user) and row.id not in own):
        raise UserError(400, "Unknown company: %(credit_code)s.", code="unknown_company", credit_code=code)
    return row
