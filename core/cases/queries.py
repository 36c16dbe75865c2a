"""Reading cases: the filtered, sorted, paged list behind the dispatch console (问题调度台), the
workbenches and the API; and one case with its timeline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import cast

from piccolo.custom_types import Combinable

from core.cases import states as S
from core.cases.access import company_ids_of, visibility
from core.cases.audit import KeptUntilChange, chain_head_read
from core.cases.queues import CASE_QUEUES, case_clause
from core.cases.search import contains, matches, number_matches
from core.cases.tables import Case, Company, Event, Refusal, Review, SignOff
from core.paging import window
from core.prepared import Prepared, Read, together
from core.scope import scoped
from core.tables import Category, Department, User

SORTS = {
    "newest": (Case.id, False),
    "oldest": (Case.id, True),
    "due": (Case.due_date, True),
    "updated": (Case.updated_at, False),
}
PER_PAGE_MAX = 100


@dataclass
class CaseFilter:
    q: str = ""
    status: str = ""
    department: str = ""
    category: str = ""
    overdue: bool = False
    escalated: bool = False
    refused: bool = False
    overturned: bool = False
    mine: bool = False
    queue: str = ""  # a work queue's name (core.cases.work_queue): exactly its cases
    sort: str = "newest"
    page: int = 1
    per_page: int = 20

    def normalized(self) -> "CaseFilter":
        self.page, self.per_page = window(int(self.page or 1), int(self.per_page or 20), PER_PAGE_MAX)
        if self.sort not in SORTS:
            self.sort = "newest"
        if self.status not in S.STATUS_LABELS and self.status != "open":
            self.status = ""
        self.q = (self.q or "")[:100]
        if self.queue not in CASE_QUEUES:
            self.queue = ""
        return self


LIST_COLUMNS = (
    Case.id, Case.number, Case.title, Case.status, Case.due_date, Case.due_confirmed, Case.escalated, Case.overdue,
    Case.overturned, Case.refused_count, Case.submitted_at, Case.updated_at, Case.rating, Case.version,
    Case.company.name.as_alias("company_name"), Case.department.name_zh.as_alias("department_name"),
    Case.department.name_en.as_alias("department_name_en"), Case.department.code.as_alias("department_code"),
    Case.category.name_zh.as_alias("category_name"), Case.category.name_en.as_alias("category_name_en"),
    Case.handler.display_name.as_alias("handler_name"),
)


async def _where(user, f: CaseFilter) -> list[Combinable]:
    clauses: list[Combinable] = []
    visible = await visibility(user)
    if visible is not None:
        clauses.append(visible)
    if f.status == "open":
        clauses.append(Case.status.is_in(list(S.OPEN)))
    elif f.status:
        clauses.append(Case.status == f.status)
    if f.department:
        clauses.append(Case.department.code == f.department)
    if f.category:
        clauses.append(Case.category.code == f.category)
    if f.overdue:
        clauses.append(Case.overdue == True)  # noqa: E712
    if f.escalated:
        clauses.append(Case.escalated == True)  # noqa: E712
    if f.refused:
        clauses.append(Case.refused_count > 0)
    if f.overturned:
        clauses.append(Case.overturned == True)  # noqa: E712
    if f.mine:
        clauses.append((Case.handler == user.id) | (Case.escalated_to == user.id))
    queue = await case_clause(user, f.queue) if f.queue else None  # a known queue (normalized)
    if queue is not None:
        clauses.append(queue)
    text = matches(Case.search_text, f.q) if f.q else None
    number = number_matches(Case.number, f.q) if f.q else None
    if number is not None:  # LU2026001993, or its start: by number (an index range) or by text
        text = number if text is None else (number | text)
    if text is not None:
        clauses.append(text)
    return clauses


async def filter_clauses(user, f: CaseFilter) -> list:
    """The where-clauses of the console's filter `f` for `user` (also what a bulk step selects)."""
    return await _where(user, f.normalized())


_counts = KeptUntilChange(entries=10_000)
_pages = KeptUntilChange(entries=10_000)  # a filter's page of case ids, in the console's order


def _filter_key(user, f: CaseFilter) -> tuple:
    return (f.q, f.status, f.department, f.category, f.overdue, f.escalated, f.refused, f.overturned,
            user.id if f.mine or f.queue else None, f.queue)


