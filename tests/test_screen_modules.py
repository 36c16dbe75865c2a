"""Modules on the big screen (大屏): a tenant's enabled modules each fill a cell with the figures
their own API gives (project approvals: the reform 24 → 7 materials and 15 → 1 working days,
approvals granted on time, projects by stage; inclusive enforcement: 首违不罚 and 从轻减轻 counts,
this year's inspections); a tenant without them, and a township's scope, show the core screen only."""

import html
import json
import re

import httpx

from core.clock import today
from tests.helpers import Browser, token_for

SLUG = "luqiao"


async def api(app, module: str, path: str) -> dict:
    """The module's figures from its JSON API, as a member of its staff reads them."""
    token = await token_for(f"approvals_coordinator@{SLUG}" if module == "approvals" else f"tenant_admin@{SLUG}", SLUG)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await client.get(f"/t/{SLUG}/api/v1/{module}/{path}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def cell(page: str, key: str) -> str:
    match = re.search(rf'<section class="panel widget" data-screen-widget="{key}".*?</section>', page, re.S)
    assert match, f"no {key} cell on the screen"
    return match.group(0)


def numbers(part: str, figure: str) -> list[int]:
    """The numbers a reader sees in the element marked data-figure=<figure>."""
    match = re.search(rf'data-figure="{figure}"[^>]*>(.*?)</div>', part, re.S)
    assert match, f"no {figure} figure"
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))))]


def chart(part: str) -> dict:
    return json.loads(html.unescape(re.search(r"data-chart='([^']*)'", part).group(1)))


async def screen(app, slug: str = SLUG, scope: str = "", locale: str = "zh") -> str:
    b = Browser(app)
    await b.login(f"dispatcher@{slug}" if slug != "pengjie" else f"tenant_admin@{slug}", slug)
    await b.get(f"/t/{slug}/lang/{locale}?next=/t/{slug}/")
    response = await b.get(f"/t/{slug}/screen/" + (f"?scope={scope}" if scope else ""))
    assert response.status_code == 200
    return response.text


async def test_the_approvals_cell_shows_the_modules_own_figures(app):
    figures = await api(app, "approvals", "figures")
    part = cell(await screen(app), "approvals")
    reform = figures["reform"]
    assert (reform["materials_before"], reform["materials_now"]) == (24, 7)
    assert (reform["statutory_days"], reform["committed_days"]) == (15, 1)
    assert numbers(part, "materials") == [24, 7] and numbers(part, "days") == [15, 1]
    assert "施工许可" in part and "件" in part and "个工作日" in part
    assert numbers(part, "on_time") == [figures["on_time"], figures["granted"]] and figures["granted"] > 0
    assert numbers(part, "projects") == [figures["projects"]]
    assert numbers(part, "waived") == [figures["waived"]]
    assert numbers(part, "bundles_completed") == [figures["bundles_completed"]]
    stages = chart(part)
    assert stages["values"] == [s["projects"] for s in figures["by_stage"]] and sum(stages["values"]) == figures["projects"]
    assert stages["labels"][:6] == ["意向", "签约", "供地", "审批", "开工", "投产"]


async def test_the_enforcement_cell_shows_the_modules_own_figures(app):
    year = today().year
    figures = await api(app, "enforcement", f"figures?year={year}")
    part = cell(await screen(app), "enforcement")
    outcomes, this_year = figures["outcomes"], figures["by_year"][str(year)]
    assert numbers(part, "not_penalised") == [outcomes["not_penalised"]] and outcomes["not_penalised"] > 0
    assert numbers(part, "mitigated") == [outcomes["mitigated"]]
    assert numbers(part, "inspections") == [year, this_year["inspections"]] and this_year["inspections"] > 0
    assert numbers(part, "joint") == [this_year["joint"]]
    assert numbers(part, "companies") == [this_year["companies"]]
    assert numbers(part, "contested") == [figures["contested"]]
    ring = chart(part)
    assert ring["values"] == [outcomes[k] for k in ("corrected", "not_penalised", "mitigated", "penalised")]
    assert ring["labels"] == ["指导整改", "首违不罚", "从轻减轻", "予以处罚"]


async def test_the_cells_speak_english_without_raw_keys(app):
    page = await screen(app, locale="en")
    for key, words in (("approvals", ("Project approvals", "Materials required", "Projects by current stage")),
                       ("enforcement", ("Inclusive enforcement", "Not penalised", "Penalty reduced", "Outcomes of findings"))):
        part = cell(page, key)
        shown = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>|data-chart='[^']*'", "", part, flags=re.S)))
        assert all(w in shown for w in words), (key, shown)
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", shown), shown  # no raw key (not_penalised, on_time …)
        assert not re.search(r"[\u4e00-\u9fff]", shown.replace("施工许可", "")), shown  # no Chinese label left over
    assert chart(cell(page, "approvals"))["labels"][:2] == ["Intent", "Signing"]


async def test_a_tenant_without_the_modules_and_a_townships_scope_show_the_core_screen(app):
    for page in (await screen(app, "jiaojiang"), await screen(app, scope="pengjie"), await screen(app, scope="all")):
        assert 'id="modules"' not in page and "with-modules" not in page and "data-screen-widget" not in page
        assert 'id="chart-months"' in page and 'id="chart-ranking"' in page
    page = await screen(app)
    assert "screen-grid with-modules" in page
    assert re.findall(r'data-screen-widget="(\w+)"', page) == ["approvals", "enforcement"]  # in their order


async def test_the_modules_refresh_on_their_own(app):
    b = Browser(app)
    await b.login(f"dispatcher@{SLUG}", SLUG)
    fragment = await b.get(f"/t/{SLUG}/screen/modules", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith("<div id=\"modules\"")
    assert re.findall(r'data-screen-widget="(\w+)"', fragment.text) == ["approvals", "enforcement"]
    assert 'data-screen-widget' not in (await b.get(f"/t/{SLUG}/screen/modules?scope=pengjie")).text
    other = Browser(app)
    await other.login(f"company@{SLUG}", SLUG)
    assert (await other.get(f"/t/{SLUG}/screen/modules")).status_code == 403
