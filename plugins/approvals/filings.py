"""Applications for approvals (申请): submitted, accepted — with non-key materials missing against
the company's written commitment (容缺受理) — then granted or refused; one-thing bundles (一件事)
applied for once, opening an application per department in parallel; and a stuck application
turned into a core case (诉求) in one step, linked both ways.

Every step is an update conditioned on the state the user saw, so of two parallel steps one wins
and the other gets 409; the request's transaction then stores nothing of the loser."""

from __future__ import annotations

import json

from core.sdk import (
    N_,
    Case,
    Category,
    Company,
    UserError,
    append_event,
    gettext,
    load_calendar,
    scoped,
    submit_case,
    tenant_setting,
    today,
)
from plugins.approvals.access import (
    check_day,
    company_for,
    forbid,
    invalid,
    is_company,
    is_staff,
    load_project,
    require,
    require_decider,
    require_helper_of,
)
from plugins.approvals.inputs import AcceptIn, BundleApplyIn, BundleIn, CaseIn, FilingIn, ReceiveIn, RefuseIn
from plugins.approvals.labels import FILING_STATUSES
from plugins.approvals.record import helper_or_coordinators, officers, record, tell, tell_company
from plugins.approvals.tables import Action, Bundle, BundleFiling, Filing, Item, Material, Project, Shortfall

NEW_FILING = N_("New application for %(item)s from %(company)s: decide by %(due)s.")
ACCEPTED = N_("Your application for %(item)s was accepted; the decision is due by %(due)s.")
ACCEPTED_MISSING = N_("Your application for %(item)s was accepted with materials missing: hand them in by %(due)s.")
GRANTED = N_("Your application for %(item)s was granted.")
REFUSED = N_("Your application for %(item)s was refused: %(reason)s")
BUNDLE_FILED = N_("%(company)s applied once for %(bundle)s; its approvals are open in every department.")
BUNDLE_DONE = N_("Everything for %(bundle)s is granted.")
STALE = N_("This application changed since you opened it. Reload the page and try again.")
OPEN = ("submitted", "accepted")


def _stale() -> UserError:
    return UserError(409, STALE, code="stale")


async def _item(item_id: int) -> Item:
    item = await scoped(Item).objects().where(Item.id == item_id).first()
    if item is None:
        raise invalid("item")
    return item


async def _open(item: Item, company: Company, project: Project | None, actor: int,
                bundle_filing: int | None = None) -> Filing:
    """Open one application; its decision is due the committed number of working days on."""
    calendar = await load_calendar()
    submitted = today()
    due = calendar.add_working_days(submitted, item.committed_days).date
    asked = await scoped(Material).count().where(Material.item == item.id)
    filing = await scoped(Filing).add(item=item.id, company=company.id, project=project.id if project else None,
                                      bundle_filing=bundle_filing, department=item.department, status="submitted",
                                      submitted_on=submitted, due_on=due, materials_asked=asked, created_by=actor)
    await scoped(Action).add(project=filing.project, filing=filing.id, kind="decide", text=item.name_zh,
                             owner="department", department=item.department, due_on=due)
    await record("filed", actor, project=filing.project, filing=filing.id, item=item.code)
    await tell(await officers(item.department), NEW_FILING, f"approvals/filings/{filing.id}", item=item.name_zh,
               company=company.name, due=str(due))
    return filing


async def _applicant(user, credit_code: str, project_id: int | None) -> tuple[Company, Project | None]:
    if not (is_staff(user) or is_company(user)):
        raise forbid()
    project = None
    if project_id is not None:
        try:
            project = await load_project(user, project_id)
        except UserError:
            raise invalid("project") from None
        company = await scoped(Company).objects().where(Company.id == project.company).first()
        if company is None:
            raise invalid("project")
        return company, project
    return await company_for(user, credit_code), None


async def submit(user, form: FilingIn) -> Filing:
    """A company, or staff for it, applies for one approval of the catalogue."""
    item = await _item(form.item)
    company, project = await _applicant(user, form.company, form.project)
    return await _open(item, company, project, user.id)


# -- the department's steps -------------------------------------------------------------------------

async def _step(filing: Filing, before: tuple[str, ...], values: dict) -> None:
    values = {getattr(Filing, k): v for k, v in values.items()}
    values[Filing.version] = Filing.version + 1
    done = await scoped(Filing).update(values).where(
        (Filing.id == filing.id) & (Filing.version == filing.version) & Filing.status.is_in(list(before))
    ).returning(Filing.id)
    if not done:
        raise _stale()


