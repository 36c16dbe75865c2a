"""Demo disputes of a court, shaped like Luqiao's 2022 (412 disputes, 10 enforced, 402 companies
survived) but small: most referred by the districts the court serves, some filed at the court,
and one in every state (referred, declined, under mediation, settled, in repayment, defaulted,
under enforcement, enforced, completed).  Only a court has disputes; idempotent (skipped when the
demo disputes exist) and quick (bulk inserts).  The repayment plans agree with the court's today:
a sweep of the demo on its first day changes nothing but reminders.  Each linked district also
sends two fresh referrals through the real path, waiting at the court to be accepted."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from core.sdk import (
    Case,
    User,
    current_tenant,
    in_tenant_scope,
    linked_tenants,
    register_company,
    scoped,
    today,
)
from plugins.mediation.tables import Agreement, Dispute, DisputeCounter, Instalment, Measure, Party

BANKS = ("台州银行路桥支行", "浙江泰隆商业银行路桥支行", "路桥农商银行", "中国工商银行台州路桥支行")
TRADES = ("汽摩配件", "塑料制品", "五金机械", "电子电器", "鞋服", "食品", "模具", "新材料")
SHAPE = (["completed"] * 38 + ["enforced", "enforced", "defaulted", "enforcing", "repaying", "repaying", "settled",
                                "mediating", "mediating", "referred", "declined"])
CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code(division: str, serial: int) -> str:
    """A valid unified social credit code (统一社会信用代码) for demo companies."""
    first = f"91{division}{serial:08d}0"[:17]
    check = (31 - sum(CHARS.index(c) * w for c, w in zip(first, WEIGHTS)) % 31) % 31
    return first + CHARS[check]


async def _user(name: str) -> int | None:
    row = await User.select(User.id).where(User.username == f"{name}@{current_tenant().slug}").first()
    return row["id"] if row else None


async def load_demo() -> None:
    tenant = current_tenant()
    if tenant.kind != "court" or await scoped(Dispute).exists().where(Dispute.number.like("HH2022-%")):
        return
    districts = await linked_tenants("district")
    sources = [(d.slug, d.name_zh) for d in districts] + [("", "")]  # and disputes filed at the court itself
    companies = []
    for i in range(24):
        company, _ = await register_company(credit_code("331004", 20_000 + i),
                                            f"台州市路桥{TRADES[i % len(TRADES)]}{'有限公司' if i % 3 else '股份有限公司'}{i or ''}")
        companies.append({"id": company.id, "name": company.name})
    bank, mediator, judge = (await _user("mediation_bank"), await _user("mediation_mediator"),
                             await _user("mediation_judge"))
    start, now_day = date(2022, 1, 10), today()
    disputes = []
    for i, status in enumerate(SHAPE):
        principal = (50 + (i * 37) % 400) * 10_000 * 100
        opened = start + timedelta(days=7 * i) if status in ("completed", "enforced") else now_day - timedelta(days=60)
        source, source_name = sources[i % len(sources)]
        company = companies[i % len(companies)]
        disputes.append(scoped(Dispute).new(
            number=f"HH2022-{i + 1:05d}" if status in ("completed", "enforced") else f"HH{now_day.year}-{i + 1:05d}",
            title=f"{BANKS[i % len(BANKS)]}诉{company['name']}金融借款纠纷", debtor=company["id"],
            principal_fen=principal, interest_fen=principal // 20, costs_fen=principal // 200,
            settled_fen=0 if status in ("mediating", "referred", "declined") else principal, court=tenant.name_zh,
            judge=judge, mediator=mediator, status=status, opened_on=opened,
            closed_on=opened + timedelta(days=300) if status in ("completed", "enforced") else
            now_day if status == "declined" else None,
            defaulted_on=(opened + timedelta(days=200) if status == "enforced" else now_day - timedelta(days=5))
            if status in ("defaulted", "enforcing", "enforced") else None,
            enforcement_outcome="执行到位，查封设备拍卖清偿" if status == "enforced" else "",
            enforcement_recovered_fen=principal // 2 if status == "enforced" else 0,
            referral_key=str(uuid.uuid5(uuid.NAMESPACE_URL, f"qinqing-demo/{tenant.slug}/{i}")) if source else "",
            referred_from=source, referred_from_name=source_name,
            summary="企业经营正常，因资金周转困难逾期还款，申请调解分期清偿。" if source else ""))
    await Dispute.insert(*disputes)
    year = now_day.year
    await DisputeCounter.insert(scoped(DisputeCounter).new(year=year, last=len(SHAPE))).on_conflict(
        action="DO NOTHING")
    rows = await scoped(Dispute).select(Dispute.id, Dispute.status, Dispute.debtor, Dispute.settled_fen,
                                        Dispute.opened_on, Dispute.closed_on).where(Dispute.title.like("%金融借款纠纷"))
    names = {c["id"]: c["name"] for c in companies}
    parties, measures, agreements, instalments = [], [], [], []
    for n, d in enumerate(rows):
        parties.append(scoped(Party).new(dispute=d["id"], role="creditor", name=BANKS[n % len(BANKS)],
                                         user=bank if n % 4 == 0 else None))
        parties.append(scoped(Party).new(dispute=d["id"], role="debtor", name=names[d["debtor"]], company=d["debtor"]))
        if d["status"] in ("referred", "declined"):
            continue
        measures.append(scoped(Measure).new(dispute=d["id"], asset_kind="equipment", asset="生产线设备一套",
                                            imposed_on=d["opened_on"], lifted_on=d["closed_on"], ordered_by=judge))
        if d["status"] == "mediating":
            continue
        opened = d["opened_on"] if isinstance(d["opened_on"], date) else date.fromisoformat(str(d["opened_on"])[:10])
        confirmed = d["status"] != "settled"
        agreements.append(scoped(Agreement).new(dispute=d["id"], terms="分期清偿本金，免除部分罚息。",
                                                settled_fen=d["settled_fen"], signed_on=opened,
                                                confirmed_on=opened if confirmed else None,
                                                confirmation_ref=f"({opened.year})浙1004民特{n + 1}号" if confirmed else ""))
        part = d["settled_fen"] // 6
        if d["status"] in ("completed", "enforced"):
            first = opened + timedelta(days=30)
        elif d["status"] in ("defaulted", "enforcing"):
            first = now_day - timedelta(days=25)  # missed, grace run out: the default is on the record
        else:
            first = now_day - timedelta(days=20)  # the first instalment paid, the next ones ahead
        for seq in range(1, 7):
            amount = part if seq < 6 else d["settled_fen"] - part * 5
            due = first + timedelta(days=30 * (seq - 1))
            paid = d["status"] == "completed" or (d["status"] in ("repaying", "enforced") and seq == 1)
            overdue = d["status"] in ("defaulted", "enforcing") and due < now_day
            instalments.append(scoped(Instalment).new(
                dispute=d["id"], seq=seq, due_on=due, amount_fen=amount, paid_fen=amount if paid else 0,
                status="paid" if paid else "overdue" if overdue else "pending", paid_on=due if paid else None,
                notified=paid or overdue))
    for table, items in ((Party, parties), (Measure, measures), (Agreement, agreements), (Instalment, instalments)):
        if items:
            await table.insert(*items)
    for district in districts:
        await _district_referrals(tenant, district)


async def _district_referrals(court, district) -> None:
    """Two fresh referrals from a linked district, made by its dispatcher through the real path: they
    reach the court as the demo's outbox is drained and wait there to be accepted."""
    from plugins.mediation.referrals import send_referral

    async with in_tenant_scope(district):
        dispatcher = await _user("dispatcher")
        cases = await scoped(Case).select(Case.id, Case.company.name.as_alias("name"),
                                          Case.company.credit_code.as_alias("code")).where(
            Case.company.is_not_null()).order_by(Case.id).limit(2)
        for n, case in enumerate(cases):
            body = {"creditor": BANKS[n % len(BANKS)], "debtor_code": case["code"], "debtor_name": case["name"],
                    "principal_fen": (120 + 80 * n) * 10_000 * 100,
                    "summary": "企业订单稳定，流动资金贷款到期一时无力全额归还，申请法院调解分期。"}
            await send_referral(court, case["id"], body, dispatcher)
