"""Who sees what in the liaison network.

A coordinator (``liaison.coordinate``) sees every company; an assistant only the companies paired
with them; a company user only its own company (and so only its own assistant and records).
Anything else answers 404, so another assistant's companies are not even revealed to exist.
"""

from __future__ import annotations

from core.cases.access import company_ids_of, members_with_role
from core.cases.tables import Company
from core.errors import UserError
from plugins.liaison.tables import Pairing
from tenants.scope import scoped

ASSISTANT = "liaison_assistant"


def is_coordinator(user) -> bool:
    return user.can("liaison.coordinate")


async def visible_company_ids(user) -> list[int] | None:
    """The companies `user` may see here (None: all of the tenant's)."""
    if is_coordinator(user):
        return None
    ids: set[int] = set()
    if user.can("liaison.assist"):
        rows = await scoped(Pairing).select(Pairing.company).where(Pairing.assistant == user.id)
        ids |= {r["company"] for r in rows}
    if user.has_role("company"):
        ids |= set(await company_ids_of(user.id))
    return sorted(ids)


async def visible_company(user, company_id: int) -> Company:
    allowed = await visible_company_ids(user)
    company = await scoped(Company).objects().where(Company.id == company_id).first()
    if company is None or (allowed is not None and company_id not in allowed):
        raise UserError(404, "Not found.")
    return company


async def assistant_of(company_id: int) -> int | None:
    row = await scoped(Pairing).select(Pairing.assistant).where(Pairing.company == company_id).first()
    return row["assistant"] if row else None


async def is_assistant(user_id: int) -> bool:
    return user_id in await members_with_role(ASSISTANT)


async def require_assistant_of(user, company_id: int) -> None:
    """Only the company's own assistant acts for it (a coordinator may too)."""
    if is_coordinator(user) and user.can("case.submit_on_behalf"):
        return
    if not user.can("liaison.assist") or await assistant_of(company_id) != user.id:
        raise UserError(403, "Only the company's own assistant can do this.")
