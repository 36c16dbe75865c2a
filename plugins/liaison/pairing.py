"""Pairing companies with cadre assistants (一对一结对): assign, reassign with a reason (the
history is kept), and the companies still without an assistant.  Bulk pairing from a file is
:mod:`plugins.liaison.pairing_import`."""

from __future__ import annotations

from core.sdk import Company, UserError, now, scoped
from plugins.liaison.access import is_assistant, is_coordinator
from plugins.liaison.tables import Pairing, PairingChange


def require_coordinator(user) -> None:
    if not is_coordinator(user):
        raise UserError(403, "Only a township coordinator can pair companies with assistants.")


async def pair(user, company_id: int, assistant_id: int, reason: str = "") -> Pairing:
    """Give the company its assistant; a change of assistant needs a reason and is kept in history."""
    require_coordinator(user)
    return await assign(user.id, company_id, assistant_id, reason)


async def assign(changed_by: int, company_id: int, assistant_id: int, reason: str = "") -> Pairing:
    """`pair` for a coordinator already checked (`changed_by`), as a bulk pairing job runs."""
    company = await scoped(Company).objects().where(Company.id == company_id).first()
    if company is None:
        raise UserError(404, "Not found.")
    if not await is_assistant(assistant_id):
        raise UserError(400, "Choose a cadre assistant of this tenant.", code="not_an_assistant")
    reason = (reason or "").strip()[:1000]
    current = await scoped(Pairing).objects().where(Pairing.company == company_id).first()
    if current is not None and current.assistant == assistant_id:
        return current
    if current is not None and not reason:
        raise UserError(400, "Give the reason for the reassignment.", code="reason_required")
    previous = current.assistant if current is not None else None
    if current is None:
        current = await scoped(Pairing).add(company=company_id, assistant=assistant_id, assigned_at=now())
    else:
        current.assistant, current.assigned_at = assistant_id, now()
        await current.save([Pairing.assistant, Pairing.assigned_at])
    await scoped(PairingChange).add(company=company_id, previous=previous, assistant=assistant_id, reason=reason,
                                    changed_by=changed_by, changed_at=now())
    return current


async def history(company_id: int) -> list[dict]:
    return await scoped(PairingChange).select(
        PairingChange.changed_at, PairingChange.reason, PairingChange.previous.display_name.as_alias("previous_name"),
        PairingChange.assistant.display_name.as_alias("assistant_name"),
        PairingChange.changed_by.display_name.as_alias("changed_by_name"),
    ).where(PairingChange.company == company_id).order_by(PairingChange.id)


async def unpaired() -> list[dict]:
    paired = {r["company"] for r in await scoped(Pairing).select(Pairing.company)}
    rows = await scoped(Company).select(Company.id, Company.name, Company.credit_code, Company.industry).order_by(
        Company.id)
    return [r for r in rows if r["id"] not in paired]
