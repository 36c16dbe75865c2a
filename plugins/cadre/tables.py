"""Tables of cadre evaluation and fault tolerance (干部考察 · 容错免责).

`Cadre` is a staff user of the tenant with post, rank and department (their file, 档案, is read
from the rows that point at them).  `Campaign` is a special evaluation (专项考察) with its
`Evaluator`s; `Sheet` is one cadre in scope of a campaign: the evidence generated from the case
record (JSON text), the rating and the outcome; `Score` is one evaluator's score on one criterion.
`Application` is a fault-tolerance application (容错免责申请) through verification, decision and
publicity.  A `Publicity` (公示) is a decided exemption or outcome shown on the tenant's public page
for a period of working days; anyone may lodge an `Objection` against it, which the organization
department answers.  Composite unique keys are unique indexes made by the migrations.
"""

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.sdk import Case, Department, Inspection, User, tenant_fk


class Cadre(Table, tablename="cadre"):
    """A cadre (干部): a staff user of the tenant (unique with tenant_id)."""

    tenant_id = tenant_fk()
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    department = ForeignKey(references=Department, null=True, on_delete=OnDelete.set_null)
    post = Varchar(length=100, default="")  # 职务
    rank = Varchar(length=50, default="")  # 职级
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # A township's cadre in its district's list: the township's slug (its record is read in its scope).
    township = Varchar(length=50, default="")


class Campaign(Table, tablename="cadre_campaign"):
    """A special evaluation (专项考察): a theme and a period."""

    tenant_id = tenant_fk()
    title = Varchar(length=200)
    theme = Varchar(length=200, default="")
    period_start = Date()
    period_end = Date()
    criteria = Text(default="[]")  # JSON list of criterion keys, fixed when the campaign is created
    status = Varchar(length=20, default="open")  # open | closed
    created_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=0)


class Evaluator(Table, tablename="cadre_evaluator"):
    """A user who scores the cadres of one campaign (unique with tenant, campaign and user)."""

    tenant_id = tenant_fk()
    campaign = ForeignKey(references=Campaign, null=False, on_delete=OnDelete.cascade)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)


class Sheet(Table, tablename="cadre_sheet"):
    """One cadre in scope of a campaign: evidence, rating, outcome (unique with tenant, campaign, cadre)."""

    tenant_id = tenant_fk()
    campaign = ForeignKey(references=Campaign, null=False, on_delete=OnDelete.cascade)
    cadre = ForeignKey(references=Cadre, null=False, on_delete=OnDelete.cascade)
    evidence = Text(default="{}")  # JSON: the counts from the case record
    generated_at = Timestamptz(null=True, default=None)
    rating = Varchar(length=20, default="")  # "" | excellent | good | average | poor
    rated_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    outcome = Varchar(length=20, default="")  # "" | promoted | rank | suitable | standby | transfer | none
    outcome_reason = Text(default="")
    decided_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)


class Score(Table, tablename="cadre_score"):
    """An evaluator's score (0–100) and comment on one criterion for one sheet."""

    tenant_id = tenant_fk()
    sheet = ForeignKey(references=Sheet, null=False, on_delete=OnDelete.cascade)
    evaluator = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    criterion = Varchar(length=50)
    score = Integer(default=0)
    comment = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Application(Table, tablename="cadre_tolerance"):
    """A fault-tolerance application (容错免责申请) for one mistake, linking a case or an inspection."""

    tenant_id = tenant_fk()
    cadre = ForeignKey(references=Cadre, null=False, on_delete=OnDelete.cascade)
    filed_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    by_department = Boolean(default=False)  # filed for the cadre by their department
    case = ForeignKey(references=Case, null=True, on_delete=OnDelete.set_null)
    inspection = ForeignKey(references=Inspection, null=True, on_delete=OnDelete.set_null)
    mistake = Text()
    circumstances = Text(default="")
    checks = Text(default="{}")  # JSON: {criterion or distinction: {"met": bool, "note": str}}
    status = Varchar(length=20, default="applied")  # applied | verified | publicity | final
    decision = Varchar(length=20, default="")  # "" | exempted | reduced | refused
    decision_reason = Text(default="")
    verified_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    verified_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)
    publicity_until = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=0)


class Publicity(Table, tablename="cadre_publicity"):
    """A publicity (公示) of a decided exemption or cadre outcome on the public page.

    Only the snapshot taken here is ever shown publicly (name, post, unit, what was decided and the
    period); `status` is open → effective (period over, no objection upheld) or stopped (one upheld)."""

    tenant_id = tenant_fk()
    kind = Varchar(length=20)  # exemption | outcome
    application = ForeignKey(references=Application, null=True, on_delete=OnDelete.cascade)
    sheet = ForeignKey(references=Sheet, null=True, on_delete=OnDelete.cascade)
    person = Varchar(length=100, default="")
    post = Varchar(length=100, default="")
    unit = Varchar(length=200, default="")
    unit_en = Varchar(length=200, default="")
    subject = Varchar(length=40, default="")  # the decision or outcome key, shown by its label
    summary = Text(default="")  # what the organization department chose to publish (may be empty)
    starts_on = Date(null=True, default=None)
    ends_on = Date(null=True, default=None)  # the last working day of the period
    status = Varchar(length=20, default="open")  # open | effective | stopped
    closed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=0)


class Objection(Table, tablename="cadre_objection"):
    """An objection (异议) lodged by anyone against a publicity, with a contact, and its answer."""

    tenant_id = tenant_fk()
    publicity = ForeignKey(references=Publicity, null=False, on_delete=OnDelete.cascade)
    name = Varchar(length=100, default="")
    contact = Varchar(length=100)
    text = Text()
    client = Varchar(length=64, default="")  # a hash of the sender's address, for throttling
    status = Varchar(length=20, default="pending")  # pending | upheld | not_upheld
    answer = Text(default="")
    answered_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    answered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
