"""Demo data of inclusive enforcement, shaped like the article's 包容审慎柔性执法: the three
lists with their legal bases; inspections of the demo companies by the market-regulation,
construction and ecology departments — one company inspected again within the window, with a
joint inspection (综合查一次) proposed and joined; outcomes of each kind, a penalty where 首违不罚
applies waiting for the construction bureau head's sign-off, and an outcome the company contested
(a core case).  Idempotent: nothing is added when the lists exist."""

from __future__ import annotations

from datetime import timedelta

from core.sdk import Company, CurrentUser, Department, User, company_ids_of, current_tenant, now, scoped, today
from plugins.enforcement import findings
from plugins.enforcement.tables import Finding, Inspection, JointInspection, ListItem

BASIS_33 = "《中华人民共和国行政处罚法》第三十三条第一款：初次违法且危害后果轻微并及时改正的，可以不予行政处罚。"
LISTS = [
    ("no_penalty", "SCJG-SW-01", "未按规定期限公示年度报告", "首次发生，未造成危害后果，责令改正后及时补报",
     BASIS_33 + "《企业信息公示暂行条例》第八条。", "scjg"),
    ("no_penalty", "SCJG-SW-02", "广告中使用“最佳”“最高级”等绝对化用语", "首次发生，影响范围小，及时撤下或改正",
     BASIS_33 + "《中华人民共和国广告法》第九条第三项。", "scjg"),
    ("no_penalty", "ZJ-SW-01", "施工现场未按规定设置连续封闭围挡", "首次发生，未造成危害后果，当场改正",
     BASIS_33 + "《建设工程安全生产管理条例》第三十条。", "zgj"),
    ("no_penalty", "STHJ-SW-01", "危险废物贮存场所识别标志不规范", "首次发生，未造成环境污染，限期内改正",
     BASIS_33 + "《中华人民共和国固体废物污染环境防治法》第七十七条。", "sthj"),
    ("mitigated", "SCJG-CQ-01", "主动消除或者减轻违法行为危害后果", "立案前主动整改并退还消费者款项",
     "《中华人民共和国行政处罚法》第三十二条第（一）项：主动消除或者减轻违法行为危害后果的，应当从轻或者减轻行政处罚。",
     "scjg"),
    ("mitigated", "STHJ-CQ-01", "污染物超标排放，主动报告并积极整改", "首次超标、超标倍数较低、主动报告并完成整改",
     "《中华人民共和国行政处罚法》第三十二条；《中华人民共和国大气污染防治法》第九十九条。", "sthj"),
    ("no_coercion", "STHJ-BQ-01", "对违法行为情节轻微的企业不采取查封、扣押措施", "情节轻微、社会危害较小，且企业承诺限期整改",
     "《中华人民共和国行政强制法》第十六条第二款：违法行为情节显著轻微或者没有明显社会危害的，可以不采取行政强制措施。",
     "sthj"),
    ("no_coercion", "SCJG-BQ-01", "对正常生产经营企业不扣押生产设备", "不影响调查取证，企业配合调查",
     "《中华人民共和国行政强制法》第十六条第二款、第二十三条。", "scjg"),
]


async def _user_id(username: str) -> int | None:
    row = await User.select(User.id).where(User.username == username).first()
    return row["id"] if row else None


