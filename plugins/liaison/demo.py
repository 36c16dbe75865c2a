"""Demo data of the liaison network: the demo companies paired with ``liaison_assistant@<slug>``,
a few visits (one follow-up) and a training salon (`load_demo`); then the township roles' work
(`load_roles_demo`): the runner and the industry lead linked to ``liaison_runner@<slug>`` and
``liaison_lead@<slug>`` (the lead's team too), needs met in the village (one still to hand over,
one handed to the assistant), consultations (one answered, one open, one overdue) and a message to
the first company's liaison.  Idempotent: nothing is added twice (the pairings, then the village
needs, mark each loader as done)."""

from __future__ import annotations

from datetime import timedelta

from core.sdk import Company, User, current_tenant, load_calendar, now, scoped, today
from plugins.liaison.tables import (
    Consultation,
    FollowUp,
    Message,
    Need,
    Pairing,
    PairingChange,
    Person,
    Salon,
    SalonSeat,
    VillageNeed,
    Visit,
)


async def _user(username: str) -> int | None:
    row = await User.select(User.id).where(User.username == username).first()
    return row["id"] if row else None


async def load_demo() -> None:
    from core.sdk import load_demo_cases

    slug = current_tenant().slug
    assistant = await _user(f"liaison_assistant@{slug}")
    if assistant is None or await scoped(Pairing).count() > 0:
        return
    await load_demo_cases()  # the demo companies (idempotent; plugins' loaders may run before the core's)
    companies = await scoped(Company).select(Company.id).order_by(Company.id)
    for c in companies:
        await scoped(Pairing).add(company=c["id"], assistant=assistant, assigned_at=now())
        await scoped(PairingChange).add(company=c["id"], assistant=assistant, reason="演示结对", changed_at=now())
    for i, c in enumerate(companies[:3]):
        visit = await scoped(Visit).add(company=c["id"], assistant=assistant, kind="visit" if i % 2 == 0 else "call",
                                        visited_on=today() - timedelta(days=3 + 7 * i), people="企业负责人",
                                        topics="用工、用地与政策咨询")
        if i == 0:
            await scoped(FollowUp).add(visit=visit.id, company=c["id"], assistant=assistant,
                                       text="协调厂区门口道路修复", due_on=today() + timedelta(days=7))
    await scoped(Person).add(kind="runner", name="村社助跑员（演示）", village="蓬北村")
    await scoped(Person).add(kind="lead", name="百晓长（演示）", industry="汽摩配", fields="investment,setup")
    salon = await scoped(Salon).add(topic="惠企政策解读沙龙", held_on=today() - timedelta(days=10),
                                    speakers="经济发展办公室", audience="助企员、企业联络员", place="镇便民服务中心")
    for name, kind, came in (("助企员（演示）", "assistant", True), ("企业联络员（演示）", "liaison", True),
                             ("村社书记（演示）", "secretary", False)):
        await scoped(SalonSeat).add(salon=salon.id, name=name, kind=kind, attended=came)


async def _person(kind: str, name: str, user: int | None, **details: str) -> int:
    row = await scoped(Person).select(Person.id).where((Person.kind == kind) & (Person.name == name)).first()
    if row is None:
        return (await scoped(Person).add(kind=kind, name=name, user=user, **details)).id
    await scoped(Person).update({Person.user: user, **{getattr(Person, k): v for k, v in details.items()}}).where(
        Person.id == row["id"])
    return row["id"]


async def load_roles_demo() -> None:
    slug = current_tenant().slug
    runner, lead = await _user(f"liaison_runner@{slug}"), await _user(f"liaison_lead@{slug}")
    assistant = await _user(f"liaison_assistant@{slug}")
    if runner is None or lead is None or await scoped(VillageNeed).exists():
        return
    companies = await scoped(Company).select(Company.id).order_by(Company.id).limit(3)
    if not companies:
        return
    await _person("runner", "村社助跑员（演示）", runner, village="蓬北村")
    head = await _person("lead", "百晓长（演示）", lead, industry="汽摩配", fields="investment,setup")
    team = await _person("team", "百晓小分队（演示）", lead, industry="汽摩配", fields="incubation,talent")
    first, other = companies[0]["id"], companies[-1]["id"]
    await scoped(VillageNeed).add(company=first, runner=runner, title="厂房周边路灯不亮，夜班职工出行不便",
                                  place="蓬北村工业区东路", status="logged", created_at=now())
    handed = await scoped(VillageNeed).add(company=other, runner=runner, title="希望协调村集体闲置仓库租用",
                                           place="蓬北村村委会", status="handed", created_at=now(), handled_at=now())
    if assistant is not None:
        need = await scoped(Need).add(company=other, assistant=assistant, raised_by=runner, channel="village",
                                      title=handed.title, description="@ 蓬北村村委会", status="open", created_at=now())
        await scoped(VillageNeed).update({VillageNeed.need: need.id}).where(VillageNeed.id == handed.id)
    calendar = await load_calendar()
    start = today() - timedelta(days=14)
    await scoped(Consultation).add(company=first, field="investment", question="新增产线能否享受技改投资补助？",
                                   asked_by=runner, expert=head, due_on=calendar.add_working_days(start, 3).date,
                                   status="answered", answer="可以，符合条件的技改项目按设备投资额给予补助，请准备项目备案材料。",
                                   answered_by=lead, answered_at=now(), created_at=now())
    await scoped(Consultation).add(company=first, field="talent", question="引进高级技师有哪些安居政策？",
                                   asked_by=assistant, expert=team, due_on=calendar.add_working_days(today(), 3).date,
                                   status="open", created_at=now())
    await scoped(Consultation).add(company=other, field="setup", question="分公司设立需要哪些材料？",
                                   asked_by=runner, expert=head, due_on=calendar.add_working_days(start, 3).date,
                                   status="open", created_at=now())
    if assistant is not None:
        await scoped(Message).add(company=first, sender=assistant, body="下周二上午拟上门走访，了解用工需求，请安排对接人。",
                                  sent_at=now())