async def _count(user, f: CaseFilter, make_query, head: tuple[int, str] | None = None) -> int:
    """The number of matching cases.  For a viewer who sees all of the tenant's cases, the count
    of a filter (a search is a scan of the tenant's cases) is kept until the tenant's record moves:
    paging through results, or a console reloaded, does not count again.  `head`: the chain head,
    if read already; `make_query`: an async function making the count query, called only to count."""

    async def counted() -> int:
        return await (await make_query()).run()

    if not user.can("case.view_all"):
        return await counted()
    return await _counts.get(_filter_key(user, f), counted, head)


def _made(query):
    async def made():
        return query

    return made


async def _count_query(user, f: CaseFilter):
    count = scoped(Case).count()
    for clause in await _where(user, f):
        count = count.where(clause)
    return count


async def _page_ids(user, f: CaseFilter):
    """The ids of the page's cases, in the console's order, and the query counting all of them."""
    f.normalized()
    clauses = await _where(user, f)
    page = scoped(Case).select(Case.id)
    count = scoped(Case).count()
    for clause in clauses:
        page = page.where(clause)
        count = count.where(clause)
    column, ascending = SORTS[f.sort]
    # The page's ids first (an index walk on the case table alone), then their columns: joining
    # company, department and handler before the LIMIT would join every matching case.
    ids = [r["id"] for r in await page.order_by(column, ascending=ascending).order_by(
        Case.id, ascending=False).limit(f.per_page).offset((f.page - 1) * f.per_page)]
    return ids, count


# The page's rows and their latest events, by the number of ids (a page holds at most PER_PAGE_MAX).
_ROWS = Prepared(lambda *ids: scoped(Case).select(*LIST_COLUMNS).where(Case.id.is_in(list(ids))))
_EVENTS = Prepared(lambda *ids: scoped(Event).select(Event.case, Event.action, Event.reason, Event.created_at).where(
    Event.case.is_in(list(ids))).order_by(Event.seq, ascending=False))


def _rows_of(ids: list[int]) -> Read:
    position = {case_id: i for i, case_id in enumerate(ids)}
    return _ROWS.bind(*ids).then(lambda rows: sorted(rows, key=lambda row: position[row["id"]]))


def _latest(rows: list[dict]) -> dict[int, dict]:
    latest: dict[int, dict] = {}
    for row in rows:
        latest.setdefault(row["case"], row)
    return latest


async def list_cases(user, f: CaseFilter) -> tuple[list[dict], int]:
    ids, count = await _page_ids(user, f)
    rows = await _rows_of(ids) if ids else []
    return rows, await _count(user, f, _made(count))


async def list_page(user, f: CaseFilter, also: Read) -> tuple[list[dict], int, dict[int, dict], object]:
    """What the console shows: `list_cases`'s rows and total, each row's latest event
    (`latest_feedback`), and `also`'s answer; the rows, their events, `also` and the chain head
    (whether a kept total still holds) in one round trip.

    For a viewer who sees every case, the page's ids are kept with the count until the tenant's
    record moves: a console reloaded, or opened by another dispatcher, reads its rows by the kept
    ids and the head beside them, and only when the head has moved finds the ids again."""
    f.normalized()
    sees_all = user.can("case.view_all")
    key = (*_filter_key(user, f), f.sort, f.page, f.per_page)
    kept = _pages.peek(key) if sees_all else None
    if kept is not None:
        kept_head, kept_ids = kept
        rows, feedback, extra, at = await _page_reads(cast(list, kept_ids), also, chain_head_read())
        if at == kept_head:
            return rows, await _count(user, f, lambda: _count_query(user, f), at), feedback, extra
    ids, count = await _page_ids(user, f)
    rows, feedback, extra, at = await _page_reads(ids, also, chain_head_read() if sees_all else Read.value(None))
    if sees_all:
        _pages.keep(key, cast(tuple, at), ids)
    return rows, await _count(user, f, _made(count), cast(tuple | None, at)), feedback, extra


async def _page_reads(ids: list[int], also: Read, head: Read) -> tuple[list[dict], dict[int, dict], object, object]:
    """The rows of `ids` in their order, their latest events, `also` and `head`: one round trip."""
    if ids:
        rows, feedback, extra, at = await together(_rows_of(ids), _EVENTS.bind(*ids).then(_latest), also, head)
        return rows, feedback, extra, at
    extra, at = await together(also, head)
    return [], {}, extra, at


async def count_cases(user, f: CaseFilter) -> int:
    """How many cases `list_cases` finds for the filter (its `total`)."""
    f.normalized()
    return await _count(user, f, lambda: _count_query(user, f))


