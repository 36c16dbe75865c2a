"""What each lifecycle step takes, validated with msgspec (form fields arrive as strings)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal, TypeVar

import msgspec

from core.errors import UserError

Short = Annotated[str, msgspec.Meta(max_length=200)]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]
# Required text: after stripping it may not be empty.
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
NeedText = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Days = Annotated[int, msgspec.Meta(ge=1, le=60)]


class NewCase(msgspec.Struct):
    """A case as submitted (提交诉求): its category (code or id), title and description, and the company."""

    category: Title
    title: Title
    description: Text
    company: Short = ""  # unified social credit code; the company user's own company when empty


class AttachCompany(msgspec.Struct):
    company: Title  # unified social credit code of a registered company
    comment: Reason = ""


class Dispatch(msgspec.Struct):
    department: Short = ""  # code or id; the category's lead department when empty
    comment: Reason = ""


class Comment(msgspec.Struct):
    comment: Reason = ""


class NeedReason(msgspec.Struct):
    reason: NeedText


class OptionalReason(msgspec.Struct):
    reason: Reason = ""


class Refuse(msgspec.Struct):
    reason: NeedText
    basis: NeedText


class Resolve(msgspec.Struct):
    reply: Text


class Extend(msgspec.Struct):
    days: Days
    reason: NeedText


class Decide(msgspec.Struct):
    decision: Literal["accept", "reject", "approve", "deny"]
    comment: Reason = ""
    department: Short = ""


class Hearing(msgspec.Struct):
    hearing_at: datetime
    place: Title


class Rule(msgspec.Struct):
    verdict: Literal["upheld", "overturned"]
    reason: NeedText
    record: Text = ""


class Rate(msgspec.Struct):
    rating: Literal["satisfied", "basically_satisfied", "unsatisfied"]
    comment: Reason = ""


class Merge(msgspec.Struct):
    into: Title  # the number or id of the case to merge into
    reason: Reason = ""


# -- the API's request bodies ------------------------------------------------------------------------
# One body per route; a step's fields are all optional here (types, lengths and choices checked at
# the boundary) and what a step requires is checked by the step itself, after who may take it and
# in which status — so the answers keep their order: 404, 403, 409, then 400 for what is missing.

Long = Annotated[str, msgspec.Meta(max_length=5000)]


class CaseStep(msgspec.Struct, kw_only=True):
    """A lifecycle step's fields (办理环节): each step reads the ones it needs."""

    version: int | None = None  # the case's version as read; a stale one answers 409
    reason: Reason | None = None  # object, extend, refuse, send-back, request-review, rule, escalate, reopen, …
    basis: Reason | None = None  # refuse: the legal or policy basis
    comment: Reason | None = None  # attach-company, dispatch, sign, send-back, decide-*, rate
    department: Short | None = None  # dispatch, decide-objection: department code or id
    company: Short | None = None  # attach-company: unified social credit code
    days: Days | None = None  # extend: working days
    decision: Literal["accept", "reject", "approve", "deny"] | None = None  # decide-objection, decide-extension
    reply: Long | None = None  # resolve
    hearing_at: datetime | None = None  # schedule-hearing
    place: Short | None = None  # schedule-hearing
    verdict: Literal["upheld", "overturned"] | None = None  # rule
    record: Long | None = None  # rule: the hearing record
    rating: Literal["satisfied", "basically_satisfied", "unsatisfied"] | None = None  # rate
    into: Short | None = None  # merge: number or id of the case to merge into
    amount: Short | None = None  # advance, settle-advance: in yuan ("1234.50"), or …
    amount_fen: int | None = None  # … in fen
    authorised_by: Short | None = None  # advance: who authorised it
    work: Long | None = None  # advance: what was done
    date: Short | None = None  # advance, settle-advance: YYYY-MM-DD (today when empty)


def given(body: msgspec.Struct | None) -> dict:
    """The fields a request body set, as plain values (the shape a form gives `parse`)."""
    if body is None:
        return {}
    return {k: v for k, v in msgspec.to_builtins(body).items() if v is not None}


Form = TypeVar("Form", bound=msgspec.Struct)


def parse(struct: type[Form], data: dict) -> Form:
    """Validate `data` into `struct`; required text may not be blank. Bad input → 400 naming the field."""
    cleaned = {k: v.strip() if isinstance(v, str) else v for k, v in (data or {}).items()
               if k in struct.__struct_fields__ and v not in (None,)}
    try:
        value = msgspec.convert(cleaned, struct, strict=False)
    except msgspec.ValidationError as exc:
        found = re.search(r"`\$\.(\w+)|field `(\w+)`", str(exc))
        field = (found.group(1) or found.group(2)) if found else ""
        raise UserError(400, "The field %(field)s is missing or not valid.", code="invalid", field=field or "?") from None
    return value
