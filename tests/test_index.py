"""The 亲清 index: contributions add up to the score, a weight change moves the score as the
contributions say, survey inputs count, and the history is kept per month."""

import re

import pytest

from core.oversight.figures import tenant_figures
from core.oversight.index import compute
from core.oversight.tables import IndexSnapshot
from tenants.registry import load_tenant
from tenants.scope import _current, scoped
from tests.helpers import in_tenant
from tests.test_case_pages import browser
from tests.test_oversight import _hand_built_town


@pytest.fixture(scope="module")
def town_slug():
    return "testtown-index"


async def _town(slug):
    if await load_tenant(slug) is None:
        await _hand_built_town(slug, 7)
    return await load_tenant(slug)


async def test_contributions_add_up_and_weights_move_the_score(town_slug):
    town = await _town(town_slug)
    async with in_tenant(town.slug):
        result = await compute(await tenant_figures())
    parts = {c["key"]: c for c in result["components"]}
    assert result["score"] == pytest.approx(sum(c["contribution"] for c in result["components"]), abs=0.05)
    # Hand-built town: response 3/4, resolution 1/3, satisfaction 1/2, 1 of 2 refusals overturned.
    assert parts["responsiveness"]["value"] == 0.75 and parts["support"]["value"] == 0.5
    assert parts["upheld"]["value"] == 0.5 and parts["survey"]["value"] is None
    # Double the weight of responsiveness: the expected score follows from the shown values.
    weights = dict(result["weights"], responsiveness=result["weights"]["responsiveness"] * 2)
    present = {k: c["value"] for k, c in parts.items() if c["value"] is not None and weights[k] > 0}
    expected = sum(weights[k] * v for k, v in present.items()) / sum(weights[k] for k in present) * 100
    heavier = town.__class__(**{**town.__dict__, "settings": {**town.settings, "index_weights": weights}})
    async with in_tenant(town.slug):
        token = _current.set(heavier)
        try:
            again = await compute(await tenant_figures())
        finally:
            _current.reset(token)
    assert again["score"] == pytest.approx(expected, abs=0.05) and again["score"] != result["score"]


async def test_weights_survey_and_history_through_the_page(app, town_slug):
    town = await _town(town_slug)
    from tenants.onboarding import ensure_membership, ensure_user

    async with in_tenant(town.slug):
        uid, _ = await ensure_user(f"admin@{town.slug}", "管理员", "demo-Pass-2026")
        await ensure_membership(uid, "tenant_admin", None, None)
    b = await browser(app, "admin", town.slug)
    page = await b.get(f"/t/{town.slug}/index/")
    before = float(re.search(r'data-index="score"><header>[^<]*</header><strong class="big">([\d.]+)<', page.text).group(1))
    assert (await b.post(f"/t/{town.slug}/index/weights", {"responsiveness": "60"})).status_code == 303
    after_page = await b.get(f"/t/{town.slug}/index/")
    after = float(re.search(r'data-index="score"><header>[^<]*</header><strong class="big">([\d.]+)<', after_page.text).group(1))
    assert after > before  # responsiveness (0.75) is above this town's average indicator
    assert (await b.post(f"/t/{town.slug}/index/weights", {"responsiveness": "-1"})).status_code == 400
    assert (await b.post(f"/t/{town.slug}/index/surveys", {"period": "2026", "value": "180"})).status_code == 400
    assert (await b.post(f"/t/{town.slug}/index/surveys", {"period": "2026", "value": "92.5"})).status_code == 303
    with_survey = await b.get(f"/t/{town.slug}/index/")
    survey_row = re.search(r'data-indicator="survey">(.*?)</tr>', with_survey.text, re.S).group(1)
    assert "0.925" in survey_row
    assert (await b.post(f"/t/{town.slug}/index/history")).status_code == 303
    async with in_tenant(town.slug):
        history = await scoped(IndexSnapshot).select().where(IndexSnapshot.department.is_null())
    assert [h["month"] for h in history] == ["2026-03"]
    assert history[0]["score"] > 0
    async with in_tenant(town.slug):
        departments = await scoped(IndexSnapshot).select().where(IndexSnapshot.department.is_not_null())
    assert [d["month"] for d in departments] == ["2026-03"] and departments[0]["score"] > 0
    assert 'data-month="2026-03"' in (await b.get(f"/t/{town.slug}/index/")).text
