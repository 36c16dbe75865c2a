"""One case's history for the generator (办理经过): its steps in time order, shaped like the demo
year, stopping at the present (or at an open status on purpose), with the effects the hourly
deadline sweep would have had."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

SIGN_LEVELS = ("section_head", "leader", "dept_head")
REFUSAL_REASONS = [("不符合现行政策规定", "《台州市路桥区企业扶持政策实施细则》第五条"),
                   ("超出本部门职责范围", "《浙江省行政程序办法》第十二条"),
                   ("申请材料不符合法定条件", "《中华人民共和国行政许可法》第三十八条")]
RESOLUTIONS = ["已协调相关科室现场处理完毕。", "已安排施工队完成修复。", "已按政策兑现，资金已拨付。",
               "已办结并电话告知企业。", "已现场核查并完成整改。"]

if TYPE_CHECKING:
    from bench.tenants_plan import TenantJob



class _Stop(Exception):
    pass


S_SUBMITTED, S_DISPATCHED, S_IN_PROGRESS = "submitted", "dispatched", "in_progress"
S_REFUSAL_PENDING, S_REFUSED, S_UNDER_REVIEW = "refusal_pending", "refused", "under_review"
S_RESOLVED, S_CLOSED, S_WITHDRAWN = "resolved", "closed", "withdrawn"
WITH_DEADLINE = {S_DISPATCHED, S_IN_PROGRESS, S_REFUSAL_PENDING}
OPEN_TARGETS = [(S_SUBMITTED, 0.05), (S_DISPATCHED, 0.15), (S_IN_PROGRESS, 0.62), (S_REFUSAL_PENDING, 0.10),
                (S_REFUSED, 0.03), (S_UNDER_REVIEW, 0.05)]


class CasePath:
    """A case's steps (time order) and its fields, built step by step; stops at `anchor` (the
    present) or, for a case kept open on purpose, once it reaches `target`."""

    def __init__(self, anchor: datetime, target: str | None):
        self.anchor, self.target = anchor, target
        self.steps: list[tuple] = []  # (at, action, role, actor, reason, data, before, after)
        self.status = ""
        self.fields: dict = {"department": None, "handler": None, "escalated_to": None, "dispatched_at": None,
                             "accepted_at": None, "resolved_at": None, "closed_at": None, "due_date": None,
                             "due_confirmed": True, "reminded_for": None, "escalated": False, "overdue": False,
                             "overturned": False, "refused_count": 0, "redispatch_count": 0, "resolution": "",
                             "rating": "", "version": 0}

    def step(self, at: datetime, action: str, role: str, actor: int | None, after: str, reason: str = "",
             data: dict | None = None, **changes) -> None:
        if at >= self.anchor:
            raise _Stop
        self.steps.append((at, action, role, actor, reason, data or {}, self.status, after))
        self.status = after
        self.fields.update(changes)
        if action != "submit":
            self.fields["version"] += 1
            self.fields["updated_at"] = at
        if self.target is not None and after == self.target:
            raise _Stop


def _local(dt: datetime) -> date:
    from core.clock import local_date

    return local_date(dt)


def _at_local(day: date, hour: int) -> datetime:
    from core.clock import TZ

    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ).astimezone(timezone.utc)


@dataclass
class Tenant:
    """What one tenant's case histories are drawn from (built inside the worker)."""

    job: TenantJob
    calendar: object
    anchor: datetime
    sweep_cut: datetime
    span: float
    open_share: float
    staff: dict  # (role, department id) → user id
    roles: dict  # role → user id of `<role>@<slug>`
    company_users: list[int]
    assistants: list[int]
    due_cache: dict = field(default_factory=dict)

    def due(self, start: date, days: int):
        key = (start, days)
        found = self.due_cache.get(key)
        if found is None:
            found = self.due_cache[key] = self.calendar.add_working_days(start, days)
        return found


def _h(hours: float) -> timedelta:
    return timedelta(seconds=int(hours * 3600))


