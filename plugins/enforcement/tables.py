"""Tables of inclusive, prudent enforcement (包容审慎柔性执法).

`Inspection` is a department's inspection of a company (涉企检查), registered before it happens;
inspections of one company close together may be merged into a `JointInspection` (综合查一次).
`ListItem` is an entry of the tenant's lists (清单): 首违不罚, 从轻减轻, 不予强制, each with its
legal basis.  `Finding` is one violation found by an inspection and its outcome (处理结果); a
penalty where a no-penalty item applies to a first violation waits for the department head's
sign-off, and a company may contest an outcome, which opens a core case (`contest_case`).
Composite unique keys and lookup indexes are made by the second migration.
"""

from piccolo.columns import Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.sdk import Case, Company, Department, User, tenant_fk


class ListItem(Table, tablename="enforcement_list_item"):
    """An entry of a list (清单): its kind, code (unique with tenant_id), the violation or measure, the
    conditions and the legal basis (法律依据)."""

    tenant_id = tenant_fk()
    kind = Varchar(length=20)  # no_penalty (首违不罚) | mitigated (从轻减轻) | no_coercion (不予强制)
    code = Varchar(length=40)
    title = Varchar(length=300)
    conditions = Text(default="")
    legal_basis = Text()
    department = ForeignKey(references=Department, null=True, on_delete=OnDelete.set_null)
    active = Boolean(default=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class JointInspection(Table, tablename="enforcement_joint"):
    """A joint inspection (综合查一次): one visit to a company for the departments that joined."""

    tenant_id = tenant_fk()
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    planned_on = Date()
    lead_department = ForeignKey(references=Department, null=True, on_delete=OnDelete.set_null)
    proposed_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class Inspection(Table, tablename="enforcement_inspection"):
    """An inspection of a company (涉企检查), registered before it happens."""

    tenant_id = tenant_fk()
    department = ForeignKey(references=Department, null=False, on_delete=OnDelete.cascade)
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    subject = Varchar(length=200, default="")  # what is checked (检查事项)
    legal_basis = Text()
    planned_on = Date()
    inspectors = Varchar(length=300)  # names and certificate numbers (执法人员)
    joint = ForeignKey(references=JointInspection, null=True, on_delete=OnDelete.set_null)
    status = Varchar(length=20, default="planned")  # planned | inspected | cancelled
    registered_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=0)
    reminded_on = Date(null=True, default=None)  # the company was reminded the day before


class Finding(Table, tablename="enforcement_finding"):
    """A violation found by an inspection and its outcome (处理结果)."""

    tenant_id = tenant_fk()
    inspection = ForeignKey(references=Inspection, null=False, on_delete=OnDelete.cascade)
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    description = Text()
    list_item = ForeignKey(references=ListItem, null=True, on_delete=OnDelete.set_null)
    first_violation = Boolean(default=True)  # no earlier finding of the company under the same item
    outcome = Varchar(length=20)  # corrected | not_penalised | mitigated | penalised
    penalty_fen = Integer(default=0)
    reason = Text(default="")
    status = Varchar(length=20, default="final")  # final | awaiting_signoff | returned
    recorded_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    signed_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    signed_at = Timestamptz(null=True, default=None)
    signoff_comment = Text(default="")
    contest_case = ForeignKey(references=Case, null=True, on_delete=OnDelete.set_null)
    contest_reason = Text(default="")
    contested_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=0)
