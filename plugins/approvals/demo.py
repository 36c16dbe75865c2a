"""Demo data of project approvals in the shape of the article: the catalogue with the start-of-
construction permit cut from 24 materials to 7 and from 15 working days to 1, the restaurant
bundle (准入即准营), and a food-processing project chased by the government (被政府催着办) with
its construction permit accepted with a material missing (容缺).  Idempotent."""

from __future__ import annotations

from datetime import timedelta

from core.sdk import (
    Company,
    CurrentUser,
    Department,
    Membership,
    User,
    company_ids_of,
    current_tenant,
    load_calendar,
    scoped,
    today,
)
from plugins.approvals import catalogue, filings, projects
from plugins.approvals.inputs import AcceptIn, BundleApplyIn, BundleIn, FilingIn, ItemIn, MaterialIn, ProjectIn, StageIn
from plugins.approvals.tables import Filing, Item

# code, name_zh, name_en, department, statutory, committed, before, [(material, key)]
CATALOGUE = [
    ("construction_permit", "建筑工程施工许可", "Construction permit", "zgj", 15, 1, 24, [
        ("建筑工程施工许可证申请表", True), ("建设工程规划许可证", True), ("中标通知书及施工合同", True),
        ("施工图设计文件审查合格书", True), ("建设资金已落实承诺书", False), ("建设工程监理合同", False),
        ("工程质量安全监督登记表", False)]),
    ("planning_permit", "建设工程规划许可", "Planning permit", "zrzy", 20, 5, 12, [
        ("建设工程规划许可申请表", True), ("国有土地使用权出让合同", True), ("建设工程设计方案", True),
        ("项目备案（核准）文件", False), ("授权委托书", False)]),
    ("eia", "建设项目环境影响评价审批", "Environmental impact approval", "sthj", 30, 10, 15, [
        ("环境影响报告表", True), ("环评审批申请书", True), ("项目备案文件", False), ("公众参与说明", False),
        ("排污总量来源说明", False)]),
    ("fire_design", "消防设计审查", "Fire protection design review", "zgj", 15, 5, 10, [
        ("消防设计审查申请表", True), ("消防设计文件", True), ("建设工程规划许可证", False),
        ("依法需要办理的行政许可文件", False)]),
    ("business_licence", "营业执照", "Business licence", "scjg", 15, 1, 8, [
        ("公司登记（备案）申请书", True), ("公司章程", True), ("股东主体资格证明", True), ("住所使用证明", False)]),
    ("food_licence", "食品经营许可", "Food business licence", "scjg", 20, 3, 10, [
        ("食品经营许可申请书", True), ("营业执照复印件", True), ("食品安全管理制度", False),
        ("经营设备布局和工艺流程", False), ("食品安全管理人员证明", False)]),
    ("signboard", "户外招牌设置", "Signboard permit", "zgj", 20, 3, 6, [
        ("户外招牌设置申请表", True), ("招牌设计效果图", False), ("场地使用证明", False)]),
]
PROJECT = "日泉食品农副食品加工项目"


def _as(user_id: int, username: str, role: str, permissions: set[str]) -> CurrentUser:
    return CurrentUser(id=user_id, username=username, display_name="", locale="zh_CN", roles={role},
                       permissions=permissions)


