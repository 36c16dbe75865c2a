"""The JSON API's bodies as msgspec structs (in the OpenAPI schema; unknown fields are refused).
Amounts are integers in fen; the service checks their sign and the rules, with its own messages."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

Short = Annotated[str, msgspec.Meta(max_length=200)]
Login = Annotated[str, msgspec.Meta(max_length=150)]
Text = Annotated[str, msgspec.Meta(max_length=20000)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
Day = Annotated[str, msgspec.Meta(max_length=32)]  # YYYY-MM-DD (a datetime for held_at); checked by the service


class DisputeIn(msgspec.Struct, forbid_unknown_fields=True):
    """Intake (收案): the debtor by credit code (its name when new to the registry), the creditor and the sums."""

    debtor: Annotated[str, msgspec.Meta(max_length=18)]
    creditor: Short
    principal_fen: int | None = None
    interest_fen: int | None = None
    costs_fen: int | None = None
    debtor_name: Short = ""
    creditor_user: Login = ""  # the creditor's login (a bank's account), when it has one
    guarantors: Annotated[list[Short], msgspec.Meta(max_length=20)] = []
    title: Short = ""
    court: Short = ""
    judge: Login = ""
    mediator: Login = ""
    case: Id | None = None  # the district case it came from, if any


class PlanEntry(msgspec.Struct, forbid_unknown_fields=True):
    due_on: Day
    amount_fen: int


class StepIn(msgspec.Struct, forbid_unknown_fields=True):
    """One step's fields; each step reads its own: accept (judge, mediator), decline (reason), party (role,
    name, username), measure (asset_kind, asset, restriction, imposed_on), lift (measure, lifted_on), session
    (held_at, place, video_link, participants, minutes, outcome), settle (settled_fen, terms, plan, signed_on),
    confirm (ref, confirmed_on), pay (amount_fen, paid_on, instalment, note), enforce, conclude (outcome,
    recovered_fen, closed_on). `version` refuses a step on a dispute changed since it was read (409)."""

    version: int | None = None
    judge: Login = ""
    mediator: Login = ""
    reason: Text = ""
    role: Short = ""
    name: Short = ""
    username: Login = ""
    asset_kind: Short = ""
    asset: Short = ""
    restriction: Short = ""
    imposed_on: Day = ""
    measure: Id | None = None
    lifted_on: Day = ""
    held_at: Day = ""
    place: Short = ""
    video_link: Annotated[str, msgspec.Meta(max_length=300)] = ""
    participants: Text = ""
    minutes: Text = ""
    outcome: Text = ""
    settled_fen: int | None = None
    terms: Text = ""
    plan: Annotated[list[PlanEntry], msgspec.Meta(max_length=120)] | None = None
    signed_on: Day = ""
    ref: Short = ""
    confirmed_on: Day = ""
    amount_fen: int | None = None
    paid_on: Day = ""
    instalment: Id | None = None
    note: Annotated[str, msgspec.Meta(max_length=300)] = ""
    recovered_fen: int | None = None
    closed_on: Day = ""


class SweepIn(msgspec.Struct, forbid_unknown_fields=True):
    """Run the repayment sweep of a day (the court's today when empty); dry_run changes nothing."""

    on: Day = ""
    dry_run: bool = False


class ReferralIn(msgspec.Struct, forbid_unknown_fields=True):
    """A district's referral (诉前引调) of a case's financial dispute to a linked court: only these fields cross."""

    case: Id
    court: Annotated[str, msgspec.Meta(max_length=63)]
    creditor: Short
    principal_fen: int
    summary: Annotated[str, msgspec.Meta(max_length=5000)]
    attachments: Annotated[list[Id], msgspec.Meta(max_length=50)] = []  # ids of the case's files to send along


def as_form(body: msgspec.Struct) -> dict[str, Any]:
    """The body as the dict the service reads (the pages' forms give the same), empty fields left out."""
    out = {}
    for key, value in msgspec.structs.asdict(body).items():
        if value is None or value == "":
            continue
        out[key] = msgspec.to_builtins(value)
    return out
