"""Tables of the case lifecycle: companies, cases, refusals and sign-offs, reviews, extensions,
objections, attachments, and the tamper-evident record."""

from piccolo.columns import (
    BigInt,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tables import Category, Department, User, tenant_fk


class Company(Table, tablename="company"):
    """A market entity (市场主体) known to a tenant, keyed by its unified social credit code."""

    id: Serial  # added by Piccolo; declared for the type checker
    tenant_id = tenant_fk()
    name = Varchar(length=200)
    credit_code = Varchar(length=18)  # 统一社会信用代码
    industry = Varchar(length=100, default="")
    township = Varchar(length=100, default="")
    address = Varchar(length=300, default="")
    contact_name = Varchar(length=100, default="")
    contact_phone = Varchar(length=30, default="")
    email = Varchar(length=254, default="")
    liaison_name = Varchar(length=100, default="")  # 企业联络员
    created_at = Timestamptz(default=TimestamptzNow())


class CompanyMember(Table, tablename="company_member"):
    """A user who acts for a company (企业用户); `is_liaison` marks its named liaison."""

    id: Serial
    tenant_id = tenant_fk()
    company = ForeignKey(references=Company, null=False, on_delete=OnDelete.cascade)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    is_liaison = Boolean(default=False)


class Case(Table, tablename="case_file"):
    """A company's request (诉求)."""

    id: Serial
    tenant_id = tenant_fk()
    number = Varchar(length=30)
    company = ForeignKey(references=Company, null=True)  # none yet: an anonymous intake the dispatcher attaches
    submitted_by = ForeignKey(references=User, null=True)
    on_behalf = Boolean(default=False)  # filed by an assistant for the company
    category = ForeignKey(references=Category, null=False)
    title = Varchar(length=200)
    description = Text()
    search_text = Text(default="")
    status = Varchar(length=30, index=True)
    department = ForeignKey(references=Department, null=True)
    handler = ForeignKey(references=User, null=True)  # 首问负责人
    escalated_to = ForeignKey(references=User, null=True)
    submitted_at = Timestamptz(default=TimestamptzNow())
    dispatched_at = Timestamptz(null=True, default=None)
    accepted_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    due_date = Date(null=True, default=None)
    due_confirmed = Boolean(default=True)
    reminded_for = Date(null=True, default=None)
    escalated = Boolean(default=False)
    overdue = Boolean(default=False)
    overturned = Boolean(default=False)
    refused_count = Integer(default=0)
    redispatch_count = Integer(default=0)
    reopened = Boolean(default=False)
    resolution = Text(default="")
    rating = Varchar(length=20, default="")
    rating_comment = Text(default="")
    merged_into: "ForeignKey[Case]" = ForeignKey(references="self", null=True)
    version = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class Open311Request(Table, tablename="open311_request"):
    """Where and from whom a case came in through Open311 GeoReport v2 (市民服务请求接口).

    The location and media are public fields of the service request; the submitter's name,
    e-mail and phone are for the dispatcher only and never leave through Open311.
    """

    id: Serial
    tenant_id = tenant_fk()
    case = ForeignKey(references=Case, null=False, on_delete=OnDelete.cascade)
    lat = DoublePrecision(null=True, default=None)
    long = DoublePrecision(null=True, default=None)
    address = Varchar(length=300, default="")
    address_id = Varchar(length=100, default="")
    media_url = Varchar(length=500, default="")
    first_name = Varchar(length=100, default="")
    last_name = Varchar(length=100, default="")
    email = Varchar(length=254, default="")
    phone = Varchar(length=30, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Refusal(Table, tablename="refusal"):
    """Saying no (不能办): reason and legal or policy basis, signed off up the chain."""

    id: Serial
    tenant_id = tenant_fk()
    case = ForeignKey(references=Case, null=False, on_delete=OnDelete.cascade)
    filed_by = ForeignKey(references=User, null=False)
    reason = Text()
    basis = Text()
    stage = Varchar(length=20)  # section_head | leader | dept_head | done
    status = Varchar(length=20)  # pending | sent_back | final
    created_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None)


class SignOff(Table, tablename="sign_off"):
    """One signature (签批) or send-back on a refusal."""

    id: Serial
    tenant_id = tenant_fk()
    refusal = ForeignKey(references=Refusal, null=False, on_delete=OnDelete.cascade)
    level = Varchar(length=20)
    signer = ForeignKey(references=User, null=False)
    decision = Varchar(length=20)  # signed | sent_back
    comment = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Review(Table, tablename="review"):
    """Refusal review (说"不"评议) by the People's Congress panel."""

    id: Serial
    tenant_id = tenant_fk()
    case = ForeignKey(references=Case, null=False, on_delete=OnDelete.cascade)
    refusal = ForeignKey(references=Refusal, null=False)
    requested_by = ForeignKey(references=User, null=False)
    reason = Text(default="")
    status = Varchar(length=20)  # requested | scheduled | ruled
    hearing_at = Timestamptz(null=True, default=None)
    place = Varchar(length=200, default="")
    record = Text(default="")  # questions and answers at the hearing
    verdict = Varchar(length=20, default="")  # upheld | overturned
    verdict_reason = Text(default="")
    ruled_by = ForeignKey(references=User, null=True)
    ruled_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Extension(Table, tablename="extension"):
    """A request to extend the deadline (延期), decided by the leader in charge."""

    id: Serial
    tenant_id = tenant_fk()
    case = ForeignKey(references=Case, null=False, on_delete=OnDelete.cascade)
    requested_by = ForeignKey(references=User, null=False)
    days = Integer()
    reason = Text()
    status = Varchar(length=20)  # pending | approved | denied
    decided_by = ForeignKey(references=User, null=True)
    comment = Text(default="")
    old_due = Date(null=True, default=None)
    new_due = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)