async def accept(user, filing: Filing, form: AcceptIn) -> None:
    """Accept (受理); with materials missing (容缺), only non-key ones, against a written commitment
    whose due date is not in the past."""
    await require_decider(user, filing)
    if filing.status != "submitted":
        raise _stale()
    materials = {m.id: m for m in await scoped(Material).objects().where(Material.item == filing.item)}
    missing = list(dict.fromkeys(form.missing))
    for material_id in missing:
        if material_id not in materials:
            raise invalid("missing")
        if materials[material_id].key:
            raise UserError(400, "%(material)s is a key material and can never be waived (field %(field)s).",
                            code="key_material", material=materials[material_id].name_zh, field="missing")
    if missing:
        if not form.commitment.strip():
            raise invalid("commitment")
        if form.commitment_due is None:
            raise invalid("commitment_due")
        check_day(form.commitment_due, "commitment_due")
        if form.commitment_due < today():
            raise UserError(400, "The commitment's due date (field %(field)s) cannot be before today.",
                            code="due_in_past", field="commitment_due")
    asked = form.materials_asked if form.materials_asked is not None else filing.materials_asked
    await _step(filing, ("submitted",), {"status": "accepted", "accepted_on": today(), "waived": bool(missing),
                                         "commitment": form.commitment.strip() if missing else "",
                                         "commitment_due": form.commitment_due if missing else None,
                                         "materials_asked": asked})
    item = await scoped(Item).objects().where(Item.id == filing.item).first()
    link = f"approvals/filings/{filing.id}"
    if missing:
        await scoped(Shortfall).insert(*({"filing": filing.id, "material": m, "due_on": form.commitment_due}
                                         for m in missing))
        await scoped(Action).add(project=filing.project, filing=filing.id, kind="materials", text=item.name_zh,
                                 owner="company", due_on=form.commitment_due)
        await record("accepted_missing", user.id, project=filing.project, filing=filing.id,
                     missing=[materials[m].name_zh for m in missing], due=form.commitment_due)
        await tell_company(filing.company, ACCEPTED_MISSING, link, item=item.name_zh, due=str(form.commitment_due))
    else:
        await record("accepted", user.id, project=filing.project, filing=filing.id)
        await tell_company(filing.company, ACCEPTED, link, item=item.name_zh, due=str(filing.due_on))


async def receive(user, filing: Filing, form: ReceiveIn) -> None:
    """A missing material is in; when the last one is, the commitment is met."""
    await require_decider(user, filing)
    if filing.status != "accepted":
        raise _stale()
    done = await scoped(Shortfall).update({Shortfall.received_on: today()}).where(
        (Shortfall.filing == filing.id) & (Shortfall.material == form.material) & Shortfall.received_on.is_null()
    ).returning(Shortfall.id)
    if not done:
        raise invalid("material")
    material = await scoped(Material).select(Material.name_zh).where(Material.id == form.material).first()
    await record("received", user.id, project=filing.project, filing=filing.id, material=material["name_zh"])
    if not await scoped(Shortfall).exists().where((Shortfall.filing == filing.id) & Shortfall.received_on.is_null()):
        await scoped(Action).update({Action.done_on: today()}).where(
            (Action.filing == filing.id) & (Action.kind == "materials") & Action.done_on.is_null())
        await record("commitment_met", user.id, project=filing.project, filing=filing.id)


async def grant(user, filing: Filing) -> None:
    """Grant (准予); not while a material of a 容缺 acceptance is still missing.  A bundle completes
    when its last application is granted (grants of one bundle queue on its row)."""
    await require_decider(user, filing)
    if filing.status != "accepted":
        raise _stale()
    if await scoped(Shortfall).exists().where((Shortfall.filing == filing.id) & Shortfall.received_on.is_null()):
        raise UserError(409, "Materials promised at acceptance are still missing; receive them first.",
                        code="materials_missing")
    await _step(filing, ("accepted",), {"status": "granted", "decided_on": today()})
    await _close_actions(filing)
    item = await scoped(Item).objects().where(Item.id == filing.item).first()
    await record("granted", user.id, project=filing.project, filing=filing.id)
    await tell_company(filing.company, GRANTED, f"approvals/filings/{filing.id}", item=item.name_zh)
    if filing.bundle_filing:
        await _complete_bundle(filing.bundle_filing)


async def refuse(user, filing: Filing, form: RefuseIn) -> None:
    await require_decider(user, filing)
    if filing.status not in OPEN:
        raise _stale()
    await _step(filing, OPEN, {"status": "refused", "decided_on": today(), "reason": form.reason.strip()})
    await _close_actions(filing)
    item = await scoped(Item).objects().where(Item.id == filing.item).first()
    await record("refused", user.id, project=filing.project, filing=filing.id, reason=form.reason.strip())
    await tell_company(filing.company, REFUSED, f"approvals/filings/{filing.id}", item=item.name_zh,
                       reason=form.reason.strip())


async def _close_actions(filing: Filing) -> None:
    await scoped(Action).update({Action.done_on: today()}).where(
        (Action.filing == filing.id) & Action.done_on.is_null())


