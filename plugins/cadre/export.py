"""A campaign's evidence sheets, ratings and outcomes, and its totals, as XLSX (openpyxl)."""

from __future__ import annotations

import io

from litestar.response import Response
from openpyxl import Workbook

from core.sdk import N_, gettext, xlsx_row
from plugins.cadre.evidence import FIELDS
from plugins.cadre.labels import OUTCOMES, RATINGS
from plugins.cadre.views import campaign_detail

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEAD = (N_("Cadre"), N_("Post"), N_("Rank"), N_("Department"))
TAIL = (N_("Average score"), N_("Rating"), N_("Outcome"), N_("Reason"))


async def campaign_xlsx(campaign_id: int) -> Response:
    data = await campaign_detail(campaign_id)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(gettext(N_("Evidence sheets")))
    ws.append([gettext(h) for h in HEAD] + [gettext(label) for _, label in FIELDS] + [gettext(t) for t in TAIL])
    for s in data["sheets"]:
        ws.append(xlsx_row(ws, [s["name"], s["post"], s["rank"], s["department_name"]]
                           + [s["evidence"].get(key) for key, _ in FIELDS]
                           + [s["average"], gettext(RATINGS[s["rating"]]) if s["rating"] else "",
                              gettext(OUTCOMES[s["outcome"]]) if s["outcome"] else "", s["outcome_reason"]]))
    totals = wb.create_sheet(gettext(N_("Outcomes")))
    totals.append([gettext(N_("Outcome")), gettext(N_("Total"))] + [gettext(RATINGS[r]) for r in RATINGS])
    for key, label in OUTCOMES.items():
        totals.append([gettext(label), data["totals"]["outcomes"][key]]
                      + [data["totals"]["by_rating"][r].get(key, 0) for r in RATINGS])
    buf = io.BytesIO()
    wb.save(buf)
    return Response(buf.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}.xlsx"'})