async def load_demo() -> None:
    slug = current_tenant().slug
    if await scoped(Item).exists().where(Item.code == "construction_permit"):
        return
    names = [f"{k}@{slug}" for k in ("approvals_coordinator", "approvals_helper", "approvals_officer", "company")]
    users = {r["username"].split("@")[0]: r["id"] for r in await User.select(User.id, User.username).where(
        User.username.is_in(names))}
    if "approvals_coordinator" not in users:
        return
    coordinator = _as(users["approvals_coordinator"], names[0], "approvals_coordinator",
                      {"approvals.view", "approvals.manage", "approvals.help", "case.submit_on_behalf"})
    officer = _as(users.get("approvals_officer", coordinator.id), names[2], "approvals_officer",
                  {"approvals.view", "approvals.decide"})
    departments = {r["code"]: r["id"] for r in await scoped(Department).select(Department.id, Department.code)}
    if "approvals_officer" in users:  # the demo's officer sits at the integrated window (综合窗口): every department
        await scoped(Membership).update({Membership.department: None}).where(
            (Membership.user == users["approvals_officer"]) & (Membership.role == "approvals_officer"))
    items = {}
    for code, zh, en, dept, statutory, committed, before, materials in CATALOGUE:
        item = await catalogue.create_item(coordinator, ItemIn(
            code=code, name_zh=zh, name_en=en, department=departments.get(dept), statutory_days=statutory,
            committed_days=committed, materials_before=before,
            materials=[MaterialIn(name_zh=name, key=key) for name, key in materials]))
        items[code] = item
    bundle = await filings.create_bundle(coordinator, BundleIn(
        code="open_restaurant", name_zh="开餐馆“一件事”（准入即准营）", name_en="Open a restaurant (one thing)",
        items=[items[c].id for c in ("business_licence", "food_licence", "signboard")]))

    own = list(await company_ids_of(users["company"])) if "company" in users else []
    company = await scoped(Company).objects().where(Company.id == own[0]).first() if own else \
        await scoped(Company).objects().order_by(Company.id).first()
    if company is None:
        return
    other = await scoped(Company).objects().where(Company.id != company.id).order_by(Company.id).first() or company
    start = today()
    calendar = await load_calendar()
    helper = users.get("approvals_helper")
    keys = projects.stage_keys()
    offsets = {"intent": -120, "signing": -90, "land": -45, "approval": 10, "construction": 20, "production": 300}
    targets = {k: start + timedelta(days=offsets.get(k, 30 * i)) for i, k in enumerate(keys)}
    project = await projects.create_project(coordinator, ProjectIn(
        name=PROJECT, targets=targets, site="路桥区峰江街道", amount_fen=80_000_000 * 100, industry="农副食品加工业",
        company=company.credit_code, contact_name="蔡经理", contact_phone="0576-82000000", helper=helper))
    for key in keys[:3]:
        project = await projects.reach_stage(coordinator, project, StageIn(stage=key, reached_on=targets[key]))
    for code in ("planning_permit", "eia", "fire_design"):
        filing = await filings.submit(coordinator, FilingIn(item=items[code].id, project=project.id))
        await filings.accept(officer, filing, AcceptIn())
        filing = await scoped(Filing).objects().where(Filing.id == filing.id).first()
        await filings.grant(officer, filing)
        # Backdated so that the figures show working days actually taken.
        submitted = start - timedelta(days=21)
        decided = calendar.add_working_days(submitted, max(1, items[code].committed_days - 1)).date
        await scoped(Filing).update({Filing.submitted_on: submitted, Filing.accepted_on: submitted,
                                     Filing.decided_on: decided,
                                     Filing.due_on: calendar.add_working_days(submitted, items[code].committed_days).date
                                     }).where(Filing.id == filing.id)
    permit = await filings.submit(coordinator, FilingIn(item=items["construction_permit"].id, project=project.id))
    missing = [m["id"] for m in next(i for i in await catalogue.items() if i["code"] == "construction_permit")[
        "materials"] if m["name_zh"] == "建设工程监理合同"]
    await filings.accept(officer, permit, AcceptIn(missing=missing, commitment="承诺在开工前补齐监理合同。",
                                                   commitment_due=calendar.add_working_days(start, 5).date))
    second = await projects.create_project(coordinator, ProjectIn(
        name="新能源汽车零部件智能制造项目", targets={k: start + timedelta(days=20 + 40 * i) for i, k in enumerate(keys)},
        site="路桥区金清镇", amount_fen=250_000_000 * 100, industry="汽车零部件制造", company=other.credit_code,
        contact_name="王总", contact_phone="0576-82111111", helper=helper))
    await filings.submit(coordinator, FilingIn(item=items["planning_permit"].id, project=second.id))
    await filings.apply_bundle(coordinator, bundle, BundleApplyIn(company=other.credit_code))
