"""Pairing companies with cadre assistants (一对一结对): assign, reassign with a reason (the
history is kept), bulk pairing from a CSV or XLSX file with a per-row report, and the companies
still without an assistant."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.cases.tables import Company
from core.clock import now
from core.company_import import ImportFileError, header_key, read_table
from core.errors import UserError
from core.i18n import N_
from core.tables import User
from plugins.liaison.access import is_assistant, is_coordinator
from plugins.liaison.tables import Pairing, PairingChange
from tenants.scope import scoped

MAX_ROWS = 5000
COLUMNS = {"credit_code": ("统一社会信用代码", "credit_code", "company"),
           "assistant": ("助企员", "assistant", "username", "助企员账号"),
           "reason": ("原因", "reason", "调整原因")}
MSG_UNKNOWN_COMPANY = N_("Unknown company: %(credit_code)s.")
MSG_UNKNOWN_ASSISTANT = N_("%(assistant)s is not a cadre assistant of this tenant.")
MSG_REQUIRED = N_("This value is required.")
MSG_MISSING = N_("Required columns are missing: %(columns)s.")
BULK_REASON = N_("Bulk pairing from a file")


def _require_coordinator(user) -> None:
    if not is_coordinator(user):
        raise UserError(403, "Only a township coordinator can pair companies with assistants.")


async def pair(user, company_id: int, assistant_id: int, reason: str = "") -> Pairing:
    """Give the company its assistant; a change of assistant needs a reason and is kept in history."""
    _require_coordinator(user)
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
                                    changed_by=user.id, changed_at=now())
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


# -- bulk pairing from a file ------------------------------------------------------------------

@dataclass
class BulkReport:
    applied: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)  # {"row", "field", "message", "params"}


def _columns(header: list[str]) -> dict[str, int]:
    aliases = {header_key(n): key for key, names in COLUMNS.items() for n in names}
    found = {}
    for index, text in enumerate(header):
        key = aliases.get(header_key(text))
        if key is not None and key not in found:
            found[key] = index
    missing = [COLUMNS[k][0] for k in ("credit_code", "assistant") if k not in found]
    if missing:
        raise UserError(400, MSG_MISSING, code="import_file", columns=", ".join(missing))
    return found


async def bulk_pair(user, filename: str, data: bytes) -> BulkReport:
    """Apply every good row of the file; each bad row is reported and skipped."""
    _require_coordinator(user)
    try:
        rows = read_table(data)
        header = next(rows, None)
        if not header:
            raise ImportFileError(N_("The file is empty."))
        columns = _columns(header)
        table = [(n, r) for n, r in enumerate(rows, start=2) if any(r)][:MAX_ROWS]
    except ImportFileError as exc:
        raise UserError(400, exc.message, code="import_file", **exc.params) from None
    companies = {r["credit_code"]: r["id"] for r in await scoped(Company).select(Company.id, Company.credit_code)}
    report = BulkReport()
    for number, cells in table:
        cells = cells + [""] * (max(columns.values()) + 1 - len(cells))
        code, username = cells[columns["credit_code"]].upper(), cells[columns["assistant"]]
        reason = cells[columns["reason"]] if "reason" in columns else ""
        errors = []
        if not code:
            errors.append(("credit_code", MSG_REQUIRED, {}))
        elif code not in companies:
            errors.append(("credit_code", MSG_UNKNOWN_COMPANY, {"credit_code": code}))
        assistant = await User.select(User.id).where(User.username == username).first() if username else None
        if not username:
            errors.append(("assistant", MSG_REQUIRED, {}))
        elif assistant is None or not await is_assistant(assistant["id"]):
            errors.append(("assistant", MSG_UNKNOWN_ASSISTANT, {"assistant": username}))
        if errors:
            report.errors += [{"row": number, "field": f, "message": m, "params": p} for f, m, p in errors]
            continue
        before = await scoped(Pairing).select(Pairing.assistant).where(Pairing.company == companies[code]).first()
        if before and before["assistant"] == assistant["id"]:
            report.unchanged += 1
            continue
        await pair(user, companies[code], assistant["id"], reason or BULK_REASON)
        report.applied += 1
    return report