def plan_case(rng: random.Random, t: Tenant, i: int) -> tuple[dict, CasePath]:
    job = t.job
    category = job.categories[i % len(job.categories)]
    cat_id, cat_code, dept, deadline = category
    dept_code = next(code for d, code, _ in job.departments if d == dept)
    company = rng.randrange(job.companies)
    forced = rng.random() < t.open_share
    target = None
    if forced:
        roll, acc = rng.random(), 0.0
        for status, weight in OPEN_TARGETS:
            acc += weight
            if roll < acc:
                target = status
                break
        target = target or S_IN_PROGRESS
        t0 = t.anchor - timedelta(seconds=int(rng.random() * 30 * 86400))
    else:
        t0 = t.anchor - timedelta(seconds=int(rng.random() * t.span))
    on_behalf = bool(t.assistants) and rng.random() < 0.03
    meta = {"category": cat_id, "cat_code": cat_code, "company": company, "on_behalf": on_behalf,
            "submitted_at": t0}
    path = CasePath(t.anchor, target)
    handler, leader = t.staff[("handler", dept)], t.staff[("leader", dept)]
    dispatcher, reviewer = t.roles["dispatcher"], t.roles["reviewer"]
    company_user = t.company_users[company]
    try:
        if on_behalf:
            assistant = t.assistants[company % len(t.assistants)]
            meta["submitter"] = assistant
            path.step(t0, "submit", "liaison_assistant", assistant, S_SUBMITTED,
                      data={"category": cat_code, "on_behalf": True})
        else:
            meta["submitter"] = company_user
            path.step(t0, "submit", "company", company_user, S_SUBMITTED,
                      data={"category": cat_code, "on_behalf": False})
        if not forced and rng.random() < 0.01:
            at = t0 + _h(1 + rng.random() * 3)
            path.step(at, "withdraw", "company", company_user, S_WITHDRAWN, "问题已自行解决", closed_at=at)
            return meta, path
        at = t0 + _h(1 + rng.random() * 5)
        due = t.due(_local(at), deadline)
        path.step(at, "dispatch", "dispatcher", dispatcher, S_DISPATCHED, data={"department": dept_code,
                                                                            "due": str(due.date)},
                  department=dept, dispatched_at=at, due_date=due.date, due_confirmed=due.confirmed, handler=None)
        at += _h(2 + rng.random() * 18) if rng.random() < 0.92 else _h(40 + rng.random() * 40)
        path.step(at, "accept", "handler", handler, S_IN_PROGRESS, handler=handler, accepted_at=at)
        if rng.random() < 0.03:
            path.step(at + _h(20), "escalate", "dispatcher", dispatcher, S_IN_PROGRESS, "企业多次催办，提级办理",
                      escalated=True, escalated_to=leader)
            at += _h(20)
        if rng.random() < 0.05:
            at += _h(4 + rng.random() * 10)
            path.step(at, "extend", "handler", handler, S_IN_PROGRESS, "需现场勘查，申请延期", {"days": 3},
                      ext_old=path.fields["due_date"])
            new_due = t.due(path.fields["due_date"], 3)
            at += _h(2 + rng.random() * 6)
            path.step(at, "decide-extension", "leader", leader, S_IN_PROGRESS, "",
                      {"decision": "approve", "due": str(new_due.date)}, due_date=new_due.date,
                      due_confirmed=new_due.confirmed, overdue=False)
        refuse = rng.random() < 0.56 or target in (S_REFUSAL_PENDING, S_REFUSED, S_UNDER_REVIEW)
        if target in (S_DISPATCHED, S_IN_PROGRESS) and rng.random() < 0.7:
            refuse = False
        if refuse:
            reason, basis = REFUSAL_REASONS[rng.randrange(len(REFUSAL_REASONS))]
            at += _h(4 + rng.random() * 20)
            path.step(at, "refuse", "handler", handler, S_REFUSAL_PENDING, reason, {"basis": basis})
            for n, level in enumerate(SIGN_LEVELS):
                at += _h(1 + rng.random() * 6)
                last = n == len(SIGN_LEVELS) - 1
                path.step(at, "sign", level, t.staff[(level, dept)], S_REFUSED if last else S_REFUSAL_PENDING,
                          data={"level": level}, **({"refused_count": 1} if last else {}))
            at += _h(4 + rng.random() * 20)
            by_company = rng.random() < 0.5
            path.step(at, "request-review", "company" if by_company else "dispatcher",
                      company_user if by_company else dispatcher, S_UNDER_REVIEW, "企业对不能办答复有异议")
            hearing = at + _h(48 + rng.random() * 48)
            at += _h(2 + rng.random() * 6)
            path.step(at, "schedule-hearing", "reviewer", reviewer, S_UNDER_REVIEW,
                      data={"hearing_at": hearing.isoformat(), "place": "区人大常委会会议室"})
            at = hearing + _h(1 + rng.random() * 3)
            if rng.random() < 0.02:
                path.step(at, "rule", "reviewer", reviewer, S_CLOSED, "拒绝理由充分，依据明确",
                          {"verdict": "upheld"}, closed_at=at)
                return meta, path
            due = t.due(_local(at), deadline)
            path.step(at, "rule", "reviewer", reviewer, S_DISPATCHED, "非企业原因，部门应想办法解决（二次交办）",
                      {"verdict": "overturned", "due": str(due.date)}, overturned=True, redispatch_count=1,
                      handler=None, dispatched_at=at, due_date=due.date, due_confirmed=due.confirmed)
            at += _h(1 + rng.random() * 6)
            path.step(at, "accept", "handler", handler, S_IN_PROGRESS, handler=handler, accepted_at=at)
        if rng.random() < 0.06:  # slow: resolved after the deadline
            due_at = _at_local(path.fields["due_date"], 18)
            at = max(at, due_at) + _h(24 * (1 + rng.random() * 6))
        else:
            at += _h(4 + rng.random() * 56)
        reply = RESOLUTIONS[rng.randrange(len(RESOLUTIONS))]
        path.step(at, "resolve", "handler", handler, S_RESOLVED, reply, resolution=reply, resolved_at=at)
        at += _h(6 + rng.random() * 60)
        roll = rng.random()
        rating = "satisfied" if roll < 0.9 else "basically_satisfied" if roll < 0.98 else "unsatisfied"
        path.step(at, "rate", "company", company_user, S_CLOSED, "", {"rating": rating}, rating=rating, closed_at=at)
    except _Stop:
        pass
    _sweeps(t, path, leader)
    return meta, path


