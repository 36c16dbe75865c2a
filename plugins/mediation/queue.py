"""Mediation's share of the work queue (我的待办): each court role's disputes by status, counted
from the same list the docket shows (``mediation/?status=…``, a mediator's own with ``mine=1``)."""

from __future__ import annotations

from core.sdk import N_, WorkQueue
from plugins.mediation.queries import list_disputes

# role: [(status, mine only, label, waiting for this role)]
QUEUES = {
    "mediation_judge": [("settled", False, N_("Settlements to confirm"), True),
                        ("defaulted", False, N_("Defaults to enforce"), True)],
    "mediation_mediator": [("mediating", True, N_("My disputes under mediation"), True)],
    "mediation_court": [("referred", False, N_("Referrals waiting to be accepted"), True),
                        ("mediating", False, N_("Disputes under mediation"), False),
                        ("repaying", False, N_("Disputes in repayment"), False)],
    "mediation_bank": [("repaying", False, N_("Disputes in repayment"), False),
                       ("defaulted", False, N_("Defaulted disputes"), False)],
}


def queues(user) -> list[WorkQueue]:
    out, seen = [], set()
    for role, entries in QUEUES.items():
        if not user.has_role(role):
            continue
        for status, mine, label, waiting in entries:
            if (status, mine) in seen:
                continue
            seen.add((status, mine))

            async def count(status=status, mine=mine) -> int:
                return len(await list_disputes(user, status, mine))

            href = f"mediation/?status={status}" + ("&mine=1" if mine else "")
            out.append(WorkQueue(f"mediation.{status}{'_mine' if mine else ''}", label, href, count, mine=waiting,
                                 order=50 + len(out)))
    return out
