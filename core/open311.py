"""Open311 GeoReport v2 (市民服务请求标准接口): the dispatch catalogue (办理目录) as services, cases
as service requests.

Only public fields leave: the category, the case's title as its description, the status with
its label, the department responsible, the dates, and the location and media the submitter gave.
Company names and contacts, the submitter's name, e-mail and phone, refusal reasons and
sign-offs, staff names and internal comments are never read here for output.  A refusal still
being signed off shows as "in progress": its existence is internal until it is final.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from typing import Mapping
from urllib.parse import urlsplit

from core.cases import lifecycle, states as S
from core.cases.tables import Case, Open311Request
from core.clock import TZ, as_utc, now
from core.errors import UserError
from core.i18n import N_, current_locale, gettext
from core.prepared import Prepared, Read
from core.scope import scoped
from core.tables import Category
from core.uscc import InvalidCreditCode, validate_uscc

MAX_REQUESTS = 1000  # the specification's response volume
SPAN = timedelta(days=90)  # the default and longest date range
CLOSED = (S.RESOLVED, S.CLOSED, S.WITHDRAWN, S.MERGED)
PUBLIC_STATUS = {S.REFUSAL_PENDING: S.IN_PROGRESS}
FIELD_ERROR = "The field %(field)s is missing or not valid."
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # no control characters, bar tab and line breaks
CODE = re.compile(r"[^\x00-\x1f\x7f]{1,50}")
TOKEN = re.compile(r"[0-9A-Za-z-]{1,30}")


def _localized(zh: str | None, en: str | None) -> str | None:
    return en if current_locale.get() == "en" and en else zh


def _notice(days: int) -> str:
    return gettext(N_("The lead department answers within %(days)s working days of dispatch."), days=days)


# -- services --------------------------------------------------------------------------------------

SERVICE_COLUMNS = (Category.code, Category.name_zh, Category.name_en, Category.deadline_days,
                   Category.lead_department.name_zh.as_alias("group_zh"),
                   Category.lead_department.name_en.as_alias("group_en"))


async def _category(code: str) -> dict:
    row = None
    if CODE.fullmatch(code or ""):
        row = await scoped(Category).select(*SERVICE_COLUMNS).where(
            (Category.code == code) & (Category.active == True)).first()  # noqa: E712
    if row is None:
        raise UserError(404, "service_code %(service_code)s was not found.", code="service_code_not_found",
                        service_code=CONTROL.sub("", code[:50]))
    return row


async def services() -> list[dict]:
    """GET services: the tenant's active categories."""
    rows = await scoped(Category).select(*SERVICE_COLUMNS).where(Category.active == True).order_by(  # noqa: E712
        Category.code)
    return [{
        "service_code": r["code"],
        "service_name": _localized(r["name_zh"], r["name_en"]),
        "description": _notice(r["deadline_days"]),
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(k for k in (r["code"], r["name_zh"], r["name_en"]) if k),
        "group": _localized(r["group_zh"], r["group_en"]),
    } for r in rows]


async def service_definition(code: str) -> dict:
    """GET services/{code}: what a request of this service may carry (its attributes)."""
    category = await _category(code)

    def attribute(variable, code, required, type_help, order, description):
        return {"variable": variable, "code": code, "datatype": "string", "required": required,
                "datatype_description": gettext(type_help) if type_help else None, "order": order,
                "description": description, "values": []}

    return {"service_code": category["code"], "attributes": [
        attribute(True, "credit_code", False, N_("18 characters, digits and capital letters (GB 32100-2015)"), 1,
                  gettext(N_("The company's unified social credit code (统一社会信用代码). Leave it empty if it is "
                             "not known: the dispatcher then attaches the company before dispatch."))),
        attribute(True, "title", False, N_("At most 200 characters"), 2,
                  gettext(N_("A short subject for the request; the first line of the description when empty."))),
        attribute(False, "deadline", False, None, 3, _notice(category["deadline_days"])),
    ]}


# -- submitting ------------------------------------------------------------------------------------

def _text(form: Mapping[str, str], key: str, limit: int) -> str:
    value = CONTROL.sub("", form.get(key) or "").strip()
    if len(value) > limit:
        raise UserError(400, FIELD_ERROR, code="invalid", field=key)
    return value


def _number(form: Mapping[str, str], key: str, bound: float) -> float | None:
    value = _text(form, key, 40)
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not -bound <= number <= bound:  # also false for NaN
        raise UserError(400, FIELD_ERROR, code="invalid", field=key)
    return number


