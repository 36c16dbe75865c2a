"""Core tables: identity, organisation, sessions and tokens, notifications, the outbox and scheduler.

Every tenant-owned table has `tenant_id`, leading its unique keys and lookup indexes.  Composite
unique keys are unique indexes made by the migrations (`core.schema`), since SQLite cannot add
constraints to an existing table.
Tables listed in `SYSTEM_TABLES` carry a tenant id for routing only and are read by the relay and
scheduler across tenants; they hold IDs, never a tenant's data.
"""

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tenant_registry import Tenant


def tenant_fk() -> ForeignKey:
    """The `tenant_id` column every tenant-owned table has (it leads every unique key)."""
    return ForeignKey(references=Tenant, null=False, index=True, on_delete=OnDelete.cascade)


class User(Table, tablename="app_user"):
    """A person who can log in. Global; what they may do lives in `Membership` per tenant."""

    id: Serial  # added by Piccolo; declared for the type checker
    username = Varchar(length=150, unique=True, index=True)
    display_name = Varchar(length=200)
    email = Varchar(length=254, default="")
    password_hash = Varchar(length=255)
    locale = Varchar(length=10, default="zh_CN")
    active = Boolean(default=True)
    failed_logins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    is_system_admin = Boolean(default=False)  # may use the system console (系统控制台), across tenants


class Department(Table, tablename="department"):
    """A government department (部门) of a tenant."""

    id: Serial
    tenant_id = tenant_fk()
    code = Varchar(length=50)
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200, default="")


class Section(Table, tablename="section"):
    """A section (科室) inside a department."""

    id: Serial
    tenant_id = tenant_fk()
    department = ForeignKey(references=Department, null=False, on_delete=OnDelete.cascade)
    code = Varchar(length=50)
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200, default="")


class Category(Table, tablename="category"):
    """A case category of the dispatch catalogue (办理目录)."""

    id: Serial
    tenant_id = tenant_fk()
    code = Varchar(length=50)
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    lead_department = ForeignKey(references=Department, null=True, on_delete=OnDelete.set_null)
    co_departments = Text(default="[]")  # JSON list of department codes
    deadline_days = Integer(default=5)
    active = Boolean(default=True)


class Membership(Table, tablename="membership"):
    """A user's role in a tenant, optionally within a department (and section)."""

    id: Serial
    tenant_id = tenant_fk()
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=50)
    department = ForeignKey(references=Department, null=True, on_delete=OnDelete.set_null)
    section = ForeignKey(references=Section, null=True, on_delete=OnDelete.set_null)


class Session(Table, tablename="web_session"):
    """A server-side login session, valid on one tenant only."""

    id: Serial
    tenant_id = tenant_fk()
    key_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    data = Text(default="{}")


class ApiToken(Table, tablename="api_token"):
    """A bearer token for the JSON API, valid on one tenant only. Only its hash is stored."""

    id: Serial
    tenant_id = tenant_fk()
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    name = Varchar(length=100)
    token_hash = Varchar(length=64, unique=True, index=True)
    prefix = Varchar(length=12)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class IdempotencyKey(Table, tablename="idempotency_key"):
    """A write request's `Idempotency-Key` and the answer it got, so a client that saw no answer
    can send it again without the step being taken twice (kept 24 hours)."""

    id: Serial
    tenant_id = tenant_fk()
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    key = Varchar(length=200)
    fingerprint = Varchar(length=64)  # sha256 of method, path and body
    status = Integer(default=0)
    content_type = Varchar(length=100, default="")
    body = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Notification(Table, tablename="notification"):
    """An in-app notification (站内消息) for one user of one tenant."""

    id: Serial
    tenant_id = tenant_fk()
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    kind = Varchar(length=50)
    title = Varchar(length=300)
    body = Text(default="")
    link = Varchar(length=500, default="")
    source = Varchar(length=64)  # id of the outbox message that caused it: one effect per message
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class OutboxMessage(Table, tablename="outbox_message"):
    """A message caused by a change, written in the change's transaction; the relay sends it on."""

    id: Serial
    message_id = Varchar(length=36, unique=True)
    tenant_id = Integer(null=True, index=True)
    actor = Varchar(length=100)
    payload = Text(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
    available_at = Timestamptz(default=TimestamptzNow(), index=True)
    sent_at = Timestamptz(null=True, default=None, index=True)
    attempts = Integer(default=0)
    last_error = Text(default="")


class ProcessedMessage(Table, tablename="processed_message"):
    """A message an actor has already applied; makes a redelivery a no-op."""

    id: Serial
    message_id = Varchar(length=36, unique=True)
    actor = Varchar(length=100)
    processed_at = Timestamptz(default=TimestamptzNow())


class FailedMessage(Table, tablename="failed_message"):
    """A message whose actor failed for good; retried from the console."""

    id: Serial
    message_id = Varchar(length=36, unique=True)
    tenant_id = Integer(null=True)
    actor = Varchar(length=100)
    payload = Text(default="{}")
    error = Text(default="")
    failed_at = Timestamptz(default=TimestamptzNow())


class SchedulerRun(Table, tablename="scheduler_run"):
    """One run of a scheduled job in one time slot; the unique key makes a slot run once."""

    id: Serial
    job = Varchar(length=100)
    slot = Varchar(length=40)
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    error = Text(default="")


class SystemSession(Table, tablename="system_session"):
    """A login session of the system console (系统控制台), outside every tenant."""

    id: Serial
    key_hash = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(references=User, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()


class LoginThrottle(Table, tablename="login_throttle"):
    """Failed logins in a row per username, known or not (so the answers do not tell which), and
    the lock they set.  Global like `app_user`, holding no tenant's data; written only by single
    atomic statements (`core.identity`).  `app_user.failed_logins`/`locked_until` are no longer used."""

    id: Serial
    username = Varchar(length=150, unique=True)
    failures = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class OnboardingJob(Table, tablename="onboarding_job"):
    """A manifest applied from the system console (入驻) in the background, with its progress.

    `passwords` holds the generated passwords of new users only until the page has shown them once.
    """

    id: Serial
    slug = Varchar(length=63, default="")
    manifest = Text()
    status = Varchar(length=20, default="queued")  # queued | running | done | failed
    step = Varchar(length=20, default="")
    done_units = Integer(default=0)
    total_units = Integer(default=0)
    created = Boolean(default=False)
    problems = Text(default="[]")
    passwords = Text(default="{}")
    created_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


SYSTEM_TABLES = {"outbox_message", "processed_message", "failed_message", "scheduler_run", "system_session",
                 "onboarding_job"}
