"""Exports (导出): the console's cases, filtered as on screen, and the department ranking, to
XLSX (openpyxl) and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import Response
from openpyxl import Workbook

from core.cases import queries, states as S
from core.errors import UserError
from core.i18n import N_, gettext
from core.oversight.screen import payload
from web.pages.cases import _filter_from
from web.rendering import current_user, login_required, tenant_of

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


def _cell(key: str, value):
    if key == "status":
        return gettext(S.STATUS_LABELS.get(value, value))
    if isinstance(value, bool):
        return gettext(N_("yes")) if value else ""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str) and key == "submitted_at":
        return value[:19]
    return value


def _table(columns, rows) -> tuple[list[str], list[list]]:
    return [gettext(label) for _, label in columns], [[_cell(k, r.get(k)) for k, _ in columns] for r in rows]


def _respond(kind: str, name: str, header: list[str], body: list[list]) -> Response:
    if kind == "xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(name)
        ws.append(header)
        for row in body:
            ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        content, media = buf.getvalue(), XLSX
    elif kind == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows([[v.isoformat() if isinstance(v, (date, datetime)) else v for v in row] for row in body])
        content, media = ("\ufeff" + text.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    else:
        raise UserError(404, "Not found.")
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'})


class ExportPages(Controller):
    path = "/t/{tenant:str}/exports"
    guards = [login_required]

    @get(["/cases.xlsx", "/cases.csv"], name="export_cases")
    async def cases(self, request: Request) -> Response:
        kind = request.url.path.rsplit(".", 1)[-1]
        user = current_user(request)
        if not (user.can("console.view") or user.can("screen.view")):
            raise UserError(403, "You are not allowed to do this.")
        rows = await queries.all_cases(user, _filter_from(request))
        header, body = _table(CASE_COLUMNS, rows)
        return _respond(kind, "cases", header, body)

    @get(["/ranking.xlsx", "/ranking.csv"], name="export_ranking")
    async def ranking(self, request: Request, area: Annotated[str, Parameter(query="scope")] = "") -> Response:
        kind = request.url.path.rsplit(".", 1)[-1]
        if not current_user(request).can("screen.view"):
            raise UserError(403, "You are not allowed to do this.")
        data = await payload(tenant_of(request), area)
        header, body = _table(RANKING_COLUMNS, data["ranking"])
        return _respond(kind, "ranking", header, body)
