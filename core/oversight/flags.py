"""Red flags (预警): figures that together say something is wrong.

The article's 2022 figures — 1,087 of 1,945 requests refused while satisfaction read 100% — are
the model: a department refusing often while its ratings stay near perfect is not serving well,
its ratings are not to be trusted.  Thresholds are tenant settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.i18n import N_
from core.oversight.figures import Figures, Tally
from core.tenant_settings import tenant_setting

if TYPE_CHECKING:
    from core.oversight.window import RefusalWindow


@dataclass(frozen=True)
class Flag:
    kind: str
    subject: str
    message: str  # a msgid
    params: dict


def _pct(value: float | None) -> str:
    return f"{value * 100:.1f}%" if value is not None else "—"


def red_flags(figures: Figures, window: "RefusalWindow | None" = None) -> list[Flag]:
    """The flags of `figures`; with `window` (`core.oversight.window`), the refusal flag counts only
    the refusals that stood after review, over the window's cases (a district's own screen)."""
    refusal_min = float(tenant_setting("red_flag_refusal_rate", 0.3))
    satisfaction_min = float(tenant_setting("red_flag_satisfaction_rate", 0.95))
    overturn_min = float(tenant_setting("red_flag_overturn_rate", 0.5))
    min_cases = int(tenant_setting("red_flag_min_cases", 10))
    overdue_min = int(tenant_setting("red_flag_handler_overdue", 3))
    flags: list[Flag] = []
    subjects: list[tuple[str, Tally]] = [("", figures.total)] + [
        (figures.department_names.get(dept_id, str(dept_id)), tally) for dept_id, tally in figures.departments.items()]
    windowed: list[Tally | None] = [None] * len(subjects)
    if window is not None:
        windowed = [window.total, *(window.departments.get(d, Tally()) for d in figures.departments)]
    for (name, tally), recent in zip(subjects, windowed):
        rates = tally.rates()
        if recent is not None:
            r = recent.rates()
            if recent["reported"] >= min_cases and (r["refusal_rate"] or 0) >= refusal_min \
                    and (r["satisfaction_rate"] or 0) >= satisfaction_min:
                flags.append(Flag("refusals_with_satisfaction", name, N_(
                    "In the last %(days)s days %(refused)s of %(reported)s cases were refused and not overturned "
                    "(%(refusal_rate)s) while satisfaction reads %(satisfaction_rate)s: the ratings do not match "
                    "the refusals."),
                    {"days": window.days if window else 0, "refused": recent["refused"], "reported": recent["reported"],
                     "refusal_rate": _pct(r["refusal_rate"]), "satisfaction_rate": _pct(r["satisfaction_rate"])}))
        elif tally["reported"] >= min_cases and (rates["refusal_rate"] or 0) >= refusal_min \
                and (rates["satisfaction_rate"] or 0) >= satisfaction_min:
            flags.append(Flag("refusals_with_satisfaction", name, N_(
                "%(refused)s of %(reported)s cases refused (%(refusal_rate)s) while satisfaction reads "
                "%(satisfaction_rate)s: the ratings do not match the refusals."),
                {"refused": tally["refused"], "reported": tally["reported"],
                 "refusal_rate": _pct(rates["refusal_rate"]), "satisfaction_rate": _pct(rates["satisfaction_rate"])}))
        if name and tally["refused"] >= max(3, min_cases // 2) and (rates["overturn_rate"] or 0) >= overturn_min:
            flags.append(Flag("overturned_often", name, N_(
                "%(overturned)s of %(refused)s refusals were overturned on review (%(overturn_rate)s)."),
                {"overturned": tally["overturned"], "refused": tally["refused"],
                 "overturn_rate": _pct(rates["overturn_rate"])}))
    for handler_id, count in sorted(figures.handlers_overdue.items(), key=lambda kv: -kv[1]):
        if count >= overdue_min:
            flags.append(Flag("handler_overdue", figures.handler_names.get(handler_id, str(handler_id)), N_(
                "%(count)s overdue cases with the same handler."), {"count": count}))
    return flags