async def load_demo() -> None:
    slug = current_tenant().slug
    if await scoped(ListItem).exists():
        return
    departments = {d["code"]: d["id"] for d in await scoped(Department).select(Department.id, Department.code)}
    items = {}
    for kind, code, title, conditions, basis, dept in LISTS:
        row = await scoped(ListItem).add(kind=kind, code=code, title=title, conditions=conditions, legal_basis=basis,
                                         department=departments.get(dept), active=True, updated_at=now())
        items[code] = row.id
    from core.sdk import load_demo_cases

    await load_demo_cases()  # the demo companies (idempotent; plugins' loaders may run before the core's)
    companies = [c["id"] for c in await scoped(Company).select(Company.id).order_by(Company.id).limit(6)]
    company_user = await _user_id(f"company@{slug}")
    own = list(await company_ids_of(company_user)) if company_user else []
    if len(companies) < 3 or not {"scjg", "zgj", "sthj"} <= set(departments):
        return
    first = own[0] if own else companies[0]
    others = [c for c in companies if c != first]
    officer = await _user_id(f"enforcement_officer@{slug}")
    registrants = {"scjg": await _user_id(f"handler.scjg@{slug}"), "sthj": await _user_id(f"handler.sthj@{slug}"),
                   "zgj": officer}
    day = today()

    async def inspection(dept: str, company: int, days: int, subject: str, basis: str, who: str, joint=None,
                         status: str = "planned") -> int:
        row = await scoped(Inspection).add(department=departments[dept], company=company, subject=subject,
                                           legal_basis=basis, planned_on=day + timedelta(days=days), inspectors=who,
                                           joint=joint, status=status, registered_by=registrants[dept],
                                           created_at=now(), version=0)
        return row.id

    def finding(inspection_id: int, company: int, dept: str, text: str, outcome: str, item: str | None = None,
                fen: int = 0, reason: str = "", status: str = "final") -> dict:
        return dict(inspection=inspection_id, company=company, description=text, outcome=outcome,
                    list_item=items.get(item) if item else None, first_violation=True, penalty_fen=fen, reason=reason,
                    status=status, recorded_by=registrants[dept], created_at=now(), version=0)

    # 1. The company of company@<slug>: market regulation came 20 days ago; ecology and construction
    # plan to come within the window — a joint inspection is proposed and joined (综合查一次).
    past = await inspection("scjg", first, -20, "年度报告公示与广告合规检查",
                            "《中华人民共和国市场主体登记管理条例》第三十五条；《中华人民共和国广告法》第四十九条",
                            "王某（执法证号 33100100123）、李某（33100100456）", status="inspected")
    joint = await scoped(JointInspection).add(company=first, planned_on=day + timedelta(days=6),
                                              lead_department=departments["sthj"], proposed_by=registrants["sthj"],
                                              created_at=now())
    await inspection("sthj", first, 6, "危险废物规范化管理检查", "《中华人民共和国固体废物污染环境防治法》第二十七条",
                     "陈某（33100200789）、周某（33100200321）", joint=joint.id)
    await inspection("zgj", first, 6, "厂房扩建工程施工安全检查", "《建设工程安全生产管理条例》第四十三条",
                     "赵某（33100300111）、钱某（33100300222）", joint=joint.id)
    await scoped(Finding).add(**finding(past, first, "scjg", "2025年度报告逾期12天公示，检查当日已补报。",
                                        "not_penalised", "SCJG-SW-01"))
    contested = await scoped(Finding).add(**finding(
        past, first, "scjg", "官网产品介绍使用“行业最佳”字样，且此前已因同类用语被责令改正。", "penalised", fen=300000))
    # 2. Construction: a penalty where 首违不罚 applies, waiting for the bureau head's sign-off.
    site = await inspection("zgj", others[0], -12, "在建工程施工现场检查", "《建设工程安全生产管理条例》第四十三条",
                            "赵某（33100300111）、孙某（33100300333）", status="inspected")
    await scoped(Finding).add(**finding(site, others[0], "zgj", "施工现场东侧约30米未设置围挡。", "penalised",
                                        "ZJ-SW-01", 500000, "临近学校，存在安全隐患，拟予处罚。", status="awaiting_signoff"))
    # 3. Ecology: a mitigated penalty, a measure not applied, and a correction with guidance.
    plant = await inspection("sthj", others[1], -45, "废气排放专项检查",
                             "《中华人民共和国大气污染防治法》第二十九条", "陈某（33100200789）、吴某（33100200654）",
                             status="inspected")
    await scoped(Finding).add(**finding(plant, others[1], "sthj", "颗粒物排放浓度超标0.2倍，企业主动报告并已完成整改。",
                                        "mitigated", "STHJ-CQ-01", 2000000))
    await scoped(Finding).add(**finding(plant, others[1], "sthj", "危废暂存间标识缺失，情节轻微，不采取查封措施。",
                                        "not_penalised", "STHJ-BQ-01"))
    await scoped(Finding).add(**finding(plant, others[1], "sthj", "环保设施运行台账记录不完整，现场指导规范填写。",
                                        "corrected"))
    if len(others) > 2:
        await inspection("scjg", others[2], 14, "食品生产许可条件核查", "《中华人民共和国食品安全法》第一百一十条",
                         "王某（33100100123）、郑某（33100100789）")
    # The company contests the penalty: a core case linked to the outcome.
    if company_user and first in own:
        user = await _as_company(company_user, slug)
        row = await findings.get(contested.id)
        inspection_row = await scoped(Inspection).objects().where(Inspection.id == past).first()
        await findings.contest(user, row, inspection_row, {"reason": "该用语系引用第三方评测结论，并非自我标榜，请求复核。"})


async def _as_company(user_id: int, slug: str) -> CurrentUser:
    return CurrentUser(id=user_id, username=f"company@{slug}", display_name="", locale="zh_CN", roles={"company"},
                       permissions={"case.submit", "case.view_own", "case.rate", "portal.view"})
