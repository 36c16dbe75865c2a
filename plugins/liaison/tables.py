"""Tables of the township liaison network (助企服务网络).

Cadre assistants (机关助企员) are the tenant's users holding the role ``liaison_assistant``; a
`Pairing` gives each company its one assistant (unique per tenant and company, made by the second
migration) and `PairingChange` keeps the history of assignments with their reasons.  `Person` holds
the rest of the network: village runners (村社助跑员), industry leads (百晓长) and their team
members (百晓小分队).  A `Need` is what a company asked its assistant for; a `Visit` is a logged
visit or call whose `FollowUp`s remind the assistant when overdue.  `Salon` and `SalonSeat` are
the training salons and their sign-ups and attendance.  A `VillageNeed` is what a village runner
logged for a company, a `Consultation` a company's question routed by field to an expert (a lead
or team member with a login), a `Message` the assistant's note to the company liaison and its reply.
"""

from piccolo.columns import Boolean, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.sdk import N_, Case, Company, User, tenant_fk


class Pairing(Table, tablename="liaison_pairing"):
    """A company's cadre assistant (one per company; unique with tenant_id)."""

    tenant_id = tenant_fk()
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    assistant = ForeignKey(references=User, null=False)
    assigned_at = Timestamptz(default=TimestamptzNow())


class PairingChange(Table, tablename="liaison_pairing_change"):
    """One assignment or reassignment, with its reason (the history is kept)."""

    tenant_id = tenant_fk()
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    previous = ForeignKey(references=User, null=True)
    assistant = ForeignKey(references=User, null=False)
    reason = Text(default="")
    changed_by = ForeignKey(references=User, null=True)
    changed_at = Timestamptz(default=TimestamptzNow())


class Person(Table, tablename="liaison_person"):
    """A village runner, an industry lead or a member of a lead's team."""

    tenant_id = tenant_fk()
    kind = Varchar(length=20)  # runner | lead | team
    name = Varchar(length=100)
    user = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    phone = Varchar(length=30, default="")
    village = Varchar(length=100, default="")  # runners
    industry = Varchar(length=100, default="")  # leads and teams
    fields = Varchar(length=200, default="")  # comma-separated keys of FIELD_LABELS


class Need(Table, tablename="liaison_need"):
    """What a company told its assistant it needs (by form, call or visit)."""

    tenant_id = tenant_fk()
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    assistant = ForeignKey(references=User, null=True)
    raised_by = ForeignKey(references=User, null=True)
    channel = Varchar(length=20, default="form")  # form | call | visit
    title = Varchar(length=200)
    description = Text(default="")
    status = Varchar(length=20, default="open")  # open | filed | answered
    case = ForeignKey(references=Case, null=True, on_delete=OnDelete.set_null)
    answer = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)


class Visit(Table, tablename="liaison_visit"):
    """A visit or call logged by an assistant."""

    tenant_id = tenant_fk()
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    assistant = ForeignKey(references=User, null=False)
    kind = Varchar(length=10, default="visit")  # visit | call
    visited_on = Date()
    people = Varchar(length=300, default="")
    topics = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class FollowUp(Table, tablename="liaison_follow_up"):
    """Something to do after a visit, due on a date; reminded once when overdue."""

    tenant_id = tenant_fk()
    visit = ForeignKey(references=Visit, null=False, on_delete=OnDelete.cascade)
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    assistant = ForeignKey(references=User, null=False)
    text = Text()
    due_on = Date()
    done = Boolean(default=False)
    case = ForeignKey(references=Case, null=True, on_delete=OnDelete.set_null)
    reminded_on = Date(null=True, default=None)


class VillageNeed(Table, tablename="liaison_village_need"):
    """A company's need a village runner (村社助跑员) met in the village: what and where; handed to
    the company's assistant (as a `Need`) or filed as a case on its behalf, once."""

    tenant_id = tenant_fk()
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    runner = ForeignKey(references=User, null=False)
    title = Varchar(length=200)
    place = Varchar(length=200, default="")
    description = Text(default="")
    status = Varchar(length=20, default="logged")  # logged | handed | filed
    need = ForeignKey(references=Need, null=True, on_delete=OnDelete.set_null)
    case = ForeignKey(references=Case, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    handled_at = Timestamptz(null=True, default=None)


class Consultation(Table, tablename="liaison_consultation"):
    """A company's question to the industry experts (百晓长 / 百晓小分队), routed by field to one
    expert (a `Person` with a login), due in working days, answered once and kept for the company."""

    tenant_id = tenant_fk()
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    field = Varchar(length=100)
    question = Text()
    asked_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    expert = ForeignKey(references=Person, null=False)
    due_on = Date()
    status = Varchar(length=20, default="open")  # open | answered
    answer = Text(default="")
    answered_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    answered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Message(Table, tablename="liaison_message"):
    """A message from a company's assistant to its liaison (企业联络员), and the liaison's one reply."""

    tenant_id = tenant_fk()
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    sender = ForeignKey(references=User, null=False)
    body = Text()
    sent_at = Timestamptz(default=TimestamptzNow())
    reply = Text(default="")
    replied_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    replied_at = Timestamptz(null=True, default=None)


class Salon(Table, tablename="liaison_salon"):
    """A training salon (培训沙龙)."""

    tenant_id = tenant_fk()
    topic = Varchar(length=200)
    held_on = Date()
    speakers = Varchar(length=300, default="")
    audience = Varchar(length=300, default="")
    place = Varchar(length=200, default="")
    created_by = ForeignKey(references=User, null=True)


class SalonSeat(Table, tablename="liaison_salon_seat"):
    """A sign-up for a salon (unique per salon and name); `attended` once checked in."""

    tenant_id = tenant_fk()
    salon = ForeignKey(references=Salon, null=False, on_delete=OnDelete.cascade)
    name = Varchar(length=100)
    user = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    kind = Varchar(length=20, default="other")  # assistant | liaison | runner | secretary | other
    attended = Boolean(default=False)
    signed_up_at = Timestamptz(default=TimestamptzNow())


PERSON_LABELS = {"runner": N_("Village runner"), "lead": N_("Industry lead"), "team": N_("Industry team member")}
FIELD_LABELS = {"investment": N_("Investment attraction"), "setup": N_("Company set-up"),
                "incubation": N_("Incubation"), "talent": N_("Talent")}
CHANNEL_LABELS = {"form": N_("Form"), "call": N_("Call"), "visit": N_("Visit"), "village": N_("Village runner")}
NEED_LABELS = {"open": N_("Open"), "filed": N_("Filed as a case"), "answered": N_("Answered directly")}
SEAT_LABELS = {"assistant": N_("Cadre assistant"), "liaison": N_("Company liaison"), "runner": N_("Village runner"),
               "secretary": N_("Village secretary"), "other": N_("Other")}
VILLAGE_LABELS = {"logged": N_("Logged"), "handed": N_("Handed to the assistant"), "filed": N_("Filed as a case")}
CONSULTATION_LABELS = {"open": N_("Waiting for an answer"), "answered": N_("Answered")}
