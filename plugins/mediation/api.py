"""The JSON API of mediation at ``/t/<slug>/api/v1/mediation/`` (bearer tokens only): disputes
(list, intake, one dispute), their steps, and the court's figures."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from core.sdk import READ_ERRORS, WRITE_ERRORS, UserError, current_tenant, current_user
from plugins.mediation import queries, referrals, repayment, service, sweeping
from plugins.mediation.inputs import DisputeIn, ReferralIn, StepIn, SweepIn, as_form

STEPS = {"accept": service.accept, "decline": service.decline, "party": service.add_party, "measure": service.impose, "lift": service.lift, "session": service.hold_session,
         "settle": repayment.settle, "confirm": repayment.confirm, "pay": repayment.pay, "enforce": repayment.enforce,
         "conclude": repayment.conclude}


async def run_step(user, dispute_id: int, step: str, data: dict) -> None:
    dispute = await service.load(user, dispute_id)
    if step not in STEPS:
        raise UserError(404, "Not found.")
    version = data.pop("version", None)
    if version not in (None, "") and str(version) != str(dispute.version):
        raise UserError(409, "This dispute changed since you opened it. Reload the page and try again.", code="stale")
    await STEPS[step](user, dispute, data)


def _plain(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def _out(row: dict) -> dict:
    out = _plain({k: v for k, v in row.items() if not isinstance(v, list) and not isinstance(v, dict)})
    for key in ("parties", "measures", "sessions", "instalments", "payments", "events", "files"):
        if key in row:
            out[key] = [_plain(r) for r in row[key]]
    if row.get("agreement") is not None:
        out["agreement"] = _plain(row["agreement"])
    return out


def _district_reader(request: Request) -> None:
    user = current_user(request)
    if current_tenant().kind == "court":
        raise UserError(404, "Not found.")
    if not (referrals.can_refer(user) or user.can("case.view_all")):
        raise UserError(403, "You are not allowed to do this.")


def _referral_out(row: dict) -> dict:
    out = _plain({k: v for k, v in row.items() if k not in ("milestones", "files")})
    out["milestones"] = [_plain(m) for m in row.get("milestones", [])]
    out["files"] = row.get("files", [])
    return out


class MediationApi(Controller):
    path = "/"
    tags = ["mediation"]

    @get("/disputes", summary="Disputes this user may see, newest first, a page at a time (page, per_page up to "
                              "200); filter by status, mine=1 for a mediator", responses=READ_ERRORS)
    async def index(self, request: Request, status: FromQuery[str] = "", mine: FromQuery[int] = 0,
                    page: FromQuery[int] = 1, per_page: FromQuery[int] = 100) -> list[dict[str, Any]]:
        rows = await queries.list_disputes(current_user(request), status, bool(mine), page, per_page)
        return [_out(r) for r in rows]

    @post("/disputes", summary="Take in a dispute (debtor: credit code; creditor; creditor_user; guarantors; "
                               "principal_fen, interest_fen, costs_fen; court; judge; mediator; case)",
          responses=WRITE_ERRORS)
    async def create(self, request: Request, data: JSONBody[DisputeIn]) -> dict[str, Any]:
        user = current_user(request)
        dispute = await service.intake(user, as_form(data))
        return _out(await queries.detail(user, dispute.id))

    @get("/disputes/{dispute_id:int}", summary="One dispute with parties, measures, sessions, plan, payments, record",
         responses=READ_ERRORS)
    async def detail(self, request: Request, dispute_id: FromPath[int]) -> dict[str, Any]:
        return _out(await queries.detail(current_user(request), dispute_id))

    @post("/disputes/{dispute_id:int}/{step:str}", status_code=200,
          summary="A step: party, measure, lift, session, settle (settled_fen, plan, terms), confirm, pay, enforce",
          responses=WRITE_ERRORS)
    async def step(self, request: Request, dispute_id: FromPath[int], step: FromPath[str],
                   data: JSONBody[StepIn | None] = None) -> dict[str, Any]:
        user = current_user(request)
        await run_step(user, dispute_id, step, as_form(data) if data else {})
        return _out(await queries.detail(user, dispute_id))

    @get("/sweep", summary="Preview of the repayment sweep of a day (on=YYYY-MM-DD, the court's today by default): "
                           "what it would change, changing nothing", responses=READ_ERRORS)
    async def sweep_preview(self, request: Request, on: FromQuery[str] = "") -> dict[str, Any]:
        return await sweeping.run(current_user(request), on, dry_run=True)

    @post("/sweep", status_code=200, summary="Run the repayment sweep of a day now (on, dry_run)",
          responses=WRITE_ERRORS)
    async def sweep_run(self, request: Request, data: JSONBody[SweepIn | None] = None) -> dict[str, Any]:
        body = data or SweepIn()
        return await sweeping.run(current_user(request), body.on, dry_run=body.dry_run)

    @get("/referrals", summary="A district's referrals to its court(s), newest first, with their last milestone",
         responses=READ_ERRORS)
    async def referrals_index(self, request: Request) -> list[dict[str, Any]]:
        _district_reader(request)
        return [_plain(r) for r in await referrals.list_referrals()]

    @post("/referrals", summary="Refer a case's financial dispute to a linked court (case, court, creditor, "
                                "principal_fen, summary); 403 without an active link", responses=WRITE_ERRORS)
    async def referrals_create(self, request: Request, data: JSONBody[ReferralIn]) -> dict[str, Any]:
        _district_reader(request)
        referral = await referrals.refer(current_user(request), as_form(data))
        return _referral_out(await referrals.referral_detail(referral.id))

    @get("/referrals/{referral_id:int}", summary="One referral of the district: its status and milestones",
         responses=READ_ERRORS)
    async def referral_detail(self, request: Request, referral_id: FromPath[int]) -> dict[str, Any]:
        _district_reader(request)
        return _referral_out(await referrals.referral_detail(referral_id))

    @get("/figures", summary="The court's figures: open, settled, in repayment, defaulted, enforced, amount, "
                             "survival rate", responses=READ_ERRORS)
    async def figures(self, request: Request) -> dict[str, Any]:
        service.need(current_user(request), "mediation.view")
        return await queries.figures()
