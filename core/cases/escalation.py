"""Whom an escalation reaches (提级办理的兜底): always a person.

The chain, first rung with an active person wins:
1. the leaders in charge (分管领导) of the case's department;
2. the tenant's district leader for escalations (区领导), the user the tenant setting
   `escalation_leader` names by username;
3. the tenant's dispatchers (调度员).

`reach(department_id)` answers with the people of that rung, the rung and why the earlier rungs
were passed over; the escalation's event records both.  `warnings()` says, for the set-up page and
`qinqing tenant apply`, when the fallback itself is broken (the setting names nobody here, or the
tenant has no dispatcher).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.cases.access import members_with_role
from core.i18n import N_
from core.scope import scoped
from core.tables import Membership, User
from core.tenant_settings import tenant_setting

SETTING = "escalation_leader"
RUNGS = ("leader", "district_leader", "dispatchers")
WHY = {  # why a rung was passed over (a msgid), by rung
    "leader": N_("The department has no active leader in charge."),
    "district_leader": N_("The tenant names no district leader for escalations (setting escalation_leader)."),
    "district_leader_unknown": N_("The district leader for escalations (%(username)s) is not an active user here."),
    "dispatchers": N_("The tenant has no active dispatcher."),
}
RUNG_LABELS = {
    "leader": N_("Leader in charge of the department"),
    "district_leader": N_("District leader for escalations"),
    "dispatchers": N_("Dispatchers"),
}


@dataclass(frozen=True)
class Reach:
    """Whom an escalation reaches: `users` (the case goes to the first, all are told), the `rung`
    ("" when nobody at all) and `passed` — (rung, msgid key) for each rung passed over."""

    users: list[int]
    rung: str
    passed: list[tuple[str, str]] = field(default_factory=list)
    district_leader: str = ""

    def event_data(self) -> dict:
        """What the escalation's event records: whom, on which rung, and why not earlier."""
        return {"escalated_to": self.users[0] if self.users else None, "rung": self.rung,
                "passed_over": [key for _, key in self.passed]}


async def _active(user_ids: list[int]) -> list[int]:
    if not user_ids:
        return []
    rows = await User.select(User.id).where(User.id.is_in(user_ids) & (User.active == True))  # noqa: E712
    return sorted(r["id"] for r in rows)


async def _holders(role: str, department_id: int | None = None) -> list[int]:
    return await _active(await members_with_role(role, department_id))


async def district_leader() -> tuple[int | None, str]:
    """The user the tenant names for escalations, if an active member here; and the username set."""
    username = str(tenant_setting(SETTING, "") or "").strip()
    if not username:
        return None, ""
    user = await User.select(User.id).where((User.username == username) & (User.active == True)).first()  # noqa: E712
    if user is None or not await scoped(Membership).exists().where(Membership.user == user["id"]):
        return None, username
    return user["id"], username


async def reach(department_id: int | None, leaders: dict[int | None, list[int]] | None = None) -> Reach:
    """Whom an escalation of a case of `department_id` reaches (see the module's chain)."""
    passed: list[tuple[str, str]] = []
    if department_id is not None:
        found = leaders.get(department_id) if leaders is not None and department_id in leaders else \
            await _holders("leader", department_id)
        if found:
            return Reach(found, "leader")
    passed.append(("leader", "leader"))
    person, username = await district_leader()
    if person is not None:
        return Reach([person], "district_leader", passed, username)
    passed.append(("district_leader", "district_leader_unknown" if username else "district_leader"))
    dispatchers = await _holders("dispatcher")
    if dispatchers:
        return Reach(dispatchers, "dispatchers", passed, username)
    passed.append(("dispatchers", "dispatchers"))
    return Reach([], "", passed, username)


async def reach_many(department_ids: list[int | None]) -> dict[int | None, Reach]:
    """`reach` for each of these departments (the deadline sweep's escalations): the leaders per
    department, and the fallback past the first rung looked up once for all."""
    found: dict[int | None, Reach] = {}
    fallback: Reach | None = None
    for department_id in sorted(set(department_ids), key=lambda d: (d is not None, d or 0)):
        leaders = await _holders("leader", department_id) if department_id is not None else []
        if leaders:
            found[department_id] = Reach(leaders, "leader")
            continue
        if fallback is None:
            fallback = await reach(None)
        found[department_id] = fallback
    return found


async def warnings() -> list[dict]:
    """What keeps the fallback from reaching a person: each a dict with `key`, `message`, `params`."""
    found = []
    person, username = await district_leader()
    if username and person is None:
        found.append({"key": "district_leader_unknown", "message": WHY["district_leader_unknown"],
                      "params": {"username": username}})
    if not await _holders("dispatcher"):
        found.append({"key": "dispatchers", "message": WHY["dispatchers"], "params": {}})
    return found
