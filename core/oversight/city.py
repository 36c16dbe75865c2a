"""The city's roll-up (市级汇总): a city (市) reads its districts, each with its townships.

A city's districts are those it names and that name it back (an active `core.tenant_links`
link).  Each district's figures are its roll-up of its townships exactly as the district's own
screen computes it (`core.oversight.screen.scope_figures`), read inside the district's scope, and
every township inside its own.  The city keeps only counts, rates and names of places and
departments: no case, company or person of a district reaches a city user.  The city itself
files no cases.

The league table (排行榜) orders the districts by a rate — resolution (解决率) by default, ties
broken by satisfaction, then response — or by the 亲清 index, or by average working days.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import UserError
from core.i18n import N_, current_locale, gettext
from core.names import localized
from core.oversight.figures import Figures, Tally
from core.oversight.flags import red_flags
from core.oversight.index import index_inputs, indicator_values, score, weights
from core.oversight.screen import DEFINITIONS, children_of, ranking, scope_figures
from core.scope import TenantContext, tenant_scope
from core.tenant_links import active_partners

LEAGUE_SORTS = {
    "resolution_rate": N_("Resolution rate"),
    "response_rate": N_("Response rate"),
    "satisfaction_rate": N_("Satisfaction rate"),
    "index": N_("Qinqing index"),
    "avg_days": N_("Average working days"),
}
DEFAULT_SORT = "resolution_rate"


@dataclass
class DistrictRollup:
    """One district with its townships: figures (no person's name), the by-township list, and the
    inputs of its 亲清 index summed over the district and its townships."""

    district: TenantContext
    figures: Figures
    townships: list[tuple[str, Tally]]
    extra: dict
    index: float | None


async def districts_of(city: TenantContext) -> list[TenantContext]:
    """The districts of `city` (both sides name each other, both active), in registry order."""
    if city.kind != "city":
        return []
    return [d for d in await active_partners(city, kind="district") if d.active]


def _sum_extra(parts: list[dict], survey_from: dict) -> dict:
    extra = {key: sum(p.get(key, 0) for p in parts) for key in ("violations", "complaints") if
             any(key in p for p in parts)}
    if "survey" in survey_from:
        extra["survey"] = survey_from["survey"]
    return extra


def _without_people(f: Figures) -> Figures:
    """A copy of figures without handlers (persons): the city never sees who handled what."""
    return Figures(f.total, dict(f.departments), dict(f.months), dict(f.townships), {}, dict(f.department_names), {})


async def district_rollup(district: TenantContext) -> DistrictRollup:
    """The district's roll-up of itself and its townships, each read in its own scope."""
    async with tenant_scope(district, write=False):
        children = await children_of(district)
        figures, townships, _ = await scope_figures(district, "all" if children else "")
        own_extra = await index_inputs(None)
        parts = [own_extra]
        for child in children:
            async with tenant_scope(child, write=False):
                parts.append(await index_inputs(None))
        extra = _sum_extra(parts, own_extra)
        index, _ = score(indicator_values(figures.total, extra), weights())  # the district's own weights
    return DistrictRollup(district, _without_people(figures), townships, extra, index)


def league_row(rollup: DistrictRollup, locale: str) -> dict:
    t = rollup.figures.total
    return {"slug": rollup.district.slug, "name": rollup.district.name(locale), **t.as_dict(), "index": rollup.index}


def league(rows: list[dict], by: str = DEFAULT_SORT) -> list[dict]:
    """The districts in order of `by` (best first; a district without the figure last), ranked 1…n."""
    by = by if by in LEAGUE_SORTS else DEFAULT_SORT

    def key(row: dict):
        value = row[by]
        tie = (-(row["resolution_rate"] or 0), -(row["satisfaction_rate"] or 0), -(row["response_rate"] or 0),
               row["slug"])
        if value is None:
            return (1, 0.0, tie)
        return (0, value if by == "avg_days" else -value, tie)

    ordered = sorted(rows, key=key)
    return [{**row, "rank": i} for i, row in enumerate(ordered, start=1)]


async def city_rollups(city: TenantContext) -> list[DistrictRollup]:
    return [await district_rollup(d) for d in await districts_of(city)]


def city_total(rollups: list[DistrictRollup], locale: str) -> Figures:
    """The city's figures: the exact sum of its districts' roll-ups; each district stands where a
    department stands in a district's figures (ranking, red flags)."""
    figures = Figures(Tally(), {}, {}, {}, {}, {}, {})
    for r in rollups:
        figures.total.add(r.figures.total)
        for month, tally in r.figures.months.items():
            figures.months.setdefault(month, Tally()).add(tally)
        figures.departments[r.district.slug] = Tally().add(r.figures.total)
        figures.department_names[r.district.slug] = r.district.name(locale)
    figures.months = dict(sorted(figures.months.items()))
    return figures


async def overview(city: TenantContext, by: str = DEFAULT_SORT) -> dict:
    """The city's totals, index and league table (the city page and the screen's city scope)."""
    locale = current_locale.get()
    rollups = await city_rollups(city)
    figures = city_total(rollups, locale)
    extra = _sum_extra([r.extra for r in rollups], {})
    index, _ = score(indicator_values(figures.total, extra), weights())  # the city's weights
    return {"rollups": rollups, "figures": figures, "index": index,
            "league": league([league_row(r, locale) for r in rollups], by)}


async def city_payload(city: TenantContext, scope: str) -> dict:
    """What the city's big screen and figures API show: the city's roll-up ("" or "all") or one
    district's (its slug) — shaped as `core.oversight.screen.payload`, with `level` and `league`."""
    locale = current_locale.get()
    if not scope or scope in ("all", city.slug):
        data = await overview(city)
        figures = data["figures"]
        name = gettext(N_("%(name)s and all its districts"), name=city.name(locale))
        townships: list[tuple[str, Tally]] = [(r.district.name(locale), r.figures.total) for r in data["rollups"]]
        level, league_rows, index = "city", data["league"], data["index"]
    else:
        district = next((d for d in await districts_of(city) if d.slug == scope), None)
        if district is None:
            raise UserError(404, "Not found.")
        rollup = await district_rollup(district)
        figures, townships, index = rollup.figures, rollup.townships, rollup.index
        name = gettext(N_("%(name)s and all its townships"), name=district.name(locale))
        level, league_rows = "district", []
    return {
        "policies_adopted": None,
        "advances_outstanding": None,  # a city advances nothing: its districts do
        "scope": scope or city.slug,
        "level": level,
        "name": name,
        "totals": figures.total.as_dict(),
        "index": index,
        "definitions": {k: gettext(v) for k, v in DEFINITIONS.items()},
        "ranking": ranking(figures),
        "league": league_rows,
        "months": [{"month": m, **t.as_dict()} for m, t in figures.months.items()],
        "townships": [{"name": n, **t.as_dict()} for n, t in townships],
        "flags": [{"kind": f.kind, "subject": localized(f.subject), "message": gettext(f.message, **f.params)}
                  for f in red_flags(figures)],
    }


async def city_tenants(city: TenantContext, scope: str) -> list[TenantContext]:
    """Every tenant whose record a city scope reads: the districts (or the one) and their townships."""
    out = []
    for district in await districts_of(city):
        if scope and scope not in ("all", city.slug) and district.slug != scope:
            continue
        out += [district, *await children_of(district)]
    return out
