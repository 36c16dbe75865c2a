"""What each lifecycle step takes, validated with msgspec (form fields arrive as strings)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

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


def parse(struct: type, data: dict):
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
