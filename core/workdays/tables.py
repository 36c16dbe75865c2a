"""Working-day calendar tables: global (not tenant-owned), shared by every tenant.

`CalendarOverride` holds one row per date whose status is set by a loaded override file (a
holiday, or an adjusted weekend workday 调休); `CalendarYear` records which years have been loaded,
so their dates count as confirmed even where `chinese_calendar` has no data.
"""

from piccolo.columns import Boolean, Date, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class CalendarOverride(Table, tablename="calendar_override"):
    """One date's working status, overriding `chinese_calendar` and the Monday–Friday rule."""

    id: Serial  # added by Piccolo; declared for the type checker
    day = Date(unique=True, index=True)
    workday = Boolean()
    note = Varchar(length=200, default="")


class CalendarYear(Table, tablename="calendar_year"):
    """A year whose official holiday notice has been loaded as overrides."""

    id: Serial
    year = Integer(unique=True)
    source = Varchar(length=200, default="")
    loaded_at = Timestamptz(default=TimestamptzNow())
