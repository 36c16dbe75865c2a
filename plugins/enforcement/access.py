"""Who may see and do what in the module.

- Staff who read the whole tenant's record: officers (`enforcement.view`), department chains and
  leaders (`signoff.view`), oversight (`screen.view`, `case.view_all`) and the tenant admin.
- An officer (`enforcement.inspect`) registers inspections and records findings for their own
  departments only.
- The department head (core role `dept_head` of the inspection's department) signs off a penalty
  that needs it — never the officer who recorded it.
- A company user sees only the inspections and findings of their own companies (others: 404).
- The tenant admin (`tenant.admin`) keeps the lists (清单).
"""

from __future__ import annotations

from core.sdk import Company, Department, UserError, company_ids_of, requires, scoped

STAFF_PERMISSIONS = ("enforcement.view", "signoff.view", "screen.view", "case.view_all", "tenant.admin")
# Guards for the checks that depend only on the user's roles (the domain checks them again).
READERS = requires(*STAFF_PERMISSIONS, roles=("company",))
STAFF = requires(*STAFF_PERMISSIONS)
OFFICERS = requires("enforcement.inspect")
ADMINS = requires("tenant.admin")


def forbidden() -> UserError:
    return UserError(403, "You are not allowed to do this.")


def not_found() -> UserError:
    return UserError(404, "Not found.")


def invalid(field: str) -> UserError:
    return UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=field)


def is_staff(user) -> bool:
    return user is not None and not user.has_role("company") and any(user.can(p) for p in STAFF_PERMISSIONS)


def is_company(user) -> bool:
    return user is not None and user.has_role("company")


def require_reader(user) -> None:
    if not (is_staff(user) or is_company(user)):
        raise forbidden()


def require_admin(user) -> None:
    if user is None or not user.can("tenant.admin"):
        raise forbidden()


async def own_companies(user) -> list[int] | None:
    """The companies `user` may see: None for staff (all of the tenant's), a company user's own."""
    require_reader(user)
    if is_staff(user):
        return None
    return list(await company_ids_of(user.id))


async def require_company_visible(user, company_id: int) -> None:
    companies = await own_companies(user)
    if companies is not None and company_id not in companies:
        raise not_found()


def require_officer_of(user, department_id: int) -> None:
    if user is None or not user.can("enforcement.inspect") or department_id not in user.department_ids:
        raise forbidden()


def require_head_of(user, department_id: int) -> None:
    if user is None or not user.has_role("dept_head") or department_id not in user.department_ids:
        raise UserError(403, "Only the head of the inspecting department can sign this off.")


async def department_of(user, value) -> int:
    """The department an officer acts for: the one named (code or id) among theirs, or their only one."""
    mine = sorted(user.department_ids)
    if value in (None, ""):
        if len(mine) == 1:
            return mine[0]
        raise invalid("department")
    row = await scoped(Department).select(Department.id).where(
        Department.id == int(value) if str(value).isdigit() else Department.code == str(value)).first()
    if row is None:
        raise invalid("department")
    require_officer_of(user, row["id"])
    return row["id"]


async def company_of(value) -> Company:
    """A company of the tenant by its unified social credit code (or id)."""
    text = str(value or "").strip().upper()
    if not text:
        raise invalid("company")
    where = Company.id == int(text) if text.isdigit() and len(text) < 12 else Company.credit_code == text
    company = await scoped(Company).objects().where(where).first()
    if company is None:
        raise UserError(400, "Unknown company: %(credit_code)s.", code="unknown_company", credit_code=text)
    return company
