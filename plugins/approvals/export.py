"""The module's tables as one XLSX workbook (openpyxl): projects, applications, shortfalls and the
catalogue with its figures."""

from __future__ import annotations

import io

from litestar.response import Response
from openpyxl import Workbook

from core.sdk import N_, gettext, scoped, xlsx_row
from plugins.approvals import catalogue, views
from plugins.approvals.labels import FILING_STATUSES, stage_label
from plugins.approvals.tables import Shortfall

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet(wb, title: str, head: tuple[str, ...]):
    ws = wb.create_sheet(gettext(title))
    ws.append([gettext(h) for h in head])
    return ws


async def workbook() -> Response:
    wb = Workbook(write_only=True)
    ws = _sheet(wb, N_("Projects"), (N_("Project"), N_("Company"), N_("Site"), N_("Amount (yuan)"), N_("Industry"),
                                     N_("Stage"), N_("Helper"), N_("Next step"), N_("Due")))
    for p in await views.projects(None):
        nxt = p["next"] or {}
        ws.append(xlsx_row(ws, [p["name"], p["company_name"], p["site"], p["amount"], p["industry"],
                                gettext(stage_label(p["stage"])) if p["stage"] else "", p["helper_name"],
                                gettext(stage_label(nxt["text"])) if nxt.get("kind") == "stage" else nxt.get("text", ""),
                                nxt.get("due_on")]))
    ws = _sheet(wb, N_("Applications"), (N_("Approval"), N_("Company"), N_("Project"), N_("Department"),
                                         N_("Status"), N_("Submitted"), N_("Due"), N_("Decided"),
                                         N_("Materials asked"), N_("Accepted with materials missing"), N_("Case")))
    for f in await views.filings(None):
        ws.append(xlsx_row(ws, [f["item_zh"], f["company_name"], f["project_name"], f["department_zh"],
                                gettext(FILING_STATUSES[f["status"]]), f["submitted_on"], f["due_on"],
                                f["decided_on"], f["materials_asked"], gettext(N_("yes")) if f["waived"] else "",
                                f["case_number"] or ""]))
    ws = _sheet(wb, N_("Missing materials"), (N_("Application"), N_("Material"), N_("Due"), N_("Received"),
                                              N_("Chases"), N_("Flagged")))
    for s in await scoped(Shortfall).select(Shortfall.filing, Shortfall.material.name_zh.as_alias("material"),
                                            Shortfall.due_on, Shortfall.received_on, Shortfall.chases,
                                            Shortfall.flagged_on).order_by(Shortfall.id):
        ws.append(xlsx_row(ws, [s["filing"], s["material"], s["due_on"], s["received_on"], s["chases"],
                                s["flagged_on"]]))
    ws = _sheet(wb, N_("Approval catalogue"), (N_("Code"), N_("Approval"), N_("Department"), N_("Materials before"),
                                               N_("Materials now"), N_("Key materials"), N_("Statutory working days"),
                                               N_("Committed working days")))
    for i in await catalogue.items():
        ws.append(xlsx_row(ws, [i["code"], i["name_zh"], i["department_zh"], i["materials_before"], i["materials_now"],
                                i["key_materials"], i["statutory_days"], i["committed_days"]]))
    buf = io.BytesIO()
    wb.save(buf)
    return Response(buf.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="approvals.xlsx"'})