def _media_url(form: Mapping[str, str]) -> str:
    url = _text(form, "media_url", 500)
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        raise UserError(400, FIELD_ERROR, code="invalid", field="media_url")
    return url


async def submit(user, form: Mapping[str, str]) -> dict:
    """POST requests: a case through `lifecycle.submit` (its record, notifications and outbox
    follow), plus the location, media and submitter's contact of the request."""
    code = _text(form, "service_code", 50)
    if not code:
        raise UserError(400, "service_code was not provided.", code="service_code_missing")
    category = await _category(code)
    lat, long = _number(form, "lat", 90), _number(form, "long", 180)
    if (lat is None) != (long is None):
        raise UserError(400, "Give lat and long together.", code="location_incomplete")
    address, address_id = _text(form, "address_string", 300), _text(form, "address_id", 100)
    if lat is None and not address and not address_id:
        raise UserError(400, "Give a location: lat and long, address_string or address_id.", code="location_missing")
    media_url = _media_url(form)
    contact = {key: _text(form, key, limit) for key, limit in
               (("first_name", 100), ("last_name", 100), ("email", 254), ("phone", 30))}
    credit_code = _text(form, "attribute[credit_code]", 40)
    if credit_code:
        try:
            credit_code = validate_uscc(credit_code)
        except InvalidCreditCode as exc:
            raise UserError(400, exc.message, code="credit_code_" + exc.reason, **exc.params) from None
    service_name = _localized(category["name_zh"], category["name_en"]) or ""
    description = _text(form, "description", 4000) or address or service_name
    title = _text(form, "attribute[title]", 200) or description.splitlines()[0].strip()[:60] or service_name
    anonymous = not credit_code and not user.has_role("company")
    case = await lifecycle.submit(user, {"category": code, "title": title, "description": description,
                                         "company": credit_code}, anonymous=anonymous)
    await scoped(Open311Request).add(case=case.id, lat=lat, long=long, address=address, address_id=address_id,
                                     media_url=media_url, **contact)
    days = category["deadline_days"]
    if case.company is None:
        notice = gettext(N_("Case %(number)s was received. The dispatcher attaches the company, then dispatches it; "
                            "the lead department answers within %(days)s working days of dispatch."),
                         number=case.number, days=days)
    else:
        notice = gettext(N_("Case %(number)s was received. The lead department answers within %(days)s working days "
                            "of dispatch."), number=case.number, days=days)
    return {"service_request_id": case.id, "service_notice": notice, "account_id": None}


# -- reading ---------------------------------------------------------------------------------------

REQUEST_COLUMNS = (
    Case.id, Case.number, Case.title, Case.status, Case.submitted_at, Case.updated_at, Case.resolved_at,
    Case.closed_at, Case.due_date, Case.category.code.as_alias("service_code"),
    Case.category.name_zh.as_alias("service_zh"), Case.category.name_en.as_alias("service_en"),
    Case.category.deadline_days.as_alias("deadline_days"), Case.department.name_zh.as_alias("agency_zh"),
    Case.department.name_en.as_alias("agency_en"),
)
# The public part of an intake; the submitter's contact is not selected.
PLACE_COLUMNS = (Open311Request.case, Open311Request.lat, Open311Request.long, Open311Request.address,
                 Open311Request.address_id, Open311Request.media_url)


def w3c(value) -> str | None:
    """A stored time as a W3C date-time in Beijing time, e.g. 2026-03-02T09:30:00+08:00."""
    value = as_utc(value)
    return value.astimezone(TZ).replace(microsecond=0).isoformat() if value else None


def _record(row: dict, place: dict | None) -> dict:
    closed = row["status"] in CLOSED
    updated = (row["closed_at"] or row["resolved_at"] or row["updated_at"]) if closed else row["updated_at"]
    due = datetime.combine(row["due_date"], time(23, 59, 59), TZ) if row["due_date"] else None
    place = place or {}
    return {
        "service_request_id": row["id"],
        "status": "closed" if closed else "open",
        "status_notes": gettext(S.STATUS_LABELS[PUBLIC_STATUS.get(row["status"], row["status"])]),
        "service_name": _localized(row["service_zh"], row["service_en"]),
        "service_code": row["service_code"],
        "description": row["title"],
        "agency_responsible": _localized(row["agency_zh"], row["agency_en"]),
        "service_notice": _notice(row["deadline_days"]),
        "requested_datetime": w3c(row["submitted_at"]),
        "updated_datetime": w3c(updated),
        "expected_datetime": due.isoformat() if due else None,
        "address": place.get("address") or None,
        "address_id": place.get("address_id") or None,
        "zipcode": None,
        "lat": place.get("lat"),
        "long": place.get("long"),
        "media_url": place.get("media_url") or None,
    }


