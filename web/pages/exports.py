"""Exports (导出): the console's cases, filtered as on screen, and the department ranking, to
XLSX (openpyxl) and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Response
from openpyxl import Workbook

from core.cases import queries, states as S
from core.errors import UserError
from core.export_cells import csv_value, xlsx_row
from core.i18n import N_, gettext
from core.names import localized
from core.oversight.levels import payload
from web.pages.cases import _filter_from
from web.rendering import current_user, login_required, requires, tenant_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CASE_COLUMNS = [("number", N_("Number")), ("title", N_("Title")), ("company_name", N_("Company")),
                ("department_name", N_("Department")), ("category_name", N_("Category")),
                ("handler_name", N_("Handler")), ("status", N_("Status")), ("due_date", N_("Due")),
                ("overdue", N_("Overdue")), ("escalated", N_("Escalated")), ("refused_count", N_("Refused")),
                ("overturned", N_("Overturned")), ("submitted_at", N_("Submitted"))]
RANKING_COLUMNS = [("department", N_("Department")), ("reported", N_("Reported")), ("completed", N_("Completed")),
                   ("refused", N_("Refused")), ("overturned", N_("Overturned")), ("overdue", N_("Overdue")),
                   ("response_rate", N_("Response rate")), ("resolution_rate", N_("Resolution rate")),
                   ("satisfaction_rate", N_("Satisfaction rate")), ("avg_days", N_("Average working days to completion"))]


# The case list's yes/no columns, whatever the engine returns (a bool, 0/1, or the count of
# refusals under 不能办): 是/否, Yes/No.  (The ranking's columns of the same names are counts.)
CASE_YES_NO = frozenset({"overdue", "escalated", "refused_count", "overturned"})


def _cell(key: str, value, yes_no: frozenset[str] = frozenset()):
    if key == "status":
        return gettext(S.STATUS_LABELS.get(value, value))
    if key in yes_no or isinstance(value, bool):
        return gettext(N_("Yes")) if value else gettext(N_("No"))
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str) and key == "submitted_at":
        return value[:19]
    return value


NAMED = {"department_name", "category_name"}  # in the reader's language (core.names.localized)


def _table(columns, rows, yes_no: frozenset[str] = frozenset()) -> tuple[list[str], list[list]]:
    return [gettext(label) for _, label in columns], [
        [_cell(k, localized(r, k) if k in NAMED else r.get(k), yes_no) for k, _ in columns] for r in rows]


def _respond(kind: str, name: str, header: list[str], body: list[list]) -> Response:
    if kind == "xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(name)
        ws.append(header)
        for row in body:
            ws.append(xlsx_row(ws, row))
        buf = io.BytesIO()
        wb.save(buf)
        content, media = buf.getvalue(), XLSX
    elif kind == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows([[v.isoformat() if isinstance(v, (date, datetime)) else csv_value(v) for v in row]
                          for row in body])
        content, media = ("\ufeff" + text.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    else:
        raise UserError(404, "Not found.")
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'})


INDEX_COLUMNS = [("label", N_("Indicator")), ("side", N_("Side")), ("value", N_("Value")), ("weight", N_("Weight")),
                 ("contribution", N_("Contribution"))]
INSPECTION_COLUMNS = [("id", N_("Number")), ("rule", N_("Rule")), ("status", N_("Status")),
                      ("conclusion", N_("Conclusion")), ("opened_at", N_("Opened"))]


class ExportPages(Controller):
    path = "/t/{tenant:str}/exports"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [login_required]

    @get(["/cases.xlsx", "/cases.csv"], name="export_cases", guards=[requires("console.view", "screen.view")])
    async def cases(self, request: Request) -> Response:
        kind = request.url.path.rsplit(".", 1)[-1]
        rows = await queries.all_cases(current_user(request), _filter_from(request))
        header, body = _table(CASE_COLUMNS, rows, CASE_YES_NO)
        return _respond(kind, "cases", header, body)

    @get(["/ranking.xlsx", "/ranking.csv"], name="export_ranking", guards=[requires("screen.view")])
    async def ranking(self, request: Request, area: Annotated[str, QueryParameter(name="scope")] = "") -> Response:
        kind = request.url.path.rsplit(".", 1)[-1]
        data = await payload(tenant_of(request), area)
        header, body = _table(RANKING_COLUMNS, data["ranking"])
        return _respond(kind, "ranking", header, body)


    @get(["/index.xlsx", "/index.csv"], name="export_index", guards=[requires("screen.view")])
    async def index(self, request: Request) -> Response:
        from core.oversight.figures import tenant_figures
        from core.oversight.index import compute

        kind = request.url.path.rsplit(".", 1)[-1]
        result = await compute(await tenant_figures())
        rows = [{**c, "label": gettext(c["label"]), "side": gettext(N_("Closeness (亲)") if c["side"] == "closeness"
                                                                    else N_("Cleanness (清)"))}
                for c in result["components"]]
        rows.append({"label": gettext(N_("Index")), "side": "", "value": None, "weight": None,
                     "contribution": result["score"]})
        header, body = _table(INDEX_COLUMNS, rows)
        return _respond(kind, "index", header, body)

    @get(["/inspections.xlsx", "/inspections.csv"], name="export_inspections", guards=[requires("inspection.view")])
    async def inspections(self, request: Request) -> Response:
        from core.inspections.api import inspections_to_export

        kind = request.url.path.rsplit(".", 1)[-1]
        q = request.query_params
        rows = await inspections_to_export(status=q.get("status", ""), rule=q.get("rule", ""))
        header, body = _table(INSPECTION_COLUMNS, rows)
        return _respond(kind, "inspections", header, body)
