"""Demo disputes, shaped like Luqiao's 2022 (412 disputes, 10 enforced, 402 companies survived)
but small: 45 disputes, 40 repaid in full, 1 enforced, 1 in default, 2 in repayment, 1 under
mediation.  Idempotent (skipped when the demo disputes exist) and quick (bulk inserts)."""

from __future__ import annotations

from datetime import date, timedelta

from core.sdk import Company, User, current_tenant, scoped
from plugins.mediation.tables import Agreement, Dispute, Instalment, Measure, Party

BANKS = ("台州银行路桥支行", "浙江泰隆商业银行路桥支行", "路桥农商银行", "中国工商银行台州路桥支行")
SHAPE = ["completed"] * 40 + ["enforced", "defaulted", "repaying", "repaying", "mediating"]


async def _user(name: str) -> int | None:
    row = await User.select(User.id).where(User.username == f"{name}@{current_tenant().slug}").first()
    return row["id"] if row else None


async def load_demo() -> None:
    if await scoped(Dispute).exists().where(Dispute.number.like("HH2022-%")):
        return
    companies = await scoped(Company).select(Company.id, Company.name).order_by(Company.id).limit(len(SHAPE))
    if not companies:
        return
    bank, mediator, judge = await _user("mediation_bank"), await _user("mediation_mediator"), await _user("mediation_judge")
    start = date(2022, 1, 10)
    disputes = []
    for i, status in enumerate(SHAPE):
        principal = (50 + (i * 37) % 400) * 10_000 * 100
        opened = start + timedelta(days=7 * i)
        disputes.append(scoped(Dispute).new(
            number=f"HH2022-{i + 1:04d}", title=f"{BANKS[i % len(BANKS)]}诉{companies[i % len(companies)]['name']}金融借款纠纷",
            debtor=companies[i % len(companies)]["id"], principal_fen=principal, interest_fen=principal // 20,
            costs_fen=principal // 200, settled_fen=0 if status == "mediating" else principal, court="路桥区人民法院",
            judge=judge, mediator=mediator, status=status, opened_on=opened,
            closed_on=opened + timedelta(days=300) if status in ("completed", "enforced") else None,
            defaulted_on=opened + timedelta(days=200) if status in ("defaulted", "enforced") else None,
            enforcement_outcome="执行到位，查封设备拍卖清偿" if status == "enforced" else "",
            enforcement_recovered_fen=principal // 2 if status == "enforced" else 0))
    await Dispute.insert(*disputes)
    rows = await scoped(Dispute).select(Dispute.id, Dispute.status, Dispute.debtor, Dispute.settled_fen,
                                        Dispute.opened_on, Dispute.closed_on).where(Dispute.number.like("HH2022-%"))
    names = {c["id"]: c["name"] for c in companies}
    parties, measures, agreements, instalments = [], [], [], []
    for n, d in enumerate(rows):
        parties.append(scoped(Party).new(dispute=d["id"], role="creditor", name=BANKS[n % len(BANKS)],
                                         user=bank if n % 4 == 0 else None))
        parties.append(scoped(Party).new(dispute=d["id"], role="debtor", name=names[d["debtor"]], company=d["debtor"]))
        measures.append(scoped(Measure).new(dispute=d["id"], asset_kind="equipment", asset="生产线设备一套",
                                            imposed_on=d["opened_on"], lifted_on=d["closed_on"], ordered_by=judge))
        if d["status"] == "mediating":
            continue
        agreements.append(scoped(Agreement).new(dispute=d["id"], terms="分期清偿本金，免除部分罚息。",
                                                settled_fen=d["settled_fen"], signed_on=d["opened_on"],
                                                confirmed_on=d["opened_on"], confirmation_ref=f"(2022)浙1004民特{n + 1}号"))
        first = date.today() + timedelta(days=20) if d["status"] == "repaying" else d["opened_on"] + timedelta(days=30)
        part = d["settled_fen"] // 6
        for seq in range(1, 7):
            amount = part if seq < 6 else d["settled_fen"] - part * 5
            paid = d["status"] == "completed"
            instalments.append(scoped(Instalment).new(
                dispute=d["id"], seq=seq, due_on=first + timedelta(days=30 * (seq - 1)), amount_fen=amount,
                paid_fen=amount if paid else 0, status="paid" if paid else "pending",
                paid_on=first + timedelta(days=30 * (seq - 1)) if paid else None))
    for table, items in ((Party, parties), (Measure, measures), (Agreement, agreements), (Instalment, instalments)):
        if items:
            await table.insert(*items)