async def visible_case_number(user, query: str) -> int | None:
    """The id of the case whose number is exactly `query`, if `user` may see it (the top bar's
    search jumps straight to it); None otherwise, so another tenant's or a hidden case is not told."""
    number = (query or "").strip().upper()
    if not number_matches(Case.number, number):
        return None
    found = scoped(Case).select(Case.id).where(Case.number == number)
    visible = await visibility(user)
    if visible is not None:
        found = found.where(visible)
    row = await found.first()
    return row["id"] if row else None


async def all_cases(user, f: CaseFilter, limit: int = 100_000) -> list[dict]:
    """Every case matching the filter (for exports), in the console's order."""
    f.normalized()
    query = scoped(Case).select(*LIST_COLUMNS, Case.submitted_at, Case.category.code.as_alias("category_code"))
    for clause in await _where(user, f):
        query = query.where(clause)
    column, ascending = SORTS[f.sort]
    return await query.order_by(column, ascending=ascending).order_by(Case.id, ascending=False).limit(limit)


async def latest_feedback(case_ids: list[int]) -> dict[int, dict]:
    """The latest event of each case (the console's "latest feedback" column)."""
    if not case_ids:
        return {}
    return await _EVENTS.bind(*sorted(set(case_ids))).then(_latest)


# Records a company never sees on its own case: a discipline inspection (纪检核查) is internal.
INTERNAL_ACTIONS = ("inspection",)


def is_company_view(user) -> bool:
    """The viewer is the company itself (not staff who may also hold the company role)."""
    return user.has_role("company") and not user.can("case.view_all")


_CASE_ROW = Prepared(lambda case_id: scoped(Case).select(*LIST_COLUMNS).where(Case.id == case_id), first=True)
_CASE_PAGE_ROW = Prepared(lambda case_id: scoped(Case).select(
    *LIST_COLUMNS, Case.description, Case.resolution, Case.rating, Case.rating_comment, Case.on_behalf,
    Case.submitted_by.display_name.as_alias("submitter_name"), Case.company.credit_code.as_alias("credit_code"),
    Case.category._.lead_department.code.as_alias("lead_department_code"),
    Case.category.co_departments.as_alias("co_departments"),
).where(Case.id == case_id), first=True)


_CASE_OBJECT = Prepared(lambda case_id: scoped(Case).objects().where(Case.id == case_id), first=True)


def case_object(case_id: int) -> Read:
    """The case itself (a `Case`), or None: what `load_visible_case` reads for a viewer who sees
    every case of the tenant, as a read to run with the page's others."""
    return _CASE_OBJECT.bind(case_id)


def case_row(case_id: int) -> Read:
    """One case with the console's columns (the API's summary), or None."""
    return _CASE_ROW.bind(case_id)


def case_page_row(case_id: int) -> Read:
    """One case with everything its page shows besides the timeline and records, or None."""
    return _CASE_PAGE_ROW.bind(case_id)


def _timeline(company_view: bool) -> Prepared:
    def build(case_id):
        query = scoped(Event).select(
            Event.seq, Event.action, Event.actor_role, Event.reason, Event.before, Event.after, Event.data,
            Event.created_at, Event.actor.display_name.as_alias("actor_name"),
        ).where(Event.case == case_id)
        if company_view:
            query = query.where(Event.action.not_in(list(INTERNAL_ACTIONS)))
        return query.order_by(Event.seq)

    return Prepared(build)


_TIMELINE = {view: _timeline(view) for view in (False, True)}


def timeline(case_id: int, company_view: bool = False) -> Read:
    return _TIMELINE[company_view].bind(case_id)


_REFUSALS = Prepared(lambda case_id: scoped(Refusal).select().where(Refusal.case == case_id).order_by(Refusal.id))
_SIGNOFFS = Prepared(lambda case_id: scoped(SignOff).select(
    SignOff.refusal, SignOff.level, SignOff.decision, SignOff.comment, SignOff.created_at,
    SignOff.signer.display_name.as_alias("signer_name"),
).where(SignOff.refusal.case == case_id).order_by(SignOff.id))
_REVIEWS = Prepared(lambda case_id: scoped(Review).select().where(Review.case == case_id).order_by(Review.id))


def refusals_of(case_id: int, final_only: bool) -> Read:
    """The case's refusals, each with its sign-offs (the company sees final refusals and their
    signatures only)."""

    def attach(refusal_rows: list[dict], signoff_rows: list[dict]) -> list[dict]:
        refusals = [r for r in refusal_rows if not final_only or r["status"] == "final"]
        signoffs: dict[int, list[dict]] = {r["id"]: [] for r in refusals}
        for row in signoff_rows:
            if row["refusal"] in signoffs and (not final_only or row["decision"] == "signed"):
                signoffs[row.pop("refusal")].append(row)
        for refusal in refusals:
            refusal["signoffs"] = signoffs[refusal["id"]]
        return refusals

    return Read.joined(_REFUSALS.bind(case_id), _SIGNOFFS.bind(case_id), then=attach)


