"""Demo data of the liaison network: the demo companies paired with ``liaison_assistant@<slug>``,
a few visits (one follow-up) and a training salon.  Idempotent: nothing is added twice (the pairings mark the loader as done)."""

from __future__ import annotations

from datetime import timedelta

from core.sdk import Company, User, current_tenant, now, scoped, today
from plugins.liaison.tables import FollowUp, Pairing, PairingChange, Person, Salon, SalonSeat, Visit


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
