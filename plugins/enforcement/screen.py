"""The module's cell on the big screen (大屏): findings not penalised (首违不罚) and penalised
lightly (从轻减轻), this year's inspections of companies and joint inspections (综合查一次), and
contested outcomes — the figures of the module's figures page and ``GET …/enforcement/figures``,
through its dashboard widget's reading (``views.widget``)."""

from __future__ import annotations

from core.sdk import N_
from plugins.enforcement.views import widget

# Short names of the outcomes for the screen's ring, in the order of labels.OUTCOMES.
OUTCOMES_SHORT = {
    "corrected": N_("Corrected"),  # 指导整改
    "not_penalised": N_("Not penalised"),  # 首违不罚
    "mitigated": N_("Penalty reduced"),  # 从轻减轻
    "penalised": N_("Penalised"),  # 予以处罚
}


async def screen_figures(tenant, user) -> dict:
    """This year's inspections and the outcomes so far, as the module's figures give them."""
    data = await widget()
    shown = {key: data[key] for key in ("year", "inspections", "visits", "companies", "joint", "contested", "outcomes")}
    return shown | {"labels": OUTCOMES_SHORT, "by_outcome": [
        {"key": key, "label": label, "findings": data["outcomes"].get(key, 0)} for key, label in OUTCOMES_SHORT.items()]}