def reviews_of(case_id: int) -> Read:
    return _REVIEWS.bind(case_id)


_DEPARTMENTS = Prepared(lambda: scoped(Department).select(Department.id, Department.code, Department.name_zh,
                                                          Department.name_en).order_by(Department.id))
_CATEGORIES = Prepared(lambda: scoped(Category).select(
    Category.id, Category.code, Category.name_zh, Category.name_en, Category.deadline_days,
    Category.lead_department).where(Category.active == True).order_by(Category.id))  # noqa: E712


def choices() -> Read:
    """Departments and categories for filters and forms."""
    return Read.joined(_DEPARTMENTS.bind(), _CATEGORIES.bind(),
                       then=lambda departments, categories: {"departments": departments, "categories": categories})


def dispatch_choice(case: dict, departments: list[dict]) -> tuple[str, list[dict]]:
    """For the dispatch form: the code of the case's category's lead department (preselected) and
    its co-handling departments (协办单位) as department rows, in the catalogue's order."""
    try:
        co = json.loads(case.get("co_departments") or "[]")
    except ValueError:
        co = []
    codes = [c for c in co if isinstance(c, str)] if isinstance(co, list) else []
    by_code = {d["code"]: d for d in departments}
    return case.get("lead_department_code") or "", [by_code[c] for c in codes if c in by_code]


async def user_names(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await User.select(User.id, User.display_name).where(User.id.is_in(ids))
    return {r["id"]: r["display_name"] for r in rows}


async def companies_for(user, q: str = "", page: int = 1, per_page: int = 50) -> list[dict]:
    """Companies (市场主体) by id: all for staff who see cases beyond their own, else the user's own;
    `q` matches the name, or the credit code exactly."""
    query = scoped(Company).select(Company.id, Company.name, Company.credit_code, Company.industry, Company.township)
    if not (user.can("case.view_all") or user.can("case.view_dept")):
        query = query.where(Company.id.is_in(await company_ids_of(user.id) or [0]))
    if q:
        query = query.where(contains(Company.name, q[:50]) | (Company.credit_code == q.upper()[:18]))
    page, per_page = window(page, per_page)
    return await query.order_by(Company.id).limit(per_page).offset((page - 1) * per_page)


async def visible_titles(user, case_ids: list[int]) -> dict[int, str]:
    """The titles of those of `case_ids` that `user` may see, by id."""
    if not case_ids:
        return {}
    query = scoped(Case).select(Case.id, Case.title).where(Case.id.is_in(sorted(case_ids)))
    visible = await visibility(user)
    return {r["id"]: r["title"] for r in await (query.where(visible) if visible is not None else query)}


async def own_companies(user_id: int) -> list[dict]:
    """The companies `user_id` acts for (id, name, credit code): whom a case can be submitted for."""
    own = await company_ids_of(user_id)
    if not own:
        return []
    return await scoped(Company).select(Company.id, Company.name, Company.credit_code).where(Company.id.is_in(own))


async def pending_refusals(case_ids: list[int]) -> list[dict]:
    """The refusals (不能办) of `case_ids` waiting for a sign-off, with their case's number and title
    and who filed them, oldest first: the sign-off inbox."""
    if not case_ids:
        return []
    return await scoped(Refusal).select(
        Refusal.id, Refusal.stage, Refusal.reason, Refusal.basis, Refusal.created_at,
        Refusal.case.id.as_alias("case_id"), Refusal.case.number.as_alias("number"),
        Refusal.case.title.as_alias("title"), Refusal.filed_by.display_name.as_alias("filed_by_name"),
    ).where((Refusal.status == "pending") & Refusal.case.is_in(case_ids)).order_by(Refusal.id)


async def deadline_days(category_id: int | None) -> int | None:
    """The working days a case of the category has (None when there is no such category)."""
    row = await scoped(Category).select(Category.deadline_days).where(Category.id == category_id).first()
    return row["deadline_days"] if row else None


async def own_companies_cases(user_id: int, limit: int = 100) -> list[dict]:
    """The latest cases (id, number, title) of the companies `user_id` acts for, newest first."""
    companies = await company_ids_of(user_id)
    if not companies:
        return []
    return await scoped(Case).select(Case.id, Case.number, Case.title).where(
        Case.company.is_in(companies)).order_by(Case.id, ascending=False).limit(limit)
