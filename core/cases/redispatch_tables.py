"""Tables of bulk re-dispatch (批量二次交办): a batch and the cases it selected."""

from piccolo.columns import ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.cases.tables import Case
from core.tables import User, tenant_fk


class RedispatchBatch(Table, tablename="redispatch_batch"):
    """One bulk re-dispatch: the console's filters, one reason, who asked, and its progress.
    `key` (unique per tenant) is the form's or the client's key: the same batch sent twice is
    one batch."""

    id: Serial  # added by Piccolo; declared for the type checker
    tenant_id = tenant_fk()
    key = Varchar(length=64)
    reason = Text()
    filters = Text(default="{}")  # JSON: the console's filters the cases were selected with
    status = Varchar(length=20, default="queued")  # queued | running | done
    total = Integer(default=0)
    processed = Integer(default=0)
    redispatched = Integer(default=0)
    skipped = Integer(default=0)
    created_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class RedispatchItem(Table, tablename="redispatch_item"):
    """A case a batch selected; unique per (tenant, batch, case): never re-dispatched twice by it.
    `outcome`: pending | redispatched | skipped; `note` why a case was skipped (a code)."""

    id: Serial
    tenant_id = tenant_fk()
    batch = ForeignKey(references=RedispatchBatch, null=False)
    case = ForeignKey(references=Case, null=False)
    outcome = Varchar(length=20, default="pending")
    note = Varchar(length=40, default="")
