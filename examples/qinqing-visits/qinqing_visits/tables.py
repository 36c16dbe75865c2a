"""The visit log's one table (走访记录): a visit to a company, planned or made.

``tenant_fk()`` makes it a tenant's table: queries go through ``scoped(Visit)``, PostgreSQL's
row-level security checks the tenant a second time, and ``qinqing tenant export``/``import``
carry its rows with the tenant (the company, case and visitor ids follow).  A case has at most
one follow-up visit (a unique key, tenant first, in the second migration).
"""

from piccolo.columns import Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.sdk import N_, Case, Company, User, tenant_fk

PLANNED, DONE, OVERDUE = "planned", "done", "overdue"
STATUS_LABELS = {PLANNED: N_("Planned"), DONE: N_("Visited"), OVERDUE: N_("Overdue")}


class Visit(Table, tablename="visits_visit"):
    """A visit to a company: made (``done``), or planned as the follow-up (回访) of a resolved case."""

    tenant_id = tenant_fk()
    company = ForeignKey(references=Company, null=False)
    case = ForeignKey(references=Case, null=True, on_delete=OnDelete.set_null)  # the case it follows up
    status = Varchar(length=20, default=PLANNED)
    planned_on = Date(null=True, default=None)
    visited_on = Date(null=True, default=None)
    visitor = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = [Visit]
