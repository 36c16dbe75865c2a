"""The module's tables as one XLSX workbook (openpyxl): inspections, findings and outcomes, the
lists, and the figures per company per year.  Text cells never run as formulas (`xlsx_row`)."""

from __future__ import annotations

import io

from openpyxl import Workbook

from core.sdk import N_, gettext, scoped, xlsx_row
from plugins.enforcement import findings, lists, views
from plugins.enforcement.inspections import COLUMNS as INSPECTION_COLUMNS
from plugins.enforcement.labels import FINDING_STATUSES, INSPECTION_STATUSES, LIST_KINDS, OUTCOMES
from plugins.enforcement.tables import Inspection

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet(wb: Workbook, title: str, headers: tuple[str, ...]):
    ws = wb.create_sheet(gettext(title))
    ws.append([gettext(h) for h in headers])
    return ws


async def export_xlsx() -> bytes:
    wb = Workbook(write_only=True)
    ws = _sheet(wb, N_("Inspections of companies"), (N_("Date"), N_("Company"), N_("Credit code"), N_("Department"),
                                        N_("Subject"), N_("Legal basis"), N_("Inspectors"), N_("Joint inspection"),
                                        N_("Status")))
    for r in await scoped(Inspection).select(*INSPECTION_COLUMNS).order_by(Inspection.planned_on):
        ws.append(xlsx_row(ws, [str(r["planned_on"]), r["company_name"], r["credit_code"], r["department_name"],
                                r["subject"], r["legal_basis"], r["inspectors"], r["joint"] or "",
                                gettext(INSPECTION_STATUSES.get(r["status"], r["status"]))]))
    ws = _sheet(wb, N_("Findings"), (N_("Date"), N_("Company"), N_("Department"), N_("Finding"), N_("List item"),
                                     N_("First violation"), N_("Outcome"), N_("Penalty (yuan)"), N_("Reason"),
                                     N_("Status"), N_("Signed off by"), N_("Contest case")))
    for f in reversed(await findings.list_for(None)):
        ws.append(xlsx_row(ws, [str(f["planned_on"]), f["company_name"], f["department_name"], f["description"],
                                f["item_code"] or "", gettext(N_("yes")) if f["first_violation"] else "",
                                gettext(OUTCOMES[f["outcome"]]), f["penalty_fen"] / 100, f["reason"],
                                gettext(FINDING_STATUSES.get(f["status"], f["status"])), f["signed_by_name"] or "",
                                f["case_number"] or ""]))
    ws = _sheet(wb, N_("Lists"), (N_("List"), N_("Item code"), N_("Violation or measure"), N_("Conditions"),
                                  N_("Legal basis"), N_("Department"), N_("Active")))
    for i in await lists.items():
        ws.append(xlsx_row(ws, [gettext(LIST_KINDS[i["kind"]]), i["code"], i["title"], i["conditions"],
                                i["legal_basis"], i["department_name"] or "", gettext(N_("yes")) if i["active"] else ""]))
    data = await views.figures()
    ws = _sheet(wb, N_("Per company per year"), (N_("Year"), N_("Company"), N_("Inspections held"), N_("Visits"),
                                                 N_("Departments")))
    for e in data["per_company"]:
        ws.append(xlsx_row(ws, [e["year"], e["company_name"], e["inspections"], e["visits"], e["departments"]]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