def _sweeps(t: Tenant, path: CasePath, leader: int) -> None:
    """The hourly sweep's effects up to the start of today: the overdue flag and its event, the
    automatic escalation and its event, and the reminder the day before the due date."""
    f = path.fields
    due = f["due_date"]
    if due is None:
        return
    # when the case last left the statuses with a deadline (None: it is still in one)
    left = None
    for at, action, *_rest, after in path.steps:
        if after in WITH_DEADLINE:
            left = None
        elif left is None and action not in ("submit",):
            left = at
    limit = min(left or t.sweep_cut, t.sweep_cut)
    handler = f["handler"]
    remind_on = t.calendar.previous_workday(due).date
    if handler and _at_local(remind_on, 1) < limit:
        f["reminded_for"] = due
    overdue_at = _at_local(due + timedelta(days=1), 1)
    if overdue_at >= limit:
        return
    status_then = _status_at(path, overdue_at)
    if status_then not in WITH_DEADLINE:
        return
    extra = [(overdue_at, "overdue", "system", None, "", {"due": str(due)}, status_then, status_then)]
    f["overdue"] = True
    escalate_on = t.due(due, t.job.threshold).date
    escalate_at = _at_local(escalate_on, 1)
    if not f["escalated"] and escalate_at < limit:
        status_then = _status_at(path, escalate_at)
        if status_then in WITH_DEADLINE:
            late = t.calendar.working_days_between(due, escalate_on)
            extra.append((escalate_at, "escalate", "system", None, "", {"automatic": True, "late_days": late},
                          status_then, status_then))
            f["escalated"], f["escalated_to"] = True, leader
    path.steps.extend(extra)


def _status_at(path: CasePath, moment: datetime) -> str:
    status = ""
    for at, *_rest, after in path.steps:
        if at > moment:
            break
        status = after
    return status
