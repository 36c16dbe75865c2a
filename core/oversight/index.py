"""The 亲清 index (亲清新型政商关系指数): 0–100 per tenant and per department per month.

Two sides, each a weighted mean of indicators valued 0–1:
- closeness (亲): responsiveness, resolution, speed, support (satisfaction), and an optional
  company survey score;
- cleanness (清): refusals that held up on review, must-investigate findings, transparency
  (outcomes with a written reply or a signed, reasoned refusal), conduct complaints.
Weights are the tenant setting `index_weights` (indicator → weight), defaults below.  Each
indicator's contribution is weight × value / total weight × 100, so the score is the sum of the
contributions shown on the page.  An indicator without data (no cases rated, no survey entered)
is left out and the others share its weight.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.i18n import N_
from core.oversight.figures import Figures
from core.oversight.tables import IndexSnapshot, SurveyInput
from core.scope import scoped
from core.tenant_settings import tenant_setting

INDICATORS = {
    "responsiveness": ("closeness", N_("Responsiveness (response rate)")),
    "resolution": ("closeness", N_("Resolution (resolution rate)")),
    "speed": ("closeness", N_("Speed (working days to completion)")),
    "support": ("closeness", N_("Support (satisfaction rate)")),
    "survey": ("closeness", N_("Company survey")),
    "upheld": ("cleanness", N_("Refusals upheld on review")),
    "findings": ("cleanness", N_("Must-investigate findings")),
    "transparency": ("cleanness", N_("Transparency")),
    "complaints": ("cleanness", N_("Conduct complaints")),
}
DEFAULT_WEIGHTS = {"responsiveness": 15, "resolution": 15, "speed": 10, "support": 10, "survey": 0,
                   "upheld": 20, "findings": 15, "transparency": 10, "complaints": 5}
SPEED_TARGET_DAYS = 10.0


@dataclass
class Component:
    key: str
    side: str
    label: str
    value: float | None
    weight: float
    contribution: float = 0.0


def weights() -> dict[str, float]:
    custom = tenant_setting("index_weights", {}) or {}
    if isinstance(custom, str):
        custom = json.loads(custom or "{}")
    return {k: float(custom.get(k, v)) for k, v in DEFAULT_WEIGHTS.items()}


def _clip(x: float) -> float:
    return max(0.0, min(1.0, x))


def indicator_values(tally, extra: dict) -> dict[str, float | None]:
    c, rates = tally.counts, tally.rates()
    reported = c["reported"]
    return {
        "responsiveness": rates["response_rate"],
        "resolution": rates["resolution_rate"],
        "speed": None if rates["avg_days"] is None else _clip(1 - rates["avg_days"] / SPEED_TARGET_DAYS),
        "support": rates["satisfaction_rate"],
        "survey": extra.get("survey"),
        "upheld": None if not c["refused"] else _clip(1 - c["overturned"] / c["refused"]),
        "findings": None if not reported else _clip(1 - 20 * extra.get("violations", 0) / reported),
        "transparency": None if not c["outcomes"] else _clip(extra.get("explained", c["outcomes"]) / c["outcomes"]),
        "complaints": None if not reported else _clip(1 - 20 * extra.get("complaints", 0) / reported),
    }


def score(values: dict[str, float | None], w: dict[str, float]) -> tuple[float | None, list[Component]]:
    present = {k: v for k, v in values.items() if v is not None and w.get(k, 0) > 0}
    total = sum(w[k] for k in present)
    components = []
    for key, (side, label) in INDICATORS.items():
        comp = Component(key, side, label, values.get(key), w.get(key, 0.0))
        if key in present and total:
            comp.contribution = round(w[key] * present[key] / total * 100, 2)
        components.append(comp)
    return (round(sum(c.contribution for c in components), 2) if total else None), components


def side_score(components: list[Component], side: str) -> float | None:
    parts = [(c.weight, c.value) for c in components if c.side == side and c.value is not None and c.weight > 0]
    total = sum(weight for weight, _ in parts)
    return round(sum(weight * value for weight, value in parts) / total * 100, 2) if total else None


async def index_inputs(month: str | None) -> dict:
    """Survey scores, inspection findings and conduct complaints (from the inspections module)."""
    extra: dict = {}
    surveys = scoped(SurveyInput).select(SurveyInput.value, SurveyInput.period).where(SurveyInput.indicator == "survey")
    if month:
        rows = await surveys.where(SurveyInput.period.is_in([month, month[:4]]))
    else:  # the overall index uses the latest period surveyed
        rows = await surveys.order_by(SurveyInput.period, ascending=False)
        rows = [r for r in rows if r["period"] == rows[0]["period"]] if rows else []
    if rows:
        extra["survey"] = _clip(sum(r["value"] for r in rows) / len(rows) / 100)
    from core.plugins import get_plugin_manager

    if "core.inspections.piccolo_app" not in get_plugin_manager().piccolo_apps():
        return extra  # the inspections module is not installed
    from core.inspections.tables import ConductReport, Inspection

    extra["violations"] = await scoped(Inspection).count().where(Inspection.conclusion == "violation")
    extra["complaints"] = await scoped(ConductReport).count()
    return extra


async def compute(figures: Figures, month: str | None = None) -> dict:
    """The index of the tenant (and each department) from figures; `month` limits survey inputs."""
    w = weights()
    extra = await index_inputs(month)
    total_score, components = score(indicator_values(figures.total, extra), w)
    departments: list[dict[str, Any]] = []
    for dept_id, tally in figures.departments.items():
        dept_score, dept_components = score(indicator_values(tally, {k: v for k, v in extra.items()
                                                                     if k == "survey"}), w)
        departments.append({"department_id": dept_id, "department": figures.department_names.get(dept_id, ""),
                            "score": dept_score, "closeness": side_score(dept_components, "closeness"),
                            "cleanness": side_score(dept_components, "cleanness")})
    departments.sort(key=lambda d: -(d["score"] or 0))
    return {"score": total_score, "closeness": side_score(components, "closeness"),
            "cleanness": side_score(components, "cleanness"),
            "components": [c.__dict__ for c in components], "departments": departments, "weights": w}


async def monthly_history() -> list[dict]:
    """Recompute and store the index of the tenant and of each department for every month with
    cases; returns the tenant's history, oldest first."""
    from core.oversight.figures import tenant_figures

    history = []
    for month in sorted((await tenant_figures()).months):
        result = await compute(await tenant_figures(only_month=month), month)
        await scoped(IndexSnapshot).delete().where(IndexSnapshot.month == month)
        rows = [dict(department=None, score=result["score"], closeness=result["closeness"],
                     cleanness=result["cleanness"], components=json.dumps(result["components"], ensure_ascii=False))]
        rows += [dict(department=d["department_id"], score=d["score"], closeness=d["closeness"],
                      cleanness=d["cleanness"], components="[]") for d in result["departments"]]
        await IndexSnapshot.insert(*[scoped(IndexSnapshot).new(
            month=month, **{**row, **{k: row[k] or 0.0 for k in ("score", "closeness", "cleanness")}}) for row in rows])
        history.append({"month": month, "score": result["score"], "closeness": result["closeness"],
                        "cleanness": result["cleanness"]})
    return history


async def tenant_history() -> list[dict[str, Any]]:
    """The tenant's stored monthly index (snapshots without a department), oldest first."""
    return await scoped(IndexSnapshot).select().where(IndexSnapshot.department.is_null()).order_by(
        IndexSnapshot.month)


async def latest_surveys(limit: int = 20) -> list[dict[str, Any]]:
    """The survey scores (满意度调查) entered last, newest first."""
    return await scoped(SurveyInput).select().order_by(SurveyInput.id, ascending=False).limit(limit)


async def enter_survey(period: str, value: float, note: str, entered_by: int) -> None:
    """Enter a survey score (0–100) for a year or a month (``2026`` or ``2026-03``)."""
    await scoped(SurveyInput).add(period=period, indicator="survey", value=value, note=note, entered_by=entered_by)
