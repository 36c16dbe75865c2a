"""The rule engine of the seven must-investigate items (七必查).

Each rule is a query over the record that returns *findings*: what should be investigated, under a
dedupe key that names it once and for all (per case and review, per case, per company and category,
per report, per refusal, per handler and calendar year).  A tenant switches each rule on or off and
tunes its numbers (`RuleSetting`); without a row the defaults below apply.  Opening the findings
(idempotently) is :mod:`core.inspections.service`'s job.

A rule is asked either about one case (after an event on it), one conduct report, or everything
(the nightly sweep).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Awaitable, Callable

from core.cases import states as S
from core.cases.tables import Case, Event, Refusal, Review, SignOff
from core.clock import as_utc, now, today
from core.i18n import N_
from core.inspections.tables import ConductReport
from core.scope import scoped
from core.workdays import load_calendar


@dataclass(frozen=True)
class Param:
    name: str
    label: str  # msgid
    default: Any
    low: int = 1
    high: int = 1000
    keywords: bool = False  # a list of words instead of a whole number


@dataclass(frozen=True)
class Target:
    """What to look at: one case, one conduct report, or (both None) everything."""

    case_id: int | None = None
    report_id: int | None = None


@dataclass
class Finding:
    rule: str
    key: str  # the dedupe key: never opened twice
    summary: str  # msgid
    params: dict
    evidence: list[dict] = field(default_factory=list)
    case: int | None = None
    subject: int | None = None
    department: int | None = None
    company: int | None = None


@dataclass(frozen=True)
class Rule:
    key: str
    title: str  # msgid
    description: str  # msgid
    params: tuple[Param, ...]
    find: Callable[[dict, Target], Awaitable[list[Finding]]]


RULES: dict[str, Rule] = {}
DEFAULT_KEYWORDS = ("吃拿卡要", "索要", "好处", "红包", "刁难", "态度恶劣", "推诿", "故意拖延")


def rule(key: str, title: str, description: str, *params: Param):
    def register(fn):
        RULES[key] = Rule(key, title, description, params, fn)
        return fn

    return register


def ev(kind: str, id_: int, label: str, case: int | None = None) -> dict:
    """One piece of evidence; `case` names the case page a refusal, review or event is on."""
    item = {"kind": kind, "id": id_, "label": label or ""}
    if case is not None:
        item["case"] = case
    return item


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# -- the seven default rules ------------------------------------------------------------------------

@rule("overturned_refusal", N_("Refusal overturned on review"),
      N_("A refusal that the review panel overturned: the department said no where it should have helped."))
async def overturned_refusal(cfg: dict, target: Target) -> list[Finding]:
    query = scoped(Review).select(
        Review.id, Review.case, Review.refusal, Review.refusal.filed_by.as_alias("filer"),
        Review.case.number.as_alias("number"), Review.case.department.as_alias("department"),
        Review.case.company.as_alias("company")).where(Review.verdict == "overturned")
    if target.case_id is not None:
        query = query.where(Review.case == target.case_id)
    return [Finding("overturned_refusal", f"overturned_refusal:{r['case']}:{r['id']}",
                    N_("The refusal of case %(number)s was overturned on review."), {"number": r["number"]},
                    [ev("case", r["case"], r["number"]), ev("refusal", r["refusal"], r["number"], r["case"]),
                     ev("review", r["id"], r["number"], r["case"])],
                    case=r["case"], subject=r["filer"], department=r["department"], company=r["company"])
            for r in await query.order_by(Review.id)]


@rule("long_overdue", N_("Case long overdue"), N_("An open case overdue by more than this many working days."),
      Param("days", N_("Working days overdue"), 5, 1, 60))
async def long_overdue(cfg: dict, target: Target) -> list[Finding]:
    days, on = cfg["days"], today()
    # Working days never exceed calendar days: the date filter only narrows the candidates.
    query = scoped(Case).select(Case.id, Case.number, Case.due_date, Case.handler, Case.department,
                                Case.company).where(
        Case.status.is_in(sorted(S.WITH_DEADLINE)) & Case.due_date.is_not_null()
        & (Case.due_date < on - timedelta(days=days)))
    if target.case_id is not None:
        query = query.where(Case.id == target.case_id)
    calendar = await load_calendar()
    found = []
    for r in await query.order_by(Case.id):
        late = calendar.working_days_between(_date(r["due_date"]), on)
        if late > days:
            found.append(Finding("long_overdue", f"long_overdue:{r['id']}",
                                 N_("Case %(number)s is overdue by %(days)s working days."),
                                 {"number": r["number"], "days": late}, [ev("case", r["id"], r["number"])],
                                 case=r["id"], subject=r["handler"], department=r["department"], company=r["company"]))
    return found


@rule("repeated_refusal", N_("Same problem refused repeatedly"),
      N_("The same company refused again and again on the same kind of problem (same category)."),
      Param("count", N_("Refusals at least"), 2, 2, 20), Param("window_days", N_("Within days"), 180, 1, 730))
async def repeated_refusal(cfg: dict, target: Target) -> list[Finding]:
    query = scoped(Refusal).select(
        Refusal.id, Refusal.case, Refusal.filed_by, Refusal.case.number.as_alias("number"),
        Refusal.case.company.as_alias("company"), Refusal.case.category.as_alias("category"),
        Refusal.case.department.as_alias("department"), Refusal.case._.company.name.as_alias("company_name"),
        Refusal.case._.category.name_zh.as_alias("category_name"),
        Refusal.case._.category.name_en.as_alias("category_name_en"),
    ).where((Refusal.status == "final") & (Refusal.completed_at >= now() - timedelta(days=cfg["window_days"])))
    if target.case_id is not None:
        case = await scoped(Case).select(Case.company, Case.category).where(Case.id == target.case_id).first()
        if case is None:
            return []
        query = query.where((Refusal.case.company == case["company"]) & (Refusal.case.category == case["category"]))
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in await query.order_by(Refusal.id):
        groups[(r["company"], r["category"])].append(r)
    found = []
    for (company, category), rows in groups.items():
        if len(rows) < cfg["count"]:
            continue
        last = rows[-1]
        evidence = [item for r in rows for item in (ev("case", r["case"], r["number"]),
                                                     ev("refusal", r["id"], r["number"], r["case"]))]
        found.append(Finding(
            "repeated_refusal", f"repeated_refusal:{company}:{category}",
            N_("%(company)s was refused %(count)s times within %(window)s days on the same problem (%(category)s)."),
            {"company": last["company_name"], "count": len(rows), "window": cfg["window_days"],
             "category": last["category_name"], "category_en": last["category_name_en"]}, evidence,
            case=last["case"], subject=last["filed_by"], department=last["department"], company=company))
    return found


@rule("misconduct_report", N_("Misconduct reported by a company"),
      N_("A company reported demands for favours or gifts, or obstruction (吃拿卡要)."))
async def misconduct_report(cfg: dict, target: Target) -> list[Finding]:
    query = scoped(ConductReport).select(
        ConductReport.id, ConductReport.case, ConductReport.company, ConductReport.kind,
        ConductReport.company.name.as_alias("company_name"), ConductReport.case.number.as_alias("number"),
        ConductReport.case.handler.as_alias("handler"), ConductReport.case.department.as_alias("department"))
    if target.report_id is not None:
        query = query.where(ConductReport.id == target.report_id)
    elif target.case_id is not None:
        query = query.where(ConductReport.case == target.case_id)
    found = []
    for r in await query.order_by(ConductReport.id):
        evidence = [ev("report", r["id"], r["kind"])] + ([ev("case", r["case"], r["number"])] if r["case"] else [])
        summary = (N_("%(company)s reported misconduct about case %(number)s.") if r["case"]
                   else N_("%(company)s reported misconduct."))
        found.append(Finding("misconduct_report", f"misconduct_report:{r['id']}", summary,
                             {"company": r["company_name"], "number": r["number"] or ""}, evidence,
                             case=r["case"], subject=r["handler"], department=r["department"], company=r["company"]))
    return found


@rule("unsatisfied_conduct", N_("Unsatisfied rating citing conduct"),
      N_("An “unsatisfied” rating whose comment names misconduct, such as demands for favours or deliberate delay."),
      Param("keywords", N_("Keywords"), DEFAULT_KEYWORDS, 1, 50, keywords=True))
async def unsatisfied_conduct(cfg: dict, target: Target) -> list[Finding]:
    query = scoped(Event).select(
        Event.id, Event.case, Event.reason, Event.data, Event.case.number.as_alias("number"),
        Event.case.handler.as_alias("handler"), Event.case.department.as_alias("department"),
        Event.case.company.as_alias("company"),
    ).where((Event.action == "rate") & (Event.reason != "") & Event.data.like("%unsatisfied%"))
    if target.case_id is not None:
        query = query.where(Event.case == target.case_id)
    words = [w.lower() for w in cfg["keywords"]]
    found: dict[int, Finding] = {}
    for r in await query.order_by(Event.seq):
        if r["case"] in found or json.loads(r["data"] or "{}").get("rating") != "unsatisfied":
            continue
        hits = [w for w in words if w in r["reason"].lower()]
        if hits:
            found[r["case"]] = Finding(
                "unsatisfied_conduct", f"unsatisfied_conduct:{r['case']}",
                N_("An “unsatisfied” rating of case %(number)s cites conduct: %(keywords)s."),
                {"number": r["number"], "keywords": "、".join(hits)},
                [ev("case", r["case"], r["number"]), ev("event", r["id"], r["reason"][:80], r["case"])],
                case=r["case"], subject=r["handler"], department=r["department"], company=r["company"])
    return list(found.values())


@rule("fast_signoff", N_("Rubber-stamp sign-off chain"),
      N_("A refusal signed off at all three levels within minutes of being filed: nobody really looked."),
      Param("minutes", N_("Minutes"), 10, 1, 1440))
async def fast_signoff(cfg: dict, target: Target) -> list[Finding]:
    query = scoped(Refusal).select(
        Refusal.id, Refusal.case, Refusal.filed_by, Refusal.created_at, Refusal.completed_at,
        Refusal.case.number.as_alias("number"), Refusal.case.department.as_alias("department"),
        Refusal.case.company.as_alias("company"),
    ).where((Refusal.status == "final") & Refusal.completed_at.is_not_null())
    if target.case_id is not None:
        query = query.where(Refusal.case == target.case_id)
    limit = timedelta(minutes=cfg["minutes"])
    fast = [r for r in await query.order_by(Refusal.id)
            if as_utc(r["completed_at"]) - as_utc(r["created_at"]) <= limit]
    if not fast:
        return []
    levels: dict[int, set] = defaultdict(set)
    for s in await scoped(SignOff).select(SignOff.refusal, SignOff.level).where(
            SignOff.refusal.is_in([r["id"] for r in fast]) & (SignOff.decision == "signed")):
        levels[s["refusal"]].add(s["level"])
    return [Finding("fast_signoff", f"fast_signoff:{r['id']}",
                    N_("The refusal of case %(number)s was signed off at all three levels within %(minutes)s "
                       "minutes of being filed."),
                    {"number": r["number"], "minutes": cfg["minutes"]},
                    [ev("case", r["case"], r["number"]), ev("refusal", r["id"], r["number"], r["case"])],
                    case=r["case"], subject=r["filed_by"], department=r["department"], company=r["company"])
            for r in fast if levels[r["id"]] >= set(S.SIGN_LEVELS)]


@rule("handler_overturned", N_("Handler often overturned"),
      N_("A handler whose refusals were overturned on review more than this many times within 365 days."),
      Param("count", N_("Overturned more than"), 3, 1, 100))
async def handler_overturned(cfg: dict, target: Target) -> list[Finding]:
    handler = Review.refusal._.filed_by
    query = scoped(Review).select(
        Review.id, Review.case, handler.as_alias("handler"), handler.display_name.as_alias("handler_name"),
        Review.case.number.as_alias("number"), Review.case.department.as_alias("department"),
    ).where((Review.verdict == "overturned") & (Review.ruled_at >= now() - timedelta(days=365)))
    if target.case_id is not None:
        rows = await scoped(Review).select(handler.as_alias("h")).where(
            (Review.case == target.case_id) & (Review.verdict == "overturned"))
        if not rows:
            return []
        query = query.where(handler.is_in(sorted({r["h"] for r in rows})))
    groups: dict[int, list[dict]] = defaultdict(list)
    for r in await query.order_by(Review.id):
        groups[r["handler"]].append(r)
    year = today().year
    return [Finding("handler_overturned", f"handler_overturned:{h}:{year}",
                    N_("%(handler)s had %(count)s refusals overturned on review within 365 days."),
                    {"handler": rows[-1]["handler_name"], "count": len(rows)},
                    [ev("review", r["id"], r["number"], r["case"]) for r in rows[-20:]],
                    subject=h, department=rows[-1]["department"])
            for h, rows in groups.items() if len(rows) > cfg["count"]]


def loads(value, default):
    if isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value) if value else default
    except (TypeError, ValueError):
        return default