async def _records(query) -> list[dict]:
    rows = await query.order_by(Case.submitted_at, Case.id, ascending=False).limit(MAX_REQUESTS)
    ids = [r["id"] for r in rows]
    places = {p["case"]: p for p in await scoped(Open311Request).select(*PLACE_COLUMNS).where(
        Open311Request.case.is_in(ids))} if ids else {}
    return [_record(r, places.get(r["id"])) for r in rows]


def _items(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _request_id(value: str) -> int | None:
    return int(value) if re.fullmatch(r"\d{1,9}", value or "") else None


def _when(name: str, value: str) -> datetime:
    value = re.sub(r" (\d\d:?\d\d)$", r"+\1", value.strip())  # a "+" sent unencoded arrives as a space
    try:
        when = datetime.fromisoformat(value)
        return (when if when.tzinfo else when.replace(tzinfo=TZ)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise UserError(400, "%(field)s must be a W3C date and time, e.g. 2026-01-01T00:00:00Z.", code="invalid",
                        field=name) from None


def _range(params: Mapping[str, str]) -> tuple[datetime, datetime]:
    start = _when("start_date", params["start_date"]) if (params.get("start_date") or "").strip() else None
    end = _when("end_date", params["end_date"]) if (params.get("end_date") or "").strip() else None
    try:
        if start is None:
            end = end or now()
            start = end - SPAN
        elif end is None:
            end = start + SPAN
    except OverflowError:
        raise UserError(400, "The date range is not valid.", code="invalid_range") from None
    if end < start or end - start > SPAN:
        raise UserError(400, "The date range is not valid: start_date before end_date, at most 90 days apart.",
                        code="invalid_range")
    return start, end


async def find_requests(params: Mapping[str, str]) -> list[dict]:
    """GET requests with its filters; `service_request_id` overrides all the others."""
    query = scoped(Case).select(*REQUEST_COLUMNS)
    wanted = _items(params.get("service_request_id"))
    if wanted:
        ids = [_request_id(v) for v in wanted]
        if None in ids or len(ids) > MAX_REQUESTS:
            raise UserError(400, FIELD_ERROR, code="invalid", field="service_request_id")
        return await _records(query.where(Case.id.is_in(ids)))
    start, end = _range(params)
    query = query.where((Case.submitted_at >= start) & (Case.submitted_at <= end))
    codes = _items(params.get("service_code"))
    if codes:
        if not all(CODE.fullmatch(c) for c in codes):
            raise UserError(400, FIELD_ERROR, code="invalid", field="service_code")
        query = query.where(Case.category.code.is_in(codes))
    statuses = set(_items(params.get("status")))
    if not statuses <= {"open", "closed"}:
        raise UserError(400, FIELD_ERROR, code="invalid", field="status")
    if statuses == {"open"}:
        query = query.where(Case.status.not_in(list(CLOSED)))
    elif statuses == {"closed"}:
        query = query.where(Case.status.is_in(list(CLOSED)))
    return await _records(query)


async def find_request(ref: str) -> dict:
    """GET requests/{id}."""
    case_id = _request_id(ref)
    records = await _records(scoped(Case).select(*REQUEST_COLUMNS).where(Case.id == case_id)) if case_id else []
    if not records:
        raise UserError(404, "service_request_id %(id)s was not found.", code="request_not_found",
                        id=CONTROL.sub("", ref[:20]))
    return records[0]


async def from_token(token: str) -> dict:
    """GET tokens/{token}: the token is the case number named in the service notice."""
    row = None
    if TOKEN.fullmatch(token or ""):
        row = await scoped(Case).select(Case.id).where(Case.number == token).first()
    if row is None:
        raise UserError(404, "Token %(token)s was not found.", code="token_not_found",
                        token=CONTROL.sub("", token[:30]))
    return {"service_request_id": row["id"], "token": token}


_INTAKE = Prepared(lambda case_id: scoped(Open311Request).select().where(Open311Request.case == case_id),
                   first=True)


def intake(case_id: int) -> Read:
    """Everything an Open311 request brought in, the submitter's contact included (or None): for
    staff only."""
    return _INTAKE.bind(case_id)
