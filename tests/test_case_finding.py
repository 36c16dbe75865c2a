"""Finding and routing a case: dispatch preselects the category's lead department and names its
co-handlers; a case is found by its number (whole or a prefix) in the API, the console and the top
bar's search, which opens a case the user may see and reveals no other; the console's count
follows its filter."""

import re

from core.cases.search import _successor, number_prefix
from core.cases.tables import Case
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import Browser, in_tenant


async def browser(app, role: str, slug: str = "luqiao") -> Browser:
    b = Browser(app)
    response = await b.login(f"{role}@{slug}", slug)
    assert response.status_code == 303, response.text
    return b


def dispatch_form(html: str) -> str:
    match = re.search(r'<form[^>]*data-step="dispatch".*?</form>', html, flags=re.S)
    assert match, "no dispatch form"
    return match.group(0)


def selected_department(form: str) -> list[str]:
    return re.findall(r'<option value="(\w+)" selected', form)


async def test_dispatch_preselects_the_lead_department_and_names_co_handlers(app):
    api = Api(app)
    labour = await api.submit(title="社保补缴流程咨询", description="新员工社保如何补缴", category="labour")
    policy = await api.submit(title="技改补助何时兑现", description="申报已满三个月", category="policy")
    dispatcher = await browser(app, "dispatcher")
    form = dispatch_form((await dispatcher.get(f"/t/luqiao/cases/{labour['id']}")).text)
    # 用工与社保 is led by 人社局 (rsj), not the first department listed (zgj)
    assert selected_department(form) == ["rsj"]
    assert "data-co-departments" not in form
    form = dispatch_form((await dispatcher.get(f"/t/luqiao/cases/{policy['id']}")).text)
    assert selected_department(form) == ["jxj"]
    co = re.search(r"<p[^>]*data-co-departments>(.*?)</p>", form, flags=re.S).group(1)
    assert "区企业服务中心" in co
    # The form as sent dispatches to the lead department.
    page = (await dispatcher.get(f"/t/luqiao/cases/{labour['id']}")).text
    version = re.search(r'data-version="(\d+)"', page).group(1)
    response = await dispatcher.post(f"/t/luqiao/cases/{labour['id']}/dispatch",
                                     {"version": version, "department": selected_department(dispatch_form(page))[0]},
                                     htmx=True)
    assert response.status_code == 200
    async with in_tenant("luqiao"):
        row = await scoped(Case).select(Case.department.code.as_alias("code")).where(Case.id == labour["id"]).first()
    assert row["code"] == "rsj"


async def test_a_case_is_found_by_its_number_or_a_prefix(app):
    api = Api(app)
    case = await api.submit(title="园区道路破损", description="大货车通行困难")
    number = case["number"]
    for query in (number, number.lower(), number[:-1], number[:8]):
        found = (await api.call("dispatcher", "GET", f"cases?q={query}&per_page=100")).json()
        assert case["id"] in [c["id"] for c in found["items"]], query
        assert all(c["number"].startswith(query.upper()) for c in found["items"]), query
    exact = (await api.call("dispatcher", "GET", f"cases?q={number}")).json()
    assert exact["total"] == 1
    # Text search still works beside it, and a number-like query that is no number finds nothing.
    assert case["id"] in [c["id"] for c in (await api.call("dispatcher", "GET", "cases?q=破损&per_page=100")).json()["items"]]
    assert (await api.call("dispatcher", "GET", "cases?q=ZZ9999999999")).json()["total"] == 0
    # The console, as an htmx filter: the table and the header count follow the filter.
    b = await browser(app, "dispatcher")
    fragment = await b.get(f"/t/luqiao/cases?q={number[:-1]}&status=", headers={"HX-Request": "true"})
    total = int(re.search(r'data-total="(\d+)"', fragment.text).group(1))
    assert f'data-case="{number}"' in fragment.text and 1 <= total <= 10
    count = re.search(r'<p[^>]*id="case-count"[^>]*hx-swap-oob="true"[^>]*>(.*?)</p>', fragment.text, flags=re.S)
    assert count and str(total) in count.group(1)
    full = await b.get(f"/t/luqiao/cases?q={number}&status=submitted")
    assert re.search(r'id="case-count">[^<]*\b1\b', full.text) and 'data-total="1"' in full.text
    assert "hx-swap-oob" not in full.text


async def test_every_console_filter_has_a_label(app):
    b = await browser(app, "dispatcher")
    html = (await b.get("/t/luqiao/cases")).text
    form = re.search(r'<form id="filters".*?</form>', html, flags=re.S).group(0)
    for name in ("q", "status", "department", "category", "sort"):
        assert re.search(rf'<label>[^<]+<(input|select)[^>]*name="{name}"', form), name


async def test_top_bar_search_opens_a_visible_case_and_reveals_no_other(app):
    api = Api(app)
    case = await api.submit(title="厂房消防验收排期", description="请协调验收时间")
    other = await Api(app, "jiaojiang").submit(title="厂房消防验收排期", description="另一区的企业")
    dispatcher = await browser(app, "dispatcher")
    # the top bar's form submits to cases/ with `q` alone
    jump = await dispatcher.get(f"/t/luqiao/cases/?q={case['number']}", follow_redirects=True)
    assert jump.status_code == 200 and str(jump.url).endswith(f"/t/luqiao/cases/{case['id']}")
    jump = await dispatcher.get(f"/t/luqiao/cases?q={case['number']}")
    assert jump.status_code == 303 and jump.headers["location"] == f"/t/luqiao/cases/{case['id']}"
    # lower case and spaces around: the same case
    jump = await dispatcher.get(f"/t/luqiao/cases?q=+{case['number'].lower()}+")
    assert jump.status_code == 303 and jump.headers["location"] == f"/t/luqiao/cases/{case['id']}"
    # a prefix, or any other filter beside the query: the console, filtered
    listed = await dispatcher.get(f"/t/luqiao/cases?q={case['number'][:-1]}")
    assert listed.status_code == 200 and f'data-case="{case["number"]}"' in listed.text
    listed = await dispatcher.get(f"/t/luqiao/cases?q={case['number']}&status=")
    assert listed.status_code == 200 and f'data-case="{case["number"]}"' in listed.text
    # another tenant's number: nothing is revealed
    foreign = await dispatcher.get(f"/t/luqiao/cases?q={other['number']}")
    assert foreign.status_code == 200 and 'data-total="0"' in foreign.text and str(other["id"]) not in re.findall(
        r'/cases/(\d+)"', foreign.text)
    # a case the user may not see (a handler of a department it was not dispatched to)
    handler = await browser(app, "handler")
    hidden = await handler.get(f"/t/luqiao/cases?q={case['number']}")
    assert hidden.status_code == 200 and 'data-total="0"' in hidden.text
    assert f"/cases/{case['id']}\"" not in hidden.text


def test_number_queries():
    assert number_prefix(" lu2026001993 ") == "LU2026001993"
    assert number_prefix("LU2026") == "LU2026"
    assert number_prefix("LU20") is None and number_prefix("排水管") is None and number_prefix("2026001993") is None
    assert number_prefix("LU2026 001993") is None
    assert _successor("LU202609") == "LU202610" and _successor("LU2026") == "LU2027"
    assert _successor("LZ9999") == "MA0000" and _successor("ZZ99") is None
