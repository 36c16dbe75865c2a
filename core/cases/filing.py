"""The company a case is filed for (诉求主体): the one its credit code names, which must be the
submitter's own unless filed on its behalf; and the text a case is found by."""

from __future__ import annotations

from typing import NamedTuple

from core.cases.access import company_ids_of
from core.cases.tables import Company, CompanyMember
from core.errors import UserError
from core.prepared import Prepared, Read, together
from core.scope import scoped


def search_text(*parts: str) -> str:
    """The text a case is searched by (its title, description and company name, segmented)."""
    from core.cases.search import index_text

    return index_text(*parts)


_COMPANY_BY_CODE = Prepared(lambda credit_code: scoped(Company).objects().where(Company.credit_code == credit_code),
                            first=True)
# The submitter's own company, when the case names none (the lowest id, if they act for several).
_OWN_COMPANY = Prepared(lambda user_id: scoped(Company).objects().where(Company.id.is_in(
    scoped(CompanyMember).select(CompanyMember.company).where(CompanyMember.user == user_id))).order_by(Company.id),
                        first=True)


class FiledFor(NamedTuple):
    """What a submission needs of its company (a row, not a `Company` object: see `company_reads`)."""

    id: int
    name: str
    township: str


_FILED_COLUMNS = (Company.id, Company.name, Company.township)
_FILED_BY_CODE = Prepared(lambda credit_code: scoped(Company).select(*_FILED_COLUMNS).where(
    Company.credit_code == credit_code), first=True)
_FILED_OWN = Prepared(lambda user_id: scoped(Company).select(*_FILED_COLUMNS).where(Company.id.is_in(
    scoped(CompanyMember).select(CompanyMember.company).where(CompanyMember.user == user_id))).order_by(Company.id),
                      first=True)


def _filed_for(row: dict | None) -> FiledFor | None:
    return FiledFor(row["id"], row["name"], row["township"]) if row else None


def company_reads(user, code: str, rows: bool = False) -> tuple[Read, Read]:
    """The submitter's companies (needed only to check a named one) and the company meant: a
    `Company`, or with `rows` a `FiledFor` (cheaper to make; the same company)."""
    if code:
        company = _FILED_BY_CODE.bind(code.upper()).then(_filed_for) if rows else _COMPANY_BY_CODE.bind(code.upper())
        return company_ids_of(user.id), company
    return Read.value([]), _FILED_OWN.bind(user.id).then(_filed_for) if rows else _OWN_COMPANY.bind(user.id)


async def company_for(user, code: str, on_behalf: bool) -> Company:
    """The company a case by `user` is filed for (400 when `code` names none the user may file for)."""
    own, company = await together(*company_reads(user, code))
    check_company(code, company, own, on_behalf)
    return company


def check_company(code: str, company: Company | FiledFor | None, own: list[int], on_behalf: bool) -> None:
    """The company a case is filed for is the one `code` names, which must be the submitter's own
    unless filed on its behalf; without a code, the submitter's own."""
    if code and (company is None or (not on_behalf and company.id not in own)):
        raise UserError(400, "Unknown company: %(credit_code)s.", code="unknown_company", credit_code=code)
    if not code and company is None:
        raise UserError(400, "Name the company (its unified social credit code).", code="company_required")
