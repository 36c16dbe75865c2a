"""Staffing of the chain (办理链条人员配备): can each department take a case and say "no" to it?

A department needs a handler (首问负责人) to accept what is dispatched to it, the three sign-off
levels of a refusal (科室负责人, 分管领导, 部门主要负责人) — four different people, since who refuses
and each signer must differ — and a leader in charge to whom a case is escalated (提级办理;
without one, the escalation falls back to the district leader or the dispatchers,
`core.cases.escalation`).
`shortfalls()` lists, per department of the current tenant, what is missing: warnings, not
errors, since a district may add its staff later.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.cases.states import SIGN_LEVELS
from core.i18n import N_, gettext
from core.scope import scoped
from core.tables import Department, Membership

CHAIN = ("handler", *SIGN_LEVELS)  # the four roles a refusal passes through, in order

NO_STAFF = N_("Nobody is assigned here yet. Add four different people: a handler (first responder), "
              "a section head, a leader in charge and a department head.")
MISSING = {
    "handler": N_("No handler (first responder): cases dispatched here have nobody to accept them. "
                  "Add a handler."),
    "section_head": N_("No section head: a refusal cannot get its first sign-off. Add a section head."),
    "leader": N_("No leader in charge: a refusal cannot get its second sign-off, and an escalated case "
                 "passes the department by, to the district leader or the dispatchers. Add a leader in charge."),
    "dept_head": N_("No department head: a refusal cannot get its last sign-off. Add a department head."),
}
TOO_FEW = {  # by the role whose new holder would complete the chain
    "handler": N_("A refusal needs four different people, but only %(count)s here can fill the handler's and "
                  "the three signers' places. Add a handler who holds none of the other roles."),
    "section_head": N_("A refusal needs four different people, but only %(count)s here can fill the handler's "
                       "and the three signers' places. Add a section head who holds none of the other roles."),
    "leader": N_("A refusal needs four different people, but only %(count)s here can fill the handler's and "
                 "the three signers' places. Add a leader in charge who holds none of the other roles."),
    "dept_head": N_("A refusal needs four different people, but only %(count)s here can fill the handler's and "
                    "the three signers' places. Add a department head who holds none of the other roles."),
}


@dataclass(frozen=True)
class Shortfall:
    """One thing a department lacks (缺员): `kind` is no_staff, missing or too_few; `role` the
    role to add ("" when all are); `message` an English msgid with its `params`."""

    department: str
    name_zh: str
    name_en: str
    kind: str
    role: str
    message: str
    params: dict = field(default_factory=dict)

    def text(self) -> str:
        """The message in the current locale."""
        return gettext(self.message, **self.params)

    def __str__(self) -> str:  # English, for logs and the command line
        return f"{self.department}: {self.message % self.params if self.params else self.message}"

    def as_dict(self) -> dict:
        """The shape of a manifest problem (`field`, `message`, `params`) plus the department."""
        return {"field": self.department, "message": self.message, "params": self.params,
                "department": self.department, "name_zh": self.name_zh, "name_en": self.name_en,
                "kind": self.kind, "role": self.role}


def _matching(holders: dict[str, set[int]]) -> tuple[int, list[str]]:
    """The most places of CHAIN that different people can fill at once, and the places left
    empty in one such filling (Kuhn's augmenting paths; four places only)."""
    seat: dict[int, str] = {}  # person -> place

    def place(role: str, seen: set[int]) -> bool:
        for person in sorted(holders.get(role, ())):
            if person in seen:
                continue
            seen.add(person)
            if person not in seat or place(seat[person], seen):
                seat[person] = role
                return True
        return False

    empty = [role for role in CHAIN if not place(role, set())]
    return len(CHAIN) - len(empty), empty


def assess(code: str, name_zh: str, name_en: str, holders: dict[str, set[int]]) -> list[Shortfall]:
    """What one department lacks, given the people holding each role of CHAIN in it."""
    def short(kind: str, role: str, message: str, **params) -> Shortfall:
        return Shortfall(code, name_zh, name_en, kind, role, message, params)

    if not any(holders.get(role) for role in CHAIN):
        return [short("no_staff", "", NO_STAFF)]
    missing = [short("missing", role, MISSING[role]) for role in CHAIN if not holders.get(role)]
    if missing:
        return missing
    count, empty = _matching(holders)
    return [short("too_few", empty[0], TOO_FEW[empty[0]], count=count)] if empty else []


async def shortfalls() -> list[Shortfall]:
    """Every department of the current tenant that cannot staff its chain, in catalogue order;
    only active users count."""
    departments = await scoped(Department).select(Department.id, Department.code, Department.name_zh,
                                                  Department.name_en).order_by(Department.id)
    members = await scoped(Membership).select(Membership.user, Membership.role, Membership.department).where(
        Membership.role.is_in(list(CHAIN)) & Membership.department.is_not_null()
        & (Membership.user.active == True))  # noqa: E712
    holders: dict[int, dict[str, set[int]]] = {}
    for m in members:
        holders.setdefault(m["department"], {}).setdefault(m["role"], set()).add(m["user"])
    found: list[Shortfall] = []
    for d in departments:
        found += assess(d["code"], d["name_zh"], d["name_en"], holders.get(d["id"], {}))
    return found