async def _complete_bundle(bundle_filing_id: int) -> None:
    # The update takes the bundle's row lock on PostgreSQL, so parallel grants count one after another.
    await scoped(BundleFiling).update({BundleFiling.version: BundleFiling.version + 1}).where(
        BundleFiling.id == bundle_filing_id)
    if await scoped(Filing).exists().where((Filing.bundle_filing == bundle_filing_id) & (Filing.status != "granted")):
        return
    done = await scoped(BundleFiling).update({BundleFiling.status: "completed", BundleFiling.completed_on: today()}).where(
        (BundleFiling.id == bundle_filing_id) & (BundleFiling.status == "open")).returning(BundleFiling.company)
    if done:
        bundle = await scoped(BundleFiling).select(BundleFiling.bundle.name_zh.as_alias("name")).where(
            BundleFiling.id == bundle_filing_id).first()
        await tell_company(done[0]["company"], BUNDLE_DONE, f"approvals/bundle-filings/{bundle_filing_id}",
                           bundle=bundle["name"])


# -- a stuck application becomes a case ---------------------------------------------------------------

async def _category(filing: Filing, chosen: str) -> str:
    code = chosen.strip() or str(tenant_setting("approvals_case_category", "") or "")
    if code:
        return code
    row = await scoped(Category).select(Category.code).where(
        (Category.lead_department == filing.department) & (Category.active == True)).order_by(Category.id).first()  # noqa: E712
    row = row or await scoped(Category).select(Category.code).where(Category.active == True).order_by(  # noqa: E712
        Category.id).first()
    if row is None:
        raise invalid("category")
    return row["code"]


async def open_case(user, filing: Filing, form: CaseIn) -> Case:
    """File the stuck application as a core case for the company (its helper files on its behalf);
    the application keeps the case, and the case's record names the application."""
    project = await scoped(Project).objects().where(Project.id == filing.project).first() if filing.project else None
    require_helper_of(user, project)
    if filing.status not in OPEN:
        raise _stale()
    if filing.case:
        raise UserError(409, "This application is already a case.", code="already_a_case")
    item = await scoped(Item).objects().where(Item.id == filing.item).first()
    company = await scoped(Company).objects().where(Company.id == filing.company).first()
    title = gettext(N_("Stuck approval: %(item)s"), item=item.name_zh)[:200]
    description = form.description.strip() or gettext(
        N_("The application for %(item)s was submitted on %(submitted)s and was due by %(due)s; it is still %(status)s."),
        item=item.name_zh, submitted=str(filing.submitted_on), due=str(filing.due_on),
        status=gettext(FILING_STATUSES[filing.status]))
    case = await submit_case(user, {"category": await _category(filing, form.category), "title": title,
                                    "description": description, "company": company.credit_code})
    linked = await scoped(Filing).update({Filing.case: case.id}).where(
        (Filing.id == filing.id) & Filing.case.is_null()).returning(Filing.id)
    if not linked:
        raise UserError(409, "This application is already a case.", code="already_a_case")
    await append_event(case=case.id, actor=user.id, actor_role="approvals", action="approvals_case",
                       before=case.status, after=case.status,
                       data={"filing": filing.id, "item": item.code, "link": f"approvals/filings/{filing.id}"})
    await record("case_opened", user.id, project=filing.project, filing=filing.id, case=case.id, number=case.number)
    return case


# -- one-thing bundles --------------------------------------------------------------------------------

async def create_bundle(user, form: BundleIn) -> Bundle:
    require(user, "approvals.manage")
    items = list(dict.fromkeys(form.items))
    if not items:
        raise UserError(400, "A bundle needs at least one approval (field %(field)s).", code="bundle_empty",
                        field="items")
    known = {r["id"] for r in await scoped(Item).select(Item.id).where(Item.id.is_in(items))}
    if known != set(items):
        raise invalid("items")
    if await scoped(Bundle).exists().where(Bundle.code == form.code):
        raise UserError(409, "The code %(value)s is already in use.", code="duplicate_code", value=form.code)
    return await scoped(Bundle).add(code=form.code, name_zh=form.name_zh.strip(), name_en=form.name_en.strip(),
                                    items=json.dumps(items))


async def apply_bundle(user, bundle: Bundle, form: BundleApplyIn) -> BundleFiling:
    """Apply once: an application per approval, opened in parallel across the departments."""
    items = [int(i) for i in json.loads(bundle.items or "[]")]
    rows = {i.id: i for i in await scoped(Item).objects().where(Item.id.is_in(items))} if items else {}
    if not rows:
        raise UserError(400, "A bundle needs at least one approval (field %(field)s).", code="bundle_empty",
                        field="items")
    company, project = await _applicant(user, form.company, form.project)
    bf = await scoped(BundleFiling).add(bundle=bundle.id, company=company.id,
                                        project=project.id if project else None, status="open",
                                        submitted_on=today(), created_by=user.id)
    for item_id in items:
        if item_id in rows:
            await _open(rows[item_id], company, project, user.id, bundle_filing=bf.id)
    await tell(await helper_or_coordinators(project.helper if project else None), BUNDLE_FILED,
               f"approvals/bundle-filings/{bf.id}", bundle=bundle.name_zh, company=company.name)
    return bf
