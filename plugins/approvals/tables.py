"""Tables of the project approval service (项目帮办 · 容缺办理 · 一件事 · 被催着办).

`Project` is a company's investment project with its `Stage`s (target dates in order) and its
helper (帮办员).  `Item` is an approval of the tenant's catalogue (事项清单) with its `Material`s
(key or not), statutory and committed working days and the materials count before the reform.
`Filing` is one application for one approval (申请), accepted possibly with non-key materials
missing against a written commitment (容缺受理): each missing material is a `Shortfall`.  A
`Bundle` is a one-thing bundle (一件事) of approvals; `BundleFiling` one company's single
application for it, opening a `Filing` per approval.  `Action` is a next step with an owner and a
due working day, which the daily job reminds and escalates (被催着办).  `Event` is the module's
record.  Composite unique keys and lookup indexes are made by the second migration.
"""

from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.sdk import Case, Company, Department, User, tenant_fk


class Project(Table, tablename="approvals_project"):
    """A company's investment or expansion project (项目)."""

    tenant_id = tenant_fk()
    name = Varchar(length=200)
    site = Varchar(length=300, default="")
    amount_fen = BigInt(default=0)  # 投资额, in fen
    industry = Varchar(length=100, default="")
    company = ForeignKey(references=Company, null=True, on_delete=OnDelete.set_null)
    contact_name = Varchar(length=100, default="")
    contact_phone = Varchar(length=30, default="")
    helper = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)  # 帮办员
    stage = Varchar(length=30, default="")  # the current stage's key ("" when every stage is reached)
    created_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=0)


class Stage(Table, tablename="approvals_stage"):
    """One stage of a project (意向, 签约, 供地, 审批, 开工, 投产 …) with its target date."""

    tenant_id = tenant_fk()
    project = ForeignKey(references=Project, null=False, on_delete=OnDelete.cascade)
    key = Varchar(length=30)
    position = Integer(default=0)
    target_on = Date()
    reached_on = Date(null=True, default=None)


class Item(Table, tablename="approvals_item"):
    """An approval of the catalogue (事项清单): its department, working days and materials."""

    tenant_id = tenant_fk()
    code = Varchar(length=50)
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    department = ForeignKey(references=Department, null=True, on_delete=OnDelete.set_null)
    statutory_days = Integer(default=20)  # 法定时限, working days
    committed_days = Integer(default=5)  # 承诺时限, working days
    materials_before = Integer(default=0)  # materials asked before the reform


class Material(Table, tablename="approvals_material"):
    """A material an approval requires (申请材料); a key material (关键材料) is never waived."""

    tenant_id = tenant_fk()
    item = ForeignKey(references=Item, null=False, on_delete=OnDelete.cascade)
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    key = Boolean(default=False)
    position = Integer(default=0)


class Bundle(Table, tablename="approvals_bundle"):
    """A one-thing bundle (一件事 · 准入即准营), e.g. opening a restaurant."""

    tenant_id = tenant_fk()
    code = Varchar(length=50)
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    items = Text(default="[]")  # JSON list of item ids, at least one


class BundleFiling(Table, tablename="approvals_bundle_filing"):
    """One company's single application for a bundle; complete when every approval is granted."""

    tenant_id = tenant_fk()
    bundle = ForeignKey(references=Bundle, null=False, on_delete=OnDelete.cascade)
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    project = ForeignKey(references=Project, null=True, on_delete=OnDelete.set_null)
    status = Varchar(length=20, default="open")  # open | completed
    submitted_on = Date()
    completed_on = Date(null=True, default=None)
    created_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    version = Integer(default=0)


class Filing(Table, tablename="approvals_filing"):
    """An application for one approval (申请): submitted → accepted (maybe 容缺) → granted | refused."""

    tenant_id = tenant_fk()
    item = ForeignKey(references=Item, null=False, on_delete=OnDelete.cascade)
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    project = ForeignKey(references=Project, null=True, on_delete=OnDelete.set_null)
    bundle_filing = ForeignKey(references=BundleFiling, null=True, on_delete=OnDelete.cascade)
    department = ForeignKey(references=Department, null=True, on_delete=OnDelete.set_null)
    status = Varchar(length=20, default="submitted")  # submitted | accepted | granted | refused
    submitted_on = Date()
    accepted_on = Date(null=True, default=None)
    decided_on = Date(null=True, default=None)
    due_on = Date(null=True, default=None)  # the committed time, in working days from submission
    materials_asked = Integer(default=0)  # materials the department asked for
    waived = Boolean(default=False)  # accepted with materials missing (容缺受理)
    commitment = Text(default="")  # the company's written commitment (承诺书)
    commitment_due = Date(null=True, default=None)
    reason = Text(default="")  # a refusal's reason
    case = ForeignKey(references=Case, null=True, on_delete=OnDelete.set_null)  # a stuck approval's case
    created_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    version = Integer(default=0)


class Shortfall(Table, tablename="approvals_shortfall"):
    """A material missing at a 容缺 acceptance, chased until it is in; flagged when its due date passes."""

    tenant_id = tenant_fk()
    filing = ForeignKey(references=Filing, null=False, on_delete=OnDelete.cascade)
    material = ForeignKey(references=Material, null=False, on_delete=OnDelete.cascade)
    due_on = Date()
    received_on = Date(null=True, default=None)
    chased_on = Date(null=True, default=None)
    chases = Integer(default=0)
    flagged_on = Date(null=True, default=None)


class Action(Table, tablename="approvals_action"):
    """A next action (下一步) with its owner — the company, the helper or a department — and due day."""

    tenant_id = tenant_fk()
    project = ForeignKey(references=Project, null=True, on_delete=OnDelete.cascade)
    filing = ForeignKey(references=Filing, null=True, on_delete=OnDelete.cascade)
    kind = Varchar(length=30, default="custom")  # stage | decide | materials | custom
    text = Varchar(length=300)
    owner = Varchar(length=20)  # company | helper | department
    department = ForeignKey(references=Department, null=True, on_delete=OnDelete.set_null)
    due_on = Date()
    done_on = Date(null=True, default=None)
    reminded_on = Date(null=True, default=None)
    escalated_on = Date(null=True, default=None)


class Event(Table, tablename="approvals_event"):
    """The module's record: who did what to a project or an application, when and why."""

    tenant_id = tenant_fk()
    project = ForeignKey(references=Project, null=True, on_delete=OnDelete.cascade)
    filing = ForeignKey(references=Filing, null=True, on_delete=OnDelete.cascade)
    action = Varchar(length=40)
    actor = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    data = Text(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
