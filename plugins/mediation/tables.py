"""Tables of court financial-dispute mediation (和合金融).

Money is integer fen (分) in BigInteger columns, never float.  Every table carries ``tenant_id``
(row-level security on PostgreSQL); composite unique keys and lookup indexes, tenant first, are
made by the second migration.  ``DisputeEvent`` is the plugin's own record of every step; the
same steps also go on the tamper-evident chain (and on a linked core case's timeline).
"""

from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.sdk import N_, Case, Company, User, tenant_fk


class Dispute(Table, tablename="mediation_dispute"):
    """A loan dispute between a creditor and a debtor company, mediated by the court."""

    tenant_id = tenant_fk()
    number = Varchar(length=30)  # unique with tenant_id
    title = Varchar(length=200)
    debtor = ForeignKey(references=Company, null=False)
    case = ForeignKey(references=Case, null=True, on_delete=OnDelete.set_null)  # referred from a core case
    principal_fen = BigInt(default=0)
    interest_fen = BigInt(default=0)
    costs_fen = BigInt(default=0)
    settled_fen = BigInt(default=0)
    court = Varchar(length=100, default="")
    judge = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    mediator = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    status = Varchar(length=20, default="mediating")
    opened_on = Date(null=True, default=None)
    closed_on = Date(null=True, default=None)
    defaulted_on = Date(null=True, default=None)
    enforcement_outcome = Text(default="")
    enforcement_recovered_fen = BigInt(default=0)
    version = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    # A referral from a linked district (转办): its key, the district's slug and name, and the summary
    # its form sent — nothing else of the district is here.
    referral_key = Varchar(length=36, default="")  # unique with tenant_id when not empty
    referred_from = Varchar(length=63, default="")
    referred_from_name = Varchar(length=200, default="")
    summary = Text(default="")
    former_number = Varchar(length=30, default="")  # its number in the district, before it moved here


class Party(Table, tablename="mediation_party"):
    """A party: the creditor (a bank user may be linked), the debtor company, a guarantor."""

    tenant_id = tenant_fk()
    dispute = ForeignKey(references=Dispute, null=False, on_delete=OnDelete.cascade)
    role = Varchar(length=20)  # creditor | debtor | guarantor
    name = Varchar(length=200)
    company = ForeignKey(references=Company, null=True, on_delete=OnDelete.set_null)
    user = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)


class Measure(Table, tablename="mediation_measure"):
    """A preservation measure (保全) on one asset; by default 活封: transfer restricted, use allowed."""

    tenant_id = tenant_fk()
    dispute = ForeignKey(references=Dispute, null=False, on_delete=OnDelete.cascade)
    asset_kind = Varchar(length=20)  # property | equipment | account | shares
    asset = Varchar(length=200)
    restrict_transfer = Boolean(default=True)
    restrict_mortgage = Boolean(default=False)
    restrict_use = Boolean(default=False)
    imposed_on = Date(null=True, default=None)
    lifted_on = Date(null=True, default=None)
    ordered_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)


class Session(Table, tablename="mediation_session"):
    """A mediation session: when, where (or the video link), who, the minutes and the outcome."""

    tenant_id = tenant_fk()
    dispute = ForeignKey(references=Dispute, null=False, on_delete=OnDelete.cascade)
    held_at = Timestamptz(null=True, default=None)
    place = Varchar(length=200, default="")
    video_link = Varchar(length=300, default="")
    participants = Text(default="")
    minutes = Text(default="")
    outcome = Varchar(length=20, default="continued")  # continued | agreed | failed


class Agreement(Table, tablename="mediation_agreement"):
    """The settlement agreement (调解协议) and its judicial confirmation (司法确认)."""

    tenant_id = tenant_fk()
    dispute = ForeignKey(references=Dispute, null=False, on_delete=OnDelete.cascade)  # unique with tenant_id
    terms = Text(default="")
    settled_fen = BigInt(default=0)
    signed_on = Date(null=True, default=None)
    confirmed_on = Date(null=True, default=None)
    confirmation_ref = Varchar(length=100, default="")
    confirmed_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)


class Instalment(Table, tablename="mediation_instalment"):
    """One instalment of the plan; unique per dispute and sequence number."""

    tenant_id = tenant_fk()
    dispute = ForeignKey(references=Dispute, null=False, on_delete=OnDelete.cascade)
    seq = Integer()
    due_on = Date()
    amount_fen = BigInt(default=0)
    paid_fen = BigInt(default=0)
    status = Varchar(length=20, default="pending")  # pending | due | overdue | paid
    paid_on = Date(null=True, default=None)
    late = Boolean(default=False)
    notified = Boolean(default=False)


class Payment(Table, tablename="mediation_payment"):
    """A payment recorded against an instalment."""

    tenant_id = tenant_fk()
    dispute = ForeignKey(references=Dispute, null=False, on_delete=OnDelete.cascade)
    instalment = ForeignKey(references=Instalment, null=True, on_delete=OnDelete.set_null)
    amount_fen = BigInt(default=0)
    paid_on = Date(null=True, default=None)
    recorded_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    note = Varchar(length=300, default="")
    against = Varchar(length=20, default="instalment")  # instalment | enforcement (paid once it was applied for)


class DisputeCounter(Table, tablename="mediation_counter"):
    """The last dispute number given per court and year (HH2026-00001 …); unique with tenant_id."""

    tenant_id = tenant_fk()
    year = Integer()
    last = Integer(default=0)


