"""The modules' records of a generated tenant: mediation disputes (和合金融) and the liaison
network (助企服务网络), shaped like their demo data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from bench.histories import _at_local

BANKS = ("台州银行路桥支行", "浙江泰隆商业银行路桥支行", "路桥农商银行", "中国工商银行台州路桥支行")

if TYPE_CHECKING:
    from bench.tenants_plan import TenantJob
    from bench.histories import Tenant



async def _mediation(writer, rng, job: TenantJob, t: Tenant, companies, until: date) -> dict:
    n = max(5, job.cases // 50)
    base = await writer.reserve("mediation_dispute", n)
    judge, mediator, bank = t.roles.get("mediation_judge"), t.roles.get("mediation_mediator"), t.roles.get(
        "mediation_bank")
    court = t.roles.get("mediation_court")
    disputes, parties, measures, agreements, instalments, records = [], [], [], [], [], []
    for k in range(n):
        roll = rng.random()
        status = ("completed" if roll < 0.89 else "enforced" if roll < 0.91 else "defaulted" if roll < 0.93
                  else "repaying" if roll < 0.97 else "mediating")
        debtor = companies[rng.randrange(len(companies))]
        principal = (50 + rng.randrange(400)) * 10_000 * 100
        opened = until - timedelta(days=30 + rng.randrange(700))
        dispute_id = base + k + 1
        settled = 0 if status == "mediating" else principal
        disputes.append((dispute_id, job.tenant_id, f"HH{opened.year}-{dispute_id:06d}",
                         f"{BANKS[k % len(BANKS)]}诉{debtor[2]}金融借款纠纷", debtor[0], None, principal,
                         principal // 20, principal // 200, settled, "基准区人民法院", judge, mediator, status, opened,
                         opened + timedelta(days=300) if status in ("completed", "enforced") else None,
                         opened + timedelta(days=200) if status in ("defaulted", "enforced") else None,
                         "执行到位，查封设备拍卖清偿" if status == "enforced" else "",
                         principal // 2 if status == "enforced" else 0, 0, _at_local(opened, 9)))
        parties.append((job.tenant_id, dispute_id, "creditor", BANKS[k % len(BANKS)], None, bank if k % 4 == 0 else None))
        parties.append((job.tenant_id, dispute_id, "debtor", debtor[2], debtor[0], None))
        measures.append((job.tenant_id, dispute_id, "equipment", "生产线设备一套", True, False, False, opened,
                         opened + timedelta(days=300) if status in ("completed", "enforced") else None, judge))
        records.append((job.tenant_id, dispute_id, "intake", court, "", "mediating", "{}", _at_local(opened, 9)))
        if status == "mediating":
            continue
        agreements.append((job.tenant_id, dispute_id, "分期清偿本金，免除部分罚息。", settled, opened, opened,
                           f"({opened.year})浙1004民特{k + 1}号", judge))
        first = until + timedelta(days=20) if status == "repaying" else opened + timedelta(days=30)
        part = settled // 6
        for seq in range(1, 7):
            amount = part if seq < 6 else settled - part * 5
            paid = status == "completed"
            due_on = first + timedelta(days=30 * (seq - 1))
            instalments.append((job.tenant_id, dispute_id, seq, due_on, amount, amount if paid else 0,
                                "paid" if paid else "pending", due_on if paid else None, False, False))
    tid_cols = ("tenant_id", "dispute")
    await writer.copy("mediation_dispute", (
        "id", "tenant_id", "number", "title", "debtor", "case", "principal_fen", "interest_fen", "costs_fen",
        "settled_fen", "court", "judge", "mediator", "status", "opened_on", "closed_on", "defaulted_on",
        "enforcement_outcome", "enforcement_recovered_fen", "version", "created_at"), disputes)
    await writer.copy("mediation_party", (*tid_cols, "role", "name", "company", "user"), parties)
    await writer.copy("mediation_measure", (*tid_cols, "asset_kind", "asset", "restrict_transfer",
                                            "restrict_mortgage", "restrict_use", "imposed_on", "lifted_on",
                                            "ordered_by"), measures)
    await writer.copy("mediation_agreement", (*tid_cols, "terms", "settled_fen", "signed_on", "confirmed_on",
                                              "confirmation_ref", "confirmed_by"), agreements)
    await writer.copy("mediation_instalment", (*tid_cols, "seq", "due_on", "amount_fen", "paid_fen", "status",
                                               "paid_on", "late", "notified"), instalments)
    await writer.copy("mediation_event", (*tid_cols, "step", "actor", "before", "after", "data", "created_at"),
                      records)
    return {"disputes": len(disputes), "instalments": len(instalments)}


async def _liaison(writer, rng, job: TenantJob, t: Tenant, companies, plans, until: date, created) -> dict:
    tid = job.tenant_id
    assistants = t.assistants
    pairings, changes = [], []
    for i, company in enumerate(companies):
        assistant = assistants[i % len(assistants)]
        pairings.append((tid, company[0], assistant, created))
        changes.append((tid, company[0], None, assistant, "结对", t.roles.get("liaison_coordinator"), created))
    n_visits = len(companies) * 2
    visit_base = await writer.reserve("liaison_visit", n_visits)
    visits, follow_ups = [], []
    for k in range(n_visits):
        i = rng.randrange(len(companies))
        visited = until - timedelta(days=1 + rng.randrange(300))
        visit_id = visit_base + k + 1
        assistant = assistants[i % len(assistants)]
        visits.append((visit_id, tid, companies[i][0], assistant, "visit" if rng.random() < 0.7 else "call", visited,
                       "企业负责人", "用工、用地与政策咨询", _at_local(visited, 10)))
        if rng.random() < 0.1:
            follow_ups.append((tid, visit_id, companies[i][0], assistant, "协调厂区门口道路修复",
                               visited + timedelta(days=7), rng.random() < 0.7, None, None))
    needs = []
    for case_id, meta, path in plans:
        if meta["on_behalf"]:
            needs.append((tid, companies[meta["company"]][0], meta["submitter"], meta["submitter"], "visit",
                          "企业诉求代办", "助企员走访中了解到的诉求，已代为提交。", "filed", case_id, "",
                          meta["submitted_at"], meta["submitted_at"]))
    for k in range(max(1, len(companies) // 50)):
        i = rng.randrange(len(companies))
        at = _at_local(until - timedelta(days=rng.randrange(20)), 11)
        needs.append((tid, companies[i][0], assistants[i % len(assistants)], assistants[i % len(assistants)], "call",
                      "咨询招工补贴政策", "", "open", None, "", at, None))
    people = [(tid, "runner", f"村社助跑员{k + 1}", None, "", f"第{k + 1}村", "", "") for k in range(4)]
    people += [(tid, "lead", f"百晓长{k + 1}", None, "", "", "汽摩配", "investment,setup") for k in range(2)]
    salon_base = await writer.reserve("liaison_salon", 4)
    salons, seats = [], []
    for k in range(4):
        held = until - timedelta(days=10 + 60 * k)
        salons.append((salon_base + k + 1, tid, "惠企政策解读沙龙", held, "经济发展办公室", "助企员、企业联络员",
                       "镇便民服务中心", t.roles.get("liaison_coordinator")))
        for s in range(10):
            seats.append((tid, salon_base + k + 1, f"参会人{s + 1}", None, "liaison", s < 8, _at_local(held, 8)))
    await writer.copy("liaison_pairing", ("tenant_id", "company", "assistant", "assigned_at"), pairings)
    await writer.copy("liaison_pairing_change", ("tenant_id", "company", "previous", "assistant", "reason",
                                                 "changed_by", "changed_at"), changes)
    await writer.copy("liaison_visit", ("id", "tenant_id", "company", "assistant", "kind", "visited_on", "people",
                                        "topics", "created_at"), visits)
    await writer.copy("liaison_follow_up", ("tenant_id", "visit", "company", "assistant", "text", "due_on", "done",
                                            "case", "reminded_on"), follow_ups)
    await writer.copy("liaison_need", ("tenant_id", "company", "assistant", "raised_by", "channel", "title",
                                       "description", "status", "case", "answer", "created_at", "closed_at"), needs)
    await writer.copy("liaison_person", ("tenant_id", "kind", "name", "user", "phone", "village", "industry",
                                         "fields"), people)
    await writer.copy("liaison_salon", ("id", "tenant_id", "topic", "held_on", "speakers", "audience", "place",
                                        "created_by"), salons)
    await writer.copy("liaison_salon_seat", ("tenant_id", "salon", "name", "user", "kind", "attended",
                                             "signed_up_at"), seats)
    return {"pairings": len(pairings), "visits": len(visits), "needs": len(needs)}
