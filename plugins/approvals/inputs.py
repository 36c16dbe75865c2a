"""What each step takes, as msgspec structs: the JSON API's bodies (in the OpenAPI schema) and
the pages' forms, validated the same way."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Short = Annotated[str, msgspec.Meta(max_length=300)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")]
Text = Annotated[str, msgspec.Meta(max_length=5000)]
NeedText = Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
Days = Annotated[int, msgspec.Meta(ge=1, le=365)]
Fen = Annotated[int, msgspec.Meta(ge=0, le=10**15)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class ProjectIn(msgspec.Struct):
    """A new project: the company (credit code), the helper (user id) and a target date per stage."""

    name: Name
    targets: dict[str, date]  # stage key → target date, in the tenant's stage order
    site: Short = ""
    amount_fen: Fen = 0
    industry: Short = ""
    company: Short = ""  # unified social credit code
    contact_name: Short = ""
    contact_phone: Short = ""
    helper: Id | None = None


class HelperIn(msgspec.Struct):
    """Assign the helper (帮办员); a reassignment needs its reason."""

    helper: Id
    reason: Text = ""


class StageIn(msgspec.Struct):
    """Mark the project's current stage reached (on a day, today by default)."""

    stage: Short
    reached_on: date | None = None


class ActionIn(msgspec.Struct):
    """A next step with its owner and due working day."""

    text: Name
    owner: Literal["company", "helper", "department"]
    due_on: date
    department: Id | None = None


class MaterialIn(msgspec.Struct):
    name_zh: Name
    name_en: Short = ""
    key: bool = False


class ItemIn(msgspec.Struct):
    """An approval of the catalogue (事项) with its materials and figures."""

    code: Code
    name_zh: Name
    statutory_days: Days
    committed_days: Days
    materials: list[MaterialIn]
    name_en: Short = ""
    department: Id | None = None
    materials_before: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0


class BundleIn(msgspec.Struct):
    """A one-thing bundle (一件事): at least one approval of the catalogue."""

    code: Code
    name_zh: Name
    items: list[Id]
    name_en: Short = ""


class FilingIn(msgspec.Struct):
    """Apply for one approval: the item, the company (credit code; a company user's own when
    empty) and the project it serves."""

    item: Id
    company: Short = ""
    project: Id | None = None


class BundleApplyIn(msgspec.Struct):
    """Apply once for a bundle (准入即准营)."""

    company: Short = ""
    project: Id | None = None


class AcceptIn(msgspec.Struct):
    """Accept an application; with non-key materials missing (容缺), the company's written
    commitment and its due date."""

    missing: list[Id] = []
    commitment: Text = ""
    commitment_due: date | None = None
    materials_asked: Annotated[int, msgspec.Meta(ge=0, le=1000)] | None = None


class ReceiveIn(msgspec.Struct):
    material: Id


class RefuseIn(msgspec.Struct):
    reason: NeedText


class CaseIn(msgspec.Struct):
    """Turn a stuck approval into a core case (诉求); the category is the tenant's setting or the
    department's when empty."""

    description: Text = ""
    category: Short = ""
