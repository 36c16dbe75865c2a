"""The company registry (市场主体): registering companies, their users and liaison (企业联络员)."""

from __future__ import annotations

from core.cases.search import contains
from core.cases.tables import Company, CompanyMember
from core.errors import UserError
from core.scope import scoped
from core.uscc import InvalidCreditCode, validate_uscc

FIELDS = ("name", "industry", "township", "address", "contact_name", "contact_phone", "email", "liaison_name")


async def register_company(credit_code: str, name: str, **details) -> tuple[Company, bool]:
    """Create or update a company by its code; returns (company, created)."""
    try:
        code = validate_uscc(credit_code)
    except InvalidCreditCode as exc:
        code = "credit_code_" + exc.reason
        raise UserError(400, exc.message, code=code, **exc.params) from None
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="name")
    values = {k: (details.get(k) or "")[:300] for k in FIELDS if k != "name" and details.get(k) is not None}
    existing = await scoped(Company).objects().where(Company.credit_code == code).first()
    if existing is None:
        return await scoped(Company).add(credit_code=code, name=name, **values), True
    existing.name = name
    for key, value in values.items():
        setattr(existing, key, value)
    await existing.save()
    return existing, False


async def add_member(company_id: int, user_id: int, liaison: bool = False) -> None:
    row = await scoped(CompanyMember).objects().where(
        (CompanyMember.company == company_id) & (CompanyMember.user == user_id)).first()
    if row is None:
        await scoped(CompanyMember).add(company=company_id, user=user_id, is_liaison=liaison)
    elif row.is_liaison != liaison:
        row.is_liaison = liaison
        await row.save([CompanyMember.is_liaison])


REGISTRY_COLUMNS = (Company.id, Company.name, Company.credit_code, Company.industry, Company.township,
                    Company.contact_name, Company.liaison_name)


async def registry_page(q: str = "", page_no: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    """A page of the registry (名录) in id order, and how many companies match: `q` matches the name,
    or the credit code exactly."""
    query, count = scoped(Company).select(*REGISTRY_COLUMNS), scoped(Company).count()
    if q:
        clause = contains(Company.name, q[:50]) | (Company.credit_code == q.strip().upper()[:18])
        query, count = query.where(clause), count.where(clause)
    rows = await query.order_by(Company.id).limit(per_page).offset((page_no - 1) * per_page)
    return rows, await count
