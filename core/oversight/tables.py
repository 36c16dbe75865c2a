"""Oversight tables: the 亲清 index history and survey inputs, policies made from common problems
(新政) and the clustering runs behind them, and each case's contribution to the figures."""

from piccolo.columns import Float, ForeignKey, Integer, Serial, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.cases.tables import Case
from core.tables import Department, User, tenant_fk


class IndexSnapshot(Table, tablename="index_snapshot"):
    """The 亲清 index of a tenant (department null) or a department for one month."""

    id: Serial  # added by Piccolo; declared for the type checker
    tenant_id = tenant_fk()
    month = Varchar(length=7)  # YYYY-MM
    department = ForeignKey(references=Department, null=True, on_delete=OnDelete.cascade)
    score = Float()
    closeness = Float()  # 亲
    cleanness = Float()  # 清
    components = Text(default="[]")  # JSON: every indicator's value, weight and contribution
    computed_at = Timestamptz(default=TimestamptzNow())


class SurveyInput(Table, tablename="survey_input"):
    """An optional survey score (e.g. the yearly company questionnaire), 0–100, for a period."""

    id: Serial
    tenant_id = tenant_fk()
    period = Varchar(length=7)  # YYYY or YYYY-MM
    indicator = Varchar(length=50)
    value = Float()
    note = Varchar(length=300, default="")
    entered_by = ForeignKey(references=User, null=True)
    entered_at = Timestamptz(default=TimestamptzNow())


class ClusterRun(Table, tablename="cluster_run"):
    """A background grouping of case texts into common problems (高频共性问题)."""

    id: Serial
    tenant_id = tenant_fk()
    status = Varchar(length=20)  # queued | running | done | failed
    progress = Float(default=0.0)
    cases = Integer(default=0)
    groups = Text(default="[]")  # JSON: [{label, size, keywords, case_ids, departments}]
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class Policy(Table, tablename="policy"):
    """A new policy (新政) written from a group of common problems, and the cases it answers."""

    id: Serial
    tenant_id = tenant_fk()
    title = Varchar(length=200)
    department = ForeignKey(references=Department, null=True)
    status = Varchar(length=20)  # drafting | adopted | withdrawn
    summary = Text(default="")
    created_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    adopted_at = Timestamptz(null=True, default=None)


class PolicyCase(Table, tablename="policy_case"):
    id: Serial
    tenant_id = tenant_fk()
    policy = ForeignKey(references=Policy, null=False, on_delete=OnDelete.cascade)
    case = ForeignKey(references=Case, null=False, on_delete=OnDelete.cascade)


class CaseTally(Table, tablename="case_tally"):
    """One case's contribution to the big-screen figures (统计口径), kept current whenever the case
    changes, so figures are a sum over these rows instead of a pass over every case in Python."""

    id: Serial
    tenant_id = tenant_fk()
    case = ForeignKey(references=Case, null=False, on_delete=OnDelete.cascade)
    month = Varchar(length=7)  # YYYY-MM of submission, local time
    department = ForeignKey(references=Department, null=True, on_delete=OnDelete.set_null)
    handler = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    township = Varchar(length=100, default="")
    reported = SmallInt(default=0)
    completed = SmallInt(default=0)
    in_progress = SmallInt(default=0)
    overdue = SmallInt(default=0)
    escalated = SmallInt(default=0)
    refused = SmallInt(default=0)
    reviewed = SmallInt(default=0)
    overturned = SmallInt(default=0)
    dispatched = SmallInt(default=0)
    responded = SmallInt(default=0)
    outcomes = SmallInt(default=0)
    solved = SmallInt(default=0)
    rated = SmallInt(default=0)
    satisfied = SmallInt(default=0)
    days_total = Integer(default=0)
    days_count = SmallInt(default=0)