class Referral(Table, tablename="mediation_referral"):
    """A district's referral of a case's financial dispute to a linked court (转办法院调解): what the
    form sent and the milestones the court has reported back — the district's side of it."""

    tenant_id = tenant_fk()
    key = Varchar(length=36)  # the referral's key on both sides; unique with tenant_id
    case = ForeignKey(references=Case, null=True, on_delete=OnDelete.set_null)
    court = Varchar(length=63)  # the court tenant's slug
    court_name = Varchar(length=200, default="")
    creditor = Varchar(length=200, default="")
    debtor_name = Varchar(length=200, default="")
    debtor_code = Varchar(length=18, default="")
    principal_fen = BigInt(default=0)
    summary = Text(default="")
    status = Varchar(length=20, default="sent")  # the last milestone (MILESTONE_LABELS)
    dispute_number = Varchar(length=30, default="")  # the court's number, once accepted
    referred_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class LinkMessage(Table, tablename="mediation_link_message"):
    """A message that crossed a tenant link, on each side: sent (out) or received and applied (in).
    Its key is unique per tenant and direction, so a message delivered twice is applied once."""

    tenant_id = tenant_fk()
    key = Varchar(length=80)
    direction = Varchar(length=3)  # out | in
    partner = Varchar(length=63)  # the other tenant's slug
    kind = Varchar(length=30)  # referral | milestone
    referral_key = Varchar(length=36, default="")
    body = Text(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())


class DisputeFile(Table, tablename="mediation_file"):
    """A file that came with a referral (随案材料): one the referrer chose among the case's
    attachments, carried in its own message, kept in the court's file store and found by the
    referral's key (so it may arrive before or after the referral itself)."""

    tenant_id = tenant_fk()
    referral_key = Varchar(length=36)
    message_key = Varchar(length=80)  # unique with tenant_id: a message delivered twice keeps one file
    filename = Varchar(length=255)
    kind = Varchar(length=20)
    mime = Varchar(length=100)
    size = Integer(default=0)
    sha256 = Varchar(length=64)
    storage_key = Varchar(length=100)
    created_at = Timestamptz(default=TimestamptzNow())


class DisputeEvent(Table, tablename="mediation_event"):
    """The plugin's record: one row per step of a dispute."""

    tenant_id = tenant_fk()
    dispute = ForeignKey(references=Dispute, null=False, on_delete=OnDelete.cascade)
    step = Varchar(length=30)
    actor = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    before = Varchar(length=20, default="")
    after = Varchar(length=20, default="")
    data = Text(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())


STATUS_LABELS = {"referred": N_("Referred, to be accepted"), "declined": N_("Declined"),
                 "mediating": N_("Under mediation"), "settled": N_("Settled"), "repaying": N_("In repayment"),
                 "completed": N_("Completed"), "defaulted": N_("Defaulted"),
                 "enforcing": N_("Under enforcement"), "enforced": N_("Enforced")}
CLOSED = ("completed", "enforced", "declined")
PARTY_LABELS = {"creditor": N_("Creditor"), "debtor": N_("Debtor company"), "guarantor": N_("Guarantor")}
ASSET_LABELS = {"property": N_("Property"), "equipment": N_("Equipment"), "account": N_("Account"),
                "shares": N_("Shares")}
OUTCOME_LABELS = {"continued": N_("To be continued"), "agreed": N_("Agreement reached"), "failed": N_("Failed")}
INSTALMENT_LABELS = {"pending": N_("Pending"), "due": N_("Due"), "overdue": N_("Overdue"), "paid": N_("Paid")}
STEP_LABELS = {"intake": N_("Dispute taken in"), "referral": N_("Referred from a case"),
               "measure": N_("Preservation imposed"), "lift": N_("Preservation lifted"),
               "session": N_("Mediation session"), "settle": N_("Settlement agreed"),
               "confirm": N_("Judicial confirmation"), "pay": N_("Payment recorded"),
               "due": N_("Instalment due"), "overdue": N_("Instalment overdue"), "default": N_("Default"),
               "complete": N_("Fully repaid"), "enforce": N_("Enforcement applied for"),
               "conclude": N_("Enforcement concluded"), "cure": N_("Default cured"),
               "party": N_("Party added"), "accept": N_("Referral accepted"), "decline": N_("Referral declined"),
               "moved": N_("Moved from the district's records to the court")}
SWEEP_LABELS = {"remind": N_("Reminder to the parties"), "due": N_("Instalment due"), "overdue": N_("Instalment overdue"),
                "default": N_("Default")}
# The milestones a court reports to the referring district (the district's referral status).
MILESTONE_LABELS = {"sent": N_("Sent to the court"), "accepted": N_("Accepted by the court"),
                    "declined": N_("Declined by the court"), "session_held": N_("Mediation session held"),
                    "settled": N_("Settlement agreed"), "confirmed": N_("Judicially confirmed"),
                    "overdue": N_("Instalment overdue"), "defaulted": N_("Defaulted"), "cured": N_("Default cured"),
                    "enforcement": N_("Enforcement applied for"), "completed": N_("Completed"),
                    "enforced": N_("Enforcement concluded")}
TABLES = [Dispute, Party, Measure, Session, Agreement, Instalment, Payment, DisputeEvent, DisputeCounter, Referral,
          LinkMessage, DisputeFile]
