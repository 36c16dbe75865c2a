"""Training salons (培训沙龙): events with topic, date, speakers and audience; sign-up and
attendance of assistants, liaisons, runners and village secretaries; totals per year."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from core.sdk import UserError, parse, scoped
from plugins.liaison.tables import SEAT_LABELS, Salon, SalonSeat

Short = Annotated[str, msgspec.Meta(max_length=300)]


class SalonForm(msgspec.Struct):
    topic: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    held_on: date
    speakers: Short = ""
    audience: Short = ""
    place: Annotated[str, msgspec.Meta(max_length=200)] = ""


def _require_organiser(user) -> None:
    if not user.can("liaison.coordinate"):
        raise UserError(403, "Only a township coordinator can organise salons.")


async def create_salon(user, data: dict) -> Salon:
    _require_organiser(user)
    form = parse(SalonForm, data)
    return await scoped(Salon).add(topic=form.topic, held_on=form.held_on, speakers=form.speakers,
                                   audience=form.audience, place=form.place, created_by=user.id)


async def get_salon(salon_id: int) -> Salon:
    salon = await scoped(Salon).objects().where(Salon.id == salon_id).first()
    if salon is None:
        raise UserError(404, "Not found.")
    return salon


async def sign_up(user, salon_id: int, name: str = "", kind: str = "") -> SalonSeat:
    """Sign someone up: oneself (no name given) or, for a coordinator, anyone by name."""
    await get_salon(salon_id)
    name = (name or "").strip()[:100]
    user_id = None
    if not name or name == user.display_name:
        name, user_id = user.display_name or user.username, user.id
        kind = kind or ("assistant" if user.can("liaison.assist") else "runner" if user.can("liaison.run")
                        else "liaison" if user.has_role("company") else "other")
    elif not user.can("liaison.coordinate"):
        raise UserError(403, "Only a township coordinator can sign others up.")
    if kind not in SEAT_LABELS:
        kind = "other"
    seat = await scoped(SalonSeat).objects().where((SalonSeat.salon == salon_id) & (SalonSeat.name == name)).first()
    if seat is None:
        seat = await scoped(SalonSeat).add(salon=salon_id, name=name, user=user_id, kind=kind, attended=False)
    return seat


async def mark_attendance(user, salon_id: int, seat_ids: list[int]) -> int:
    """The coordinator checks in who came (exactly the seats given); returns the attendance."""
    _require_organiser(user)
    await get_salon(salon_id)
    seats = await scoped(SalonSeat).objects().where(SalonSeat.salon == salon_id)
    wanted = set(seat_ids)
    for seat in seats:
        if seat.attended != (seat.id in wanted):
            seat.attended = seat.id in wanted
            await seat.save([SalonSeat.attended])
    return sum(1 for s in seats if s.attended)


async def seats(salon_id: int) -> list[dict]:
    return await scoped(SalonSeat).select().where(SalonSeat.salon == salon_id).order_by(SalonSeat.id)


async def salons() -> list[dict]:
    rows = await scoped(Salon).select().order_by(Salon.held_on, ascending=False)
    counts: dict[int, list[int]] = {}
    for seat in await scoped(SalonSeat).select(SalonSeat.salon, SalonSeat.attended):
        entry = counts.setdefault(seat["salon"], [0, 0])
        entry[0] += 1
        entry[1] += 1 if seat["attended"] else 0
    for row in rows:
        row["signed_up"], row["attended"] = counts.get(row["id"], [0, 0])
    return rows


async def totals_per_year() -> list[dict]:
    """Per year: salons held, sign-ups and attendances (newest year first)."""
    years: dict[int, dict] = {}
    for row in await salons():
        entry = years.setdefault(row["held_on"].year, {"year": row["held_on"].year, "salons": 0, "signed_up": 0,
                                                       "attended": 0})
        entry["salons"] += 1
        entry["signed_up"] += row["signed_up"]
        entry["attended"] += row["attended"]
    return [years[y] for y in sorted(years, reverse=True)]
