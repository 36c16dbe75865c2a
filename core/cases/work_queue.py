"""The work queue (我的待办): what waits on a user, counted once for the home page, the side
navigation and the API (``GET /t/<slug>/api/v1/me/queue``).

A queue has a label, the list it links to — filtered to exactly its items, so the list's count
is the queue's — and an async count.  The core's case queues filter the case list by name
(``cases/?queue=to_accept``): `case_clause` is the one definition both the list and the count use.
Modules contribute their own through the hook ``qinqing_work_queue(tenant, user)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.cases import escalation, states as S
from core.cases.queries import CaseFilter, count_cases as _count_cases
from core.cases.queues import CASE_QUEUES, case_clause  # noqa: F401  (the list's filter, re-exported)
from core.cases.staffing import shortfalls
from core.cases.tables import Review
from core.contrib import WorkQueue
from core.i18n import N_
from core.plugins import get_plugin_manager
from core.scope import scoped
from core.tables import Category


@dataclass(frozen=True)
class QueueCount:
    """A queue with its count, as the home page, the navigation and the API show it."""

    key: str
    label: str
    href: str
    count: int
    mine: bool
    hint: str = ""

    def as_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "href": self.href, "count": self.count, "mine": self.mine}


# -- the case queues -------------------------------------------------------------------------------

def case_queue_keys(user) -> list[str]:
    """The case queues `user` has, in the order the home page shows them."""
    keys: list[str] = []
    if user.has_role("company") and not user.can("case.view_all"):
        keys += ["to_rate", "to_review", "open"]
    if user.has_role("handler"):
        keys += ["to_accept", "in_progress", "due_soon", "my_overdue"]
    if any(user.has_role(level) for level in S.SIGN_LEVELS):
        keys += ["to_sign"]
    if user.has_role("leader"):
        keys += ["extensions", "escalated_to_me"]
    if user.can("case.dispatch"):
        keys += ["to_dispatch", "objections", "all_extensions", "overdue"]
    return keys


async def count_cases(user, key: str) -> int:
    """How many cases the list ``cases/?queue=key`` shows `user`."""
    return await _count_cases(user, CaseFilter(queue=key))


def _case_queue(user, key: str, order: int) -> WorkQueue:
    label, mine, hint = CASE_QUEUES[key]
    href = "signoffs/" if key == "to_sign" else f"cases/?queue={key}"

    async def counted() -> int:
        return await count_cases(user, key)

    return WorkQueue(f"core.{key}", label, href, counted, mine=mine, order=order, hint=hint)


# -- reviews (评议) and set-up health ---------------------------------------------------------------

REVIEW_QUEUES = {"requested": N_("Hearings to schedule"), "scheduled": N_("Rulings due")}


def review_query(status: str = "", count: bool = False):
    """The review docket (评议), or its count, filtered by the review's status (requested,
    scheduled, ruled); the rows waiting first (not ruled yet), newest first."""
    if count:
        query = scoped(Review).count()
    else:
        query = scoped(Review).select(
            Review.id, Review.status, Review.hearing_at, Review.place, Review.verdict, Review.created_at,
            Review.case.id.as_alias("case_id"), Review.case.number.as_alias("number"),
            Review.case.title.as_alias("title"), Review.case._.company.name.as_alias("company_name"))
    if status in ("requested", "scheduled", "ruled"):
        query = query.where(Review.status == status)
    return query if count else query.order_by(Review.verdict).order_by(Review.id, ascending=False)


async def categories_without_lead() -> list[dict]:
    """Active categories that name no lead department (dispatch cannot preselect one)."""
    return await scoped(Category).select(Category.id, Category.code, Category.name_zh, Category.name_en).where(
        (Category.active == True) & Category.lead_department.is_null()).order_by(Category.id)  # noqa: E712


async def departments_short() -> list[dict]:
    """Departments that cannot staff their chain (see `core.cases.staffing`), each with its shortfalls."""
    by_code: dict[str, dict] = {}
    for s in await shortfalls():
        entry = by_code.setdefault(s.department, {"code": s.department, "name_zh": s.name_zh, "name_en": s.name_en,
                                                  "shortfalls": []})
        entry["shortfalls"].append(s.as_dict())
    return list(by_code.values())


def core_queues(user) -> list[WorkQueue]:
    """The core's queues for `user` (cases, reviews, set-up health)."""
    queues = [_case_queue(user, key, i) for i, key in enumerate(case_queue_keys(user))]
    if user.can("review.rule"):
        for i, (status, label) in enumerate(REVIEW_QUEUES.items()):
            async def counted(status=status) -> int:
                return await review_query(status, count=True)

            queues.append(WorkQueue(f"core.reviews_{status}", label, f"reviews/?status={status}", counted,
                                    order=20 + i, hint=N_("A company's request for a refusal review appears here.")))
    if user.can("tenant.admin"):
        async def short() -> int:
            return len(await departments_short())

        async def no_lead() -> int:
            return len(await categories_without_lead())

        queues.append(WorkQueue("core.setup_departments", N_("Departments without a full chain"),
                                "setup/?show=departments", short, order=30,
                                hint=N_("Every department has a handler and three different signers.")))
        queues.append(WorkQueue("core.setup_categories", N_("Categories without a lead department"),
                                "setup/?show=categories", no_lead, order=31,
                                hint=N_("Every category names its lead department.")))

        async def unreachable() -> int:
            return len(await escalation.warnings())

        queues.append(WorkQueue("core.setup_escalation", N_("Escalation fallback problems"),
                                "setup/?show=escalation", unreachable, order=32,
                                hint=N_("An escalation always reaches a person: a leader in charge, the district "
                                        "leader or the dispatchers.")))
    return queues


# -- everything, counted -----------------------------------------------------------------------------

async def work_queue(tenant, user) -> list[QueueCount]:
    """Every queue of `user` (the core's and the enabled modules'), counted; those waiting for
    the user first, then in their order."""
    manager = get_plugin_manager()
    # Asked of the core and of the plugins the tenant enabled only, as every contribution hook.
    queues: list[WorkQueue] = [q for _, q in manager._merged("qinqing_work_queue", manager.enabled_for(tenant),
                                                             tenant=tenant, user=user)]
    return [QueueCount(q.key, q.label, q.href, int(await q.count()), q.mine, q.hint)
            for q in sorted(queues, key=lambda q: (not q.mine, q.order, q.key))]
