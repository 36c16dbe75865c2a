"""The printable monthly report (月度报告): the month's figures, index, ranking, red flags,
inspections and policies, laid out for paper."""

from __future__ import annotations

import re
from datetime import date

from litestar import Controller, Request, get
from litestar.params import FromPath

from core.errors import UserError
from core.oversight.figures import tenant_figures
from core.oversight.flags import red_flags
from core.oversight.index import compute
from core.oversight.screen import DEFINITIONS, ranking
from web.rendering import page, requires

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ReportPages(Controller):
    path = "/t/{tenant:str}/report"
    include_in_schema = False  # pages; the OpenAPI schema documents the JSON API
    guards = [requires("screen.view")]

    @get("/{month:str}", name="monthly_report")
    async def monthly(self, request: Request, month: FromPath[str]) -> object:
        match = MONTH.match(month)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field="month")
        figures = await tenant_figures(only_month=month)
        index = await compute(figures, month)
        inspections = await _inspections(month)
        return page(request, "oversight/report.html", month=month, totals=figures.total.as_dict(),
                    ranking=ranking(figures), flags=red_flags(figures), index=index, inspections=inspections,
                    definitions=DEFINITIONS, printed=date.today())


async def _inspections(month: str) -> dict:
    from core.inspections.api import month_counts

    return await month_counts(month)
