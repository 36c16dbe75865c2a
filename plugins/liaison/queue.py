"""The liaison network's share of the work queue (我的待办): open needs and follow-ups due for an
assistant (or a coordinator), companies without an assistant or not visited lately for a
coordinator, upcoming salons for runners and industry leads; a runner's village needs still to hand
over, an expert's consultations to answer and overdue, a company liaison's messages to reply to.  Each list page shows the same rows
the count counts (`needs`, `follow_ups_due`, `unpaired`, `unvisited`, `upcoming_salons`)."""

from __future__ import annotations

from datetime import timedelta

from core.sdk import N_, Company, WorkQueue, scoped, tenant_setting, today
from plugins.liaison import consult, inbox, pairing, salons, village
from plugins.liaison.access import visible_company_ids
from plugins.liaison.tables import FollowUp, Need, Pairing, Visit

PER_PAGE = 50


def _page(number: int) -> tuple[int, int]:
    return PER_PAGE, (max(1, number) - 1) * PER_PAGE


async def _mine(query, column, user):
    ids = await visible_company_ids(user)
    return query if ids is None else query.where(column.is_in(ids or [-1]))


async def needs(user, number: int = 1) -> tuple[list[dict], int]:
    """Open needs (待办诉求) of the companies `user` covers, newest first, and their count."""
    rows = scoped(Need).select(Need.id, Need.title, Need.channel, Need.status, Need.created_at, Need.company,
                               Need.company.name.as_alias("company_name")).where(Need.status == "open")
    count = scoped(Need).count().where(Need.status == "open")
    rows, count = await _mine(rows, Need.company, user), await _mine(count, Need.company, user)
    limit, offset = _page(number)
    return await rows.order_by(Need.id, ascending=False).limit(limit).offset(offset), await count


async def follow_ups_due(user, number: int = 1) -> tuple[list[dict], int]:
    """Follow-ups not done whose day has come (到期回访), oldest first, and their count."""
    due = (FollowUp.done == False) & (FollowUp.due_on <= today())  # noqa: E712
    rows = scoped(FollowUp).select(FollowUp.id, FollowUp.text, FollowUp.due_on, FollowUp.company,
                                   FollowUp.company.name.as_alias("company_name")).where(due)
    count = scoped(FollowUp).count().where(due)
    rows, count = await _mine(rows, FollowUp.company, user), await _mine(count, FollowUp.company, user)
    limit, offset = _page(number)
    return await rows.order_by(FollowUp.due_on).order_by(FollowUp.id).limit(limit).offset(offset), await count


def unvisited_days() -> int:
    return int(tenant_setting("liaison_unvisited_days", 30) or 30)


async def unvisited() -> list[dict]:
    """Paired companies with no visit in the last N days (N a tenant setting), by id."""
    since = today() - timedelta(days=unvisited_days())
    pairs = {r["company"]: r["assistant_name"] for r in await scoped(Pairing).select(
        Pairing.company, Pairing.assistant.display_name.as_alias("assistant_name"))}
    last: dict[int, object] = {}
    for row in await scoped(Visit).select(Visit.company, Visit.visited_on):
        if row["company"] not in last or row["visited_on"] > last[row["company"]]:
            last[row["company"]] = row["visited_on"]
    rows = await scoped(Company).select(Company.id, Company.name, Company.credit_code).where(
        Company.id.is_in(list(pairs) or [-1])).order_by(Company.id)
    out = []
    for row in rows:
        if last.get(row["id"]) is None or last[row["id"]] < since:
            out.append(dict(row, assistant_name=pairs[row["id"]], last_visit=last.get(row["id"])))
    return out


async def upcoming_salons() -> list[dict]:
    """Salons from today on, the nearest first, with their sign-ups and attendance."""
    return sorted((s for s in await salons.salons() if s["held_on"] >= today()), key=lambda s: (s["held_on"], s["id"]))


def queues(user) -> list[WorkQueue]:
    """The liaison queues of the roles `user` holds."""
    out: list[WorkQueue] = []
    if user.can("liaison.assist") or user.can("liaison.coordinate"):
        async def count_needs() -> int:
            return (await needs(user))[1]

        async def count_follow_ups() -> int:
            return (await follow_ups_due(user))[1]

        out += [WorkQueue("liaison.needs", N_("Open needs to carry"), "liaison/?show=needs", count_needs, order=60,
                          hint=N_("A need a company raises by form, call or visit appears here.")),
                WorkQueue("liaison.follow_ups", N_("Follow-ups due"), "liaison/?show=follow_ups", count_follow_ups,
                          order=61, hint=N_("A follow-up promised at a visit appears here on its day."))]
    if user.can("liaison.coordinate"):
        async def count_unpaired() -> int:
            return len(await pairing.unpaired())

        async def count_unvisited() -> int:
            return len(await unvisited())

        out += [WorkQueue("liaison.unpaired", N_("Companies without an assistant"), "liaison/network?show=unpaired",
                          count_unpaired, order=62, hint=N_("Every company has its cadre assistant.")),
                WorkQueue("liaison.unvisited", N_("Companies not visited lately"), "liaison/network?show=unvisited",
                          count_unvisited, mine=False, order=63)]
    if user.can("liaison.run"):
        async def count_village() -> int:
            return await village.count_logged(user)

        out.append(WorkQueue("liaison.village", N_("Village needs to hand over"), "liaison/village?show=logged",
                             count_village, order=58,
                             hint=N_("A need you log for a company met in the village waits here until you hand "
                                     "it to the assistant or file it as a case.")))
    if user.can("liaison.lead"):
        async def count_open() -> int:
            return await consult.count(user, "open")

        async def count_overdue() -> int:
            return await consult.count(user, "overdue")

        out += [WorkQueue("liaison.consultations", N_("Consultations to answer"), "liaison/consultations?show=open",
                          count_open, order=56,
                          hint=N_("A company's question in your fields appears here, with its deadline.")),
                WorkQueue("liaison.consultations_overdue", N_("Consultations overdue"),
                          "liaison/consultations?show=overdue", count_overdue, order=57)]
    if user.has_role("company"):
        async def count_messages() -> int:
            return await inbox.count_unreplied(user)

        out.append(WorkQueue("liaison.messages", N_("Messages from your assistant"), "liaison/inbox?show=unreplied",
                             count_messages, order=59,
                             hint=N_("When your company's assistant writes to you as its liaison, the message "
                                     "waits here for your reply.")))
    if user.can("liaison.run") or user.can("liaison.lead"):
        async def count_salons() -> int:
            return len(await upcoming_salons())

        out.append(WorkQueue("liaison.salons", N_("Upcoming training salons"), "liaison/salons?show=upcoming",
                             count_salons, mine=False, order=64))
    return out
