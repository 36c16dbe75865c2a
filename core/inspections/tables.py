"""Tables of the seven must-investigate rules (七必查) and discipline inspections (纪检核查).

`Inspection` is one investigation opened by a rule; its `dedupe_key` is unique per tenant (a
unique index made by the second migration), which is what guarantees that an inspection is never
opened twice.  `RuleSetting` holds a tenant's switch and numbers for one rule (no row: the
defaults in :mod:`core.inspections.rules`).  `ConductReport` is a company's report of misconduct
(吃拿卡要: demanding favours, gifts, obstruction).  JSON columns are written as JSON text.
"""

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.cases.tables import Case, Company
from core.i18n import N_
from core.tables import Department, User, tenant_fk

STATUSES = ("open", "investigating", "concluded")
CONCLUSIONS = ("no_issue", "violation", "exempted")
REPORT_KINDS = ("favours", "gifts", "obstruction", "other")


class Inspection(Table, tablename="inspection"):
    """A discipline inspection (纪检核查) opened by a must-investigate rule (七必查)."""

    id: Serial  # added by Piccolo; declared for the type checker
    tenant_id = tenant_fk()
    rule = Varchar(length=50)
    dedupe_key = Varchar(length=200)  # unique with tenant_id
    case = ForeignKey(references=Case, null=True, on_delete=OnDelete.set_null)
    subject = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)  # the handler concerned
    department = ForeignKey(references=Department, null=True, on_delete=OnDelete.set_null)
    company = ForeignKey(references=Company, null=True, on_delete=OnDelete.set_null)
    status = Varchar(length=20, default="open")  # open | investigating | concluded
    conclusion = Varchar(length=20, default="")  # "" | no_issue | violation | exempted
    summary = Varchar(length=300)  # a msgid, filled with `params` where shown
    params = JSON(default={})
    evidence = JSON(default=[])  # [{"kind": case|refusal|review|report|event, "id", "label", "case"?}]
    opened_at = Timestamptz(default=TimestamptzNow())
    concluded_at = Timestamptz(null=True, default=None)
    handled_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    notes = Text(default="")
    version = Integer(default=0)


class RuleSetting(Table, tablename="inspection_rule"):
    """A tenant's setting of one rule: on or off, and its numbers (unique per tenant and rule)."""

    id: Serial
    tenant_id = tenant_fk()
    rule = Varchar(length=50)
    enabled = Boolean(default=True)
    params = JSON(default={})


class ConductReport(Table, tablename="conduct_report"):
    """A company's report of misconduct by officials (吃拿卡要), optionally about one case."""

    id: Serial
    tenant_id = tenant_fk()
    case = ForeignKey(references=Case, null=True, on_delete=OnDelete.set_null)
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    reported_by = ForeignKey(references=User, null=False)
    kind = Varchar(length=20)  # favours | gifts | obstruction | other
    description = Text()  # at most 2,000 characters
    created_at = Timestamptz(default=TimestamptzNow())


# What users see for the values above (msgids).
STATUS_LABELS = {"open": N_("Open"), "investigating": N_("Investigating"), "concluded": N_("Concluded")}
CONCLUSION_LABELS = {"no_issue": N_("No issue found"), "violation": N_("Violation found"),
                     "exempted": N_("Exempted")}
KIND_LABELS = {"favours": N_("Demanding favours"), "gifts": N_("Asking for gifts or money"),
               "obstruction": N_("Obstruction or deliberate delay"), "other": N_("Other misconduct")}
STEP_LABELS = {"investigate": N_("Start investigating"), "conclude": N_("Conclude")}
