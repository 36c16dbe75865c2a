"""Projects (项目) through the stages the tenant configures, each with a target date in order; the
helper (帮办员) assigned and reassigned with a reason; next steps with an owner and a due day."""

from __future__ import annotations

from datetime import date

from core.sdk import N_, Department, UserError, scoped, tenant_setting, today
from plugins.approvals import DEFAULT_STAGES
from plugins.approvals.access import check_day, company_for, forbid, invalid, is_helper, require, require_helper_of
from plugins.approvals.inputs import ActionIn, HelperIn, ProjectIn, StageIn
from plugins.approvals.record import helper_or_coordinators, record, tell
from plugins.approvals.tables import Action, Project, Stage

STAGE_ORDER = N_("The target date of %(field)s comes before the date of the stage before it; give the stages' dates in order.")
ASSIGNED = N_("You are the helper of the project %(project)s.")
NEXT_STEP = N_("Next step of %(project)s, due %(due)s: %(text)s")


def stage_keys() -> list[str]:
    """The tenant's stages in order (default: 意向 → 签约 → 供地 → 审批 → 开工 → 投产)."""
    raw = str(tenant_setting("approvals_stages", DEFAULT_STAGES) or DEFAULT_STAGES)
    keys: list[str] = []
    for key in (k.strip() for k in raw.split(",")):
        if key and key not in keys:
            keys.append(key[:30])
    return keys or DEFAULT_STAGES.split(",")


def ordered_targets(targets: dict[str, date]) -> list[tuple[str, date]]:
    """The target dates in the tenant's stage order; 400 naming the field that is missing, unknown
    or earlier than the stage before it."""
    keys = stage_keys()
    for key in targets:
        if key not in keys:
            raise invalid(f"targets.{key}")
    out: list[tuple[str, date]] = []
    for key in keys:
        field = f"targets.{key}"
        if key not in targets:
            raise invalid(field)
        check_day(targets[key], field)
        if out and targets[key] < out[-1][1]:
            raise UserError(400, STAGE_ORDER, code="stage_order", field=field)
        out.append((key, targets[key]))
    return out


async def _check_helper(helper: int | None) -> None:
    if helper is not None and not await is_helper(helper):
        raise UserError(400, "Choose a helper of this tenant.", code="not_a_helper")


async def create_project(user, form: ProjectIn) -> Project:
    if user is None or not (user.can("approvals.manage") or user.can("approvals.help")):
        raise forbid()
    targets = ordered_targets(form.targets)
    company = await company_for(user, form.company)
    await _check_helper(form.helper)
    helper = form.helper if user.can("approvals.manage") else (form.helper or user.id)
    project = await scoped(Project).add(
        name=form.name.strip(), site=form.site.strip(), amount_fen=form.amount_fen, industry=form.industry.strip(),
        company=company.id, contact_name=form.contact_name.strip(), contact_phone=form.contact_phone.strip(),
        helper=helper, stage=targets[0][0], created_by=user.id)
    await scoped(Stage).insert(*({"project": project.id, "key": key, "position": i, "target_on": on}
                                 for i, (key, on) in enumerate(targets)))
    await record("project_created", user.id, project=project.id, name=project.name)
    if helper:
        await record("helper_assigned", user.id, project=project.id, helper=helper)
        await tell([helper], ASSIGNED, f"approvals/projects/{project.id}", project=project.name)
    await _stage_action(project, targets[0][0], targets[0][1])
    return project


async def _stage_action(project: Project, key: str, due: date) -> None:
    await scoped(Action).add(project=project.id, kind="stage", text=key, owner="helper", due_on=due)  # the stage's key


async def reassign(user, project: Project, form: HelperIn) -> Project:
    """A coordinator assigns the helper; changing one needs a reason, kept on the record."""
    require(user, "approvals.manage")
    await _check_helper(form.helper)
    reason = form.reason.strip()
    if project.helper == form.helper:
        return project
    if project.helper is not None and not reason:
        raise UserError(400, "Give the reason for the reassignment.", code="reason_required")
    previous = project.helper
    changed = await scoped(Project).update({Project.helper: form.helper, Project.version: Project.version + 1}).where(
        (Project.id == project.id) & (Project.version == project.version)).returning(Project.id)
    if not changed:
        raise UserError(409, "This project changed since you opened it. Reload the page and try again.", code="stale")
    project.helper, project.version = form.helper, project.version + 1
    await record("helper_reassigned" if previous else "helper_assigned", user.id, project=project.id,
                 previous=previous, helper=form.helper, reason=reason)
    await tell([form.helper], ASSIGNED, f"approvals/projects/{project.id}", project=project.name)
    return project


async def reach_stage(user, project: Project, form: StageIn) -> Project:
    """The current stage is reached: the next one becomes current, with its own next step."""
    require_helper_of(user, project)
    if not project.stage or form.stage != project.stage:
        raise UserError(409, "This project changed since you opened it. Reload the page and try again.", code="stale")
    on = form.reached_on or today()
    check_day(on, "reached_on")
    if on > today():
        raise invalid("reached_on")
    keys = [r["key"] for r in await scoped(Stage).select(Stage.key).where(Stage.project == project.id).order_by(
        Stage.position)]
    following = keys[keys.index(project.stage) + 1] if project.stage in keys[:-1] else ""
    moved = await scoped(Project).update({Project.stage: following, Project.version: Project.version + 1}).where(
        (Project.id == project.id) & (Project.stage == project.stage)).returning(Project.id)
    if not moved:
        raise UserError(409, "This project changed since you opened it. Reload the page and try again.", code="stale")
    await scoped(Stage).update({Stage.reached_on: on}).where((Stage.project == project.id) & (Stage.key == form.stage))
    await scoped(Action).update({Action.done_on: today()}).where(
        (Action.project == project.id) & (Action.kind == "stage") & Action.done_on.is_null())
    await record("stage_reached", user.id, project=project.id, stage=form.stage, reached_on=on)
    if following:
        target = await scoped(Stage).select(Stage.target_on).where(
            (Stage.project == project.id) & (Stage.key == following)).first()
        await _stage_action(project, following, target["target_on"])
    project.stage = following
    return project


async def add_action(user, project: Project, form: ActionIn) -> Action:
    """A next step: who is on it and by which day (reminded the day before, escalated when it slips)."""
    require_helper_of(user, project)
    check_day(form.due_on, "due_on")
    if form.due_on < today():
        raise invalid("due_on")
    department = None
    if form.owner == "department":
        if form.department is None or not await scoped(Department).exists().where(Department.id == form.department):
            raise invalid("department")
        department = form.department
    action = await scoped(Action).add(project=project.id, kind="custom", text=form.text.strip(), owner=form.owner,
                                      department=department, due_on=form.due_on)
    await record("action_added", user.id, project=project.id, text=action.text, owner=form.owner, due_on=form.due_on)
    if form.owner == "helper":
        await tell(await helper_or_coordinators(project.helper), NEXT_STEP, f"approvals/projects/{project.id}",
                   text=action.text, project=project.name, due=str(form.due_on))
    return action
