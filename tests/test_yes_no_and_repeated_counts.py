"""Two small things an official notices: the cases export says 是/否 (Yes/No) in every yes/no
column, 不能办 included; a repeated-refusal inspection's "N 次" follows later refusals."""

from __future__ import annotations

import csv
import io
import json

from core.inspections.tables import Inspection
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import Browser, in_tenant, process_background
from tests.test_inspections import _key_of, evaluate_again, fresh_category, one, opened, refused_in


def _columns(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    return rows[0], rows[1:]


async def test_the_cases_csv_says_yes_or_no_in_every_yes_no_column(app):
    api = Api(app)
    await api.refused()  # at least one case refused (不能办)
    b = Browser(app)
    await b.login("dispatcher@luqiao", "luqiao")
    header, rows = _columns((await b.get("/t/luqiao/exports/cases.csv?refused=1")).text)
    assert rows
    for name in ("超期", "提级办理", "不能办", "已推翻"):
        values = {r[header.index(name)] for r in rows}
        assert values <= {"是", "否"}, (name, values)
    assert {r[header.index("不能办")] for r in rows} == {"是"}
    await b.get("/t/luqiao/lang/en?next=/t/luqiao/")
    header, rows = _columns((await b.get("/t/luqiao/exports/cases.csv")).text)
    for name in ("Overdue", "Escalated", "Refused", "Overturned"):
        assert {r[header.index(name)] for r in rows} <= {"Yes", "No"}, name
    assert {r[header.index("Refused")] for r in rows} == {"Yes", "No"}  # never a count, never empty


async def test_a_repeated_refusal_inspection_counts_the_later_refusals(app):
    api = Api(app)
    category = await fresh_category()
    await refused_in(api, category)
    second = await refused_in(api, category)
    await process_background()
    key = await _key_of(second["id"])
    assert json.loads(one(await opened("repeated_refusal", key=key))["params"])["count"] == 2
    third = await refused_in(api, category)
    await process_background()
    await evaluate_again(third["id"])
    row = one(await opened("repeated_refusal", key=key))
    assert json.loads(row["params"])["count"] == 3
    assert third["number"] in json.dumps(json.loads(row["evidence"]), ensure_ascii=False)
    inspector = Browser(app)
    await inspector.login("inspector@luqiao", "luqiao")
    page = await inspector.get(f"/t/luqiao/inspections/{row['id']}")
    assert page.status_code == 200 and "3 次" in page.text and "2 次" not in page.text
    async with in_tenant("luqiao"):  # a concluded inspection keeps what it was concluded on
        await scoped(Inspection).update({Inspection.status: "concluded"}).where(Inspection.id == row["id"])
    fourth = await refused_in(api, category)
    await process_background()
    await evaluate_again(fourth["id"])
    assert json.loads(one(await opened("repeated_refusal", key=key))["params"])["count"] == 3