class Objection(Table, tablename="objection"):
    """An objection to an assignment (交办异议), decided finally by the dispatcher."""

    id: Serial
    tenant_id = tenant_fk()
    case = ForeignKey(references=Case, null=False, on_delete=OnDelete.cascade)
    department = ForeignKey(references=Department, null=False)
    raised_by = ForeignKey(references=User, null=False)
    reason = Text()
    status = Varchar(length=20)  # pending | accepted | rejected
    decided_by = ForeignKey(references=User, null=True)
    comment = Text(default="")
    new_department = ForeignKey(references=Department, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)


class Attachment(Table, tablename="attachment"):
    """A file attached to a case, stored outside the web root under its key."""

    id: Serial
    tenant_id = tenant_fk()
    case = ForeignKey(references=Case, null=False, on_delete=OnDelete.cascade)
    uploaded_by = ForeignKey(references=User, null=False)
    filename = Varchar(length=255)
    kind = Varchar(length=20)
    mime = Varchar(length=100)
    size = Integer()
    sha256 = Varchar(length=64)
    storage_key = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())


class Event(Table, tablename="case_event"):
    """An entry of the tamper-evident record (办理记录): append-only, hash-chained per tenant."""

    id: Serial
    tenant_id = tenant_fk()
    seq = Integer()
    case = ForeignKey(references=Case, null=True)
    actor = ForeignKey(references=User, null=True)
    actor_role = Varchar(length=50, default="")
    action = Varchar(length=50)
    reason = Text(default="")
    before = Varchar(length=30, default="")
    after = Varchar(length=30, default="")
    data = Text(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class AuditHead(Table, tablename="audit_head"):
    """The head of a tenant's event chain; updating it serialises appends per tenant."""

    id: Serial
    tenant_id = tenant_fk()
    last_seq = Integer(default=0)
    last_hash = Varchar(length=64, default="")


class AuditAnchor(Table, tablename="audit_anchor"):
    """A signed chain head (存证): the tenant's head at `seq`, signed with the installation's
    Ed25519 key (kept outside the database) and published; see `core.cases.anchors`."""

    id: Serial
    tenant_id = tenant_fk()
    seq = Integer()
    hash = Varchar(length=64)
    signed_at = Timestamptz()
    signature = Varchar(length=128)  # hex, 64 bytes
    public_key = Varchar(length=64)  # hex, 32 bytes: the key that signed


class ImportJob(Table, tablename="import_job"):
    """A file being imported in the background (a company list, or a plugin's, by `kind`), with its
    progress, row errors and, when the whole file is refused, the reason (`message`)."""

    id: Serial
    tenant_id = tenant_fk()
    kind = Varchar(length=40, default="companies")
    filename = Varchar(length=255)
    storage_key = Varchar(length=64)
    status = Varchar(length=20)  # queued | running | done | failed
    total = Integer(default=0)
    processed = Integer(default=0)
    created = Integer(default=0)
    updated = Integer(default=0)
    unchanged = Integer(default=0)
    errors = Text(default="[]")  # JSON list of {row, field, message, params}
    message = Text(default="")  # msgid of a whole-file problem (status failed)
    message_params = Text(default="{}")  # JSON filling `message`
    created_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class Advance(Table, tablename="case_advance"):
    """An advance (先垫资): the township (or district) paid first to fix what no department was found
    responsible for, and resolved the case; later the department found responsible settles it
    (结算).  One per case (a unique key on tenant and case); settled once."""

    id: Serial
    tenant_id = tenant_fk()
    case = ForeignKey(references=Case, null=False)
    amount_fen = BigInt()  # money as integer fen
    authorised_by = Varchar(length=100)  # who authorised the advance (e.g. the township head)
    work = Text()  # what was done with it
    advanced_on = Date()
    recorded_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    settled_department = ForeignKey(references=Department, null=True)
    settled_fen = BigInt(null=True, default=None)
    settled_on = Date(null=True, default=None)
    settled_by = ForeignKey(references=User, null=True)
    settled_at = Timestamptz(null=True, default=None)
