"""Demo cases shaped like Luqiao's year (see domain.md): about 2,000 requests, over half first
answered "cannot be done", most of those re-dispatched after review and then completed, some
escalated, a few upheld; satisfaction recorded.  Seeded, so every run builds the same data.

Cases are written in bulk with their events appended to the hash chain, so `qinqing audit verify`
passes on them.  A manifest's `demo_cases` setting gives the count (200 when unset);
`QINQING_DEMO_CASES` scales every tenant's count (tests use a small one).
"""

from __future__ import annotations

import os
import random
from datetime import datetime, timedelta, timezone

from core.cases import states as S
from core.cases.audit import append_events
from core.cases.companies import add_member, register_company
from core.cases.search import index_text
from core.cases.tables import Case, Refusal, Review, SignOff
from core.oversight import tally
from core.passwords import user_for_login
from core.scope import current_tenant, scoped
from core.tables import Category, Membership, User
from core.uscc import check_character

# The subdistricts and towns (街道、镇) a demo district's companies give as their township; the
# manifests' settings carry their English names ("township_en.<name>").
TOWNSHIPS = {
    "luqiao": ["路桥街道", "路南街道", "路北街道", "螺洋街道", "桐屿街道", "峰江街道", "新桥镇", "横街镇", "金清镇", "蓬街镇"],
    "jiaojiang": ["海门街道", "白云街道", "葭沚街道", "洪家街道", "下陈街道", "前所街道", "章安街道", "三甲街道"],
    "pengjie": ["蓬街镇"],
}
FIRMS = ["恒达", "宏远", "华鑫", "永盛", "金达", "利民", "东方", "博远", "鑫源", "天成", "海德", "瑞丰"]
TRADES = [("汽摩配件", "汽车零部件"), ("塑料模具", "模具制造"), ("电子电器", "电子信息"), ("再生金属", "金属回收"),
          ("食品", "食品加工"), ("服饰", "纺织服装"), ("机械", "通用机械"), ("新材料", "新材料")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ["建国", "海燕", "立新", "晓东", "丽萍", "志强", "春梅", "国华", "文杰", "秀英", "俊峰", "雪芳", "永康", "静怡",
         "伟明", "红霞", "建军", "玉兰", "振宇", "慧敏", "德胜", "美玲", "家豪", "佳琪"]


def person_name(n: int) -> str:
    """A made-up Chinese name for the `n`th demo person (联系人, 账号), the same on every run."""
    return SURNAMES[(n * 7) % len(SURNAMES)] + GIVEN[(n * 5 + n // len(GIVEN)) % len(GIVEN)]


TOPICS = {
    "municipal": [("厂区附近排水管淤积", "厂区门口的排水管长期淤积，雨天积水倒灌进车间，请尽快疏通。"),
                  ("门前道路破损影响货车通行", "厂门前道路坑洼严重，重型货车进出困难，存在安全隐患。"),
                  ("工业区路灯不亮", "工业区主干道路灯已损坏多日，夜班员工出行不便。")],
    "construction": [("新厂房施工许可办理进度", "新建厂房已提交施工许可材料，想了解审批进度和还缺哪些材料。"),
                     ("竣工验收材料咨询", "车间扩建工程已完工，咨询竣工验收需要准备的材料。")],
    "registration": [("经营范围变更登记", "企业拟增加进出口业务，申请变更经营范围。"),
                     ("分公司设立登记咨询", "计划在椒江设立分公司，咨询登记流程。")],
    "planning": [("厂房扩建用地规划许可", "企业订单增长，需在现有地块扩建厂房，申请用地规划许可。"),
                 ("临时用地审批", "为堆放原材料申请临时用地。")],
    "labour": [("招工补贴申请", "今年新招用本地员工三十名，申请招工补贴。"),
               ("社保缴费基数核定", "对社保缴费基数核定结果有疑问，请求复核。")],
    "policy": [("技改补助资金兑现", "去年完成的技术改造项目已验收，补助资金尚未兑现。"),
               ("专精特新奖励申请", "企业获评省级专精特新企业，申请区级奖励。")],
    "environment": [("排污许可证延续", "排污许可证即将到期，申请延续。"),
                    ("环评审批进度咨询", "新建喷涂线的环评报告已提交一个月，询问审批进度。")],
}
GENERIC = [("企业用电增容申请", "生产线扩大，需要增加用电容量。"), ("厂区周边交通标志缺失", "厂区路口缺少限速标志。")]


def demo_credit_code(division: str, serial: int) -> str:
    first17 = f"91{division}{serial:08d}0"[:17]
    return first17 + check_character(first17)


def _case_count(tenant) -> int:
    """The tenant's `demo_cases` setting scaled by `QINQING_DEMO_CASES` (2,000 = the article's year)."""
    scale = int(os.environ.get("QINQING_DEMO_CASES", "2000")) / 2000
    return max(10, int(int(tenant.settings.get("demo_cases", 200)) * scale))


async def _user(username: str) -> int | None:
    row = await User.select(User.id).where(User.username == username).first()
    return row["id"] if row else None


async def load_demo_cases() -> None:
    """Load the demo companies and cases into the tenant in scope (once: nothing if it has cases)."""
    tenant = current_tenant()
    if await scoped(Case).count() > 0:
        return
    rng = random.Random(f"qinqing-demo-{tenant.slug}")
    division = "331004" if tenant.slug in ("luqiao", "pengjie") else "331002"
    townships = TOWNSHIPS.get(tenant.slug, TOWNSHIPS["luqiao"])
    companies = []
    for i in range(60 if tenant.kind == "district" else 12):
        trade, industry = TRADES[i % len(TRADES)]
        township = townships[i % len(townships)]
        name = f"{township[:2]}{FIRMS[i % len(FIRMS)]}{trade}{'有限公司' if i % 3 else '股份有限公司'}"
        company, _ = await register_company(demo_credit_code(division, 10_000 + i), name, industry=industry,
                                            township=township, contact_name=person_name(i + 100),
                                            contact_phone=f"1390576{i:04d}")
        companies.append(company)
    accounts = await _company_accounts(tenant.slug, companies)
    actors = {role: await _user(f"{role}@{tenant.slug}") for role in  # the fallbacks of a department without one
              ("company", "dispatcher", "handler", "section_head", "leader", "dept_head", "reviewer")}
    categories = await scoped(Category).select(Category.id, Category.code, Category.lead_department,
                                               Category.deadline_days, Category.lead_department.code.as_alias("dept"))
    staff = await _department_staff()
    leaders = {dept: people["leader"] for dept, people in staff.items() if people.get("leader")}
    total = _case_count(tenant)
    start = datetime(2026, 1, 5, 1, 30, tzinfo=timezone.utc)
    for chunk_start in range(0, total, 250):
        await _chunk(rng, tenant, companies, accounts, categories, actors, staff, leaders, start,
                     range(chunk_start, min(total, chunk_start + 250)), total)
    await tally.rebuild()


async def _company_accounts(slug: str, companies: list) -> dict[int, int | None]:
    """One login per demo company (企业账号), linked to it as its liaison: `company@<slug>` for the
    first, `company02@<slug>`… for the others, with the demo password of `company@<slug>`.
    Returns company id -> user id."""
    first = await user_for_login(f"company@{slug}")  # the hash is not readable to a plain select on PostgreSQL
    accounts: dict[int, int | None] = {c.id: None for c in companies}
    if first is None:
        return accounts
    for n, company in enumerate(companies):
        if n == 0:
            user_id = first.id
        else:
            username = f"company{n + 1:02d}@{slug}"
            row = await User.select(User.id).where(User.username == username).first()
            if row is None:
                row = (await User.insert(User(username=username, display_name=company.contact_name,
                                              password_hash=first.password_hash)).returning(User.id))[0]
            user_id = row["id"]
            if not await scoped(Membership).exists().where((Membership.user == user_id) & (Membership.role == "company")):
                await scoped(Membership).add(user=user_id, role="company", department=None, section=None)
        await add_member(company.id, user_id, liaison=True)
        accounts[company.id] = user_id
    return accounts


async def _department_staff() -> dict[int, dict[str, int]]:
    """Each department's first responder and signers (首问负责人、科室负责人、分管领导、主要负责人):
    department id -> role -> user id (the first account holding it)."""
    staff: dict[int, dict[str, int]] = {}
    rows = await scoped(Membership).select(Membership.user, Membership.department, Membership.role).where(
        Membership.role.is_in(["handler", *S.SIGN_LEVELS]) & Membership.department.is_not_null()).order_by(
        Membership.user)
    for r in rows:
        staff.setdefault(r["department"], {}).setdefault(r["role"], r["user"])
    return staff


async def _chunk(rng, tenant, companies, accounts, categories, actors, staff, leaders, start, indexes, total) -> None:
    """Cases submitted by their company's own account and handled and signed in their lead department."""
    plans = []
    for i in indexes:
        category = categories[i % len(categories)]
        title, text = rng.choice(TOPICS.get(category["code"], GENERIC))
        company = companies[rng.randrange(len(companies))]
        t0 = start + timedelta(minutes=int(i * (320 * 24 * 60) / total) + rng.randrange(600))
        people = {**actors, **staff.get(category["lead_department"], {})}
        people["company"] = accounts.get(company.id) or actors["company"]
        plans.append((i, category, title, text, company, t0, _path(rng, t0, total, i), people))
    rows = [scoped(Case).new(
        number="", company=c.id, submitted_by=who["company"], category=cat["id"], title=title,
        description=text, search_text=index_text(title, text, c.name), status=path["status"],
        department=cat["lead_department"] if path["status"] != S.SUBMITTED else None,
        handler=who["handler"] if path["accepted"] else None, submitted_at=t0,
        dispatched_at=t0 + timedelta(hours=4) if path["status"] != S.SUBMITTED else None,
        accepted_at=next((at for action, at, *_ in path["steps"] if action == "accept"), None),
        due_date=_due(cat, t0) if path["status"] != S.SUBMITTED else None,
        escalated=path["escalated"], escalated_to=leaders.get(cat["lead_department"]) if path["escalated"] else None,
        overturned=path["overturned"], refused_count=path["refused"], redispatch_count=int(path["overturned"]),
        rating=path["rating"], closed_at=path["closed_at"], resolved_at=path["resolved_at"],
        resolution="已协调相关科室现场处理完毕。" if path["resolved_at"] else "",
        version=len(path["steps"]), updated_at=path["steps"][-1][1],
    ) for (i, cat, title, text, c, t0, path, who) in plans]
    inserted = await Case.insert(*rows).returning(Case.id)
    year = start.year
    events = []
    for (i, cat, title, text, c, t0, path, who), row in zip(plans, inserted):
        case_id = row["id"]
        await scoped(Case).update({Case.number: f"{tenant.slug[:2].upper()}{year}{case_id:06d}"}).where(
            Case.id == case_id)
        before = ""
        for action, at, after, reason in path["steps"]:
            role = _ROLE_OF[action]
            if action == "sign":
                role, reason = reason, ""
            events.append({"case": case_id, "actor": who.get(role), "actor_role": role, "action": action,
                           "reason": reason, "before": before, "after": after, "created_at": at,
                           "data": _event_data(action, after, role, cat, t0, path)})
            before = after
        await _records(case_id, path, who)
    await append_events(events)


def _due(category: dict, t0: datetime):
    return (t0 + timedelta(days=category["deadline_days"] + 2)).date()


def _event_data(action: str, after: str, role: str, category: dict, t0: datetime, path: dict) -> dict:
    """What the step itself would have put on the record (see core.cases.steps), so that replaying
    the record gives the case row (`qinqing audit verify`)."""
    due = str(_due(category, t0))
    if action == "submit":
        return {"category": category["code"], "on_behalf": False}
    if action == "dispatch":
        return {"department": category["dept"], "due": due}
    if action == "refuse":
        return {"basis": BASIS}
    if action == "sign":
        return {"level": role}
    if action == "rule":
        return {"verdict": "overturned", "due": due} if after == S.DISPATCHED else {"verdict": "upheld"}
    if action == "rate":
        return {"rating": path["rating"]}
    return {}


BASIS = "《台州市路桥区企业扶持政策实施细则》第五条"
_ROLE_OF = {"submit": "company", "dispatch": "dispatcher", "accept": "handler", "refuse": "handler",
            "sign": "dept_head", "request-review": "dispatcher", "schedule-hearing": "reviewer",
            "rule": "reviewer", "resolve": "handler", "rate": "company", "escalate": "dispatcher"}


def _path(rng: random.Random, t0: datetime, total: int, i: int) -> dict:
    """One case's history: the steps (action, time, status after, reason) and its final state."""
    h = lambda hours: t0 + timedelta(hours=hours)  # noqa: E731
    steps = [("submit", t0, S.SUBMITTED, "")]
    out = {"status": S.SUBMITTED, "accepted": False, "escalated": False, "overturned": False, "refused": 0,
           "rating": "", "closed_at": None, "resolved_at": None, "steps": steps, "signers": []}
    recent = i > total * 0.97
    if recent and rng.random() < 0.4:
        return out
    steps.append(("dispatch", h(4), S.DISPATCHED, ""))
    if recent and rng.random() < 0.3:
        out["status"] = S.DISPATCHED
        return out
    steps.append(("accept", h(8), S.IN_PROGRESS, ""))
    out["accepted"] = True
    if rng.random() < 0.05:
        steps.append(("escalate", h(30), S.IN_PROGRESS, "超期未办结，提级办理"))
        out["escalated"] = True
    if recent:
        out["status"] = S.IN_PROGRESS
        return out
    if rng.random() < 0.56:  # first answered "cannot be done" (不能办)
        steps.append(("refuse", h(20), S.REFUSAL_PENDING, "不符合现行政策规定"))
        for n, level in enumerate(S.SIGN_LEVELS):
            steps.append(("sign", h(22 + n), S.REFUSAL_PENDING if n < 2 else S.REFUSED, level))
        out["refused"] = 1
        steps.append(("request-review", h(30), S.UNDER_REVIEW, "企业对不能办答复有异议"))
        steps.append(("schedule-hearing", h(40), S.UNDER_REVIEW, ""))
        if rng.random() < 0.02:
            steps.append(("rule", h(60), S.CLOSED, "拒绝理由充分，依据明确"))
            out.update(status=S.CLOSED, closed_at=h(60))
            return out
        steps.append(("rule", h(60), S.DISPATCHED, "非企业原因，部门应想办法解决（二次交办）"))
        steps.append(("accept", h(62), S.IN_PROGRESS, ""))
        out["overturned"] = True
        t_resolve = 66 + rng.randrange(24)
    else:
        t_resolve = 12 + rng.randrange(60)
    steps.append(("resolve", h(t_resolve), S.RESOLVED, "已协调相关科室现场处理完毕。"))
    roll = rng.random()
    rating = "satisfied" if roll < 0.9 else "basically_satisfied" if roll < 0.98 else "unsatisfied"
    steps.append(("rate", h(t_resolve + 20), S.CLOSED, ""))
    out.update(status=S.CLOSED, rating=rating, resolved_at=h(t_resolve), closed_at=h(t_resolve + 20))
    return out


async def _records(case_id: int, path: dict, actors: dict) -> None:
    """The refusal with its three signatures and the review, for cases that were refused."""
    if not path["refused"]:
        return
    times = {a: t for a, t, _, _ in path["steps"]}
    refusal = await scoped(Refusal).add(case=case_id, filed_by=actors["handler"], reason="不符合现行政策规定",
                                        basis=BASIS, stage="done", status="final",
                                        created_at=times["refuse"], completed_at=times["sign"])
    await SignOff.insert(*[scoped(SignOff).new(refusal=refusal.id, level=level, signer=actors[level],
                                               decision="signed", created_at=times["refuse"])
                           for level in S.SIGN_LEVELS])
    rule = next((s for s in path["steps"] if s[0] == "rule"), None)
    await scoped(Review).add(case=case_id, refusal=refusal.id, requested_by=actors["dispatcher"],
                             reason="企业对不能办答复有异议", status="ruled" if rule else "scheduled",
                             hearing_at=times["schedule-hearing"], place="区人大常委会会议室",
                             verdict=("overturned" if path["overturned"] else "upheld") if rule else "",
                             verdict_reason=rule[3] if rule else "", ruled_by=actors["reviewer"],
                             ruled_at=rule[1] if rule else None)

