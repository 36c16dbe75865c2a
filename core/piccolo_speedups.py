"""Three measured speed-ups for Piccolo's query building and rows.

`ForeignKey.__getattribute__` asks `name not in dir(self)` on every public attribute read of a
foreign-key column, and `dir()` builds and sorts the column's ~80 attribute names each time
(7 µs).  Building a query with joins reads such attributes hundreds of times, so this check was
about a tenth of a case page's CPU time (`py-spy`, `bench/run`).  The module-level `dir` that
function sees is replaced by an object answering the same membership question from the
instance's `__dict__` and a cached set of its class's names.

`convert_to_sql_value` runs for every value of every row an insert writes, and imports three
names and asks two abstract-class `isinstance` questions each time, to change nothing for a
plain value (a tenth of a submission's CPU time).  `plain_sql_value` answers plain values
(strings, numbers, dates, None; not for a JSON column, which dumps them) at once and hands every
other value to Piccolo's own function.

`Table.__init__` walks every column's `_meta` (through `ForeignKey.__getattribute__` for foreign
keys) and default on each row made or loaded: a case row costs about 0.1 ms, several per
submission and one per loaded object.  `table_init` does the same with each table's columns,
names and constant defaults read once (`_row_plan`); a callable default is still called per row.
"""

from __future__ import annotations

import datetime
import decimal
import inspect
import uuid
from enum import Enum
from functools import cache
from typing import Any

from piccolo.columns import column_types
from piccolo.columns.base import Column
from piccolo.columns.defaults.base import Default

from core.piccolo_private import (
    PICCOLOS_CONVERT_TO_SQL_VALUE,
    PICCOLOS_TABLE_INIT,
    replace_convert_to_sql_value,
    replace_foreign_key_dir,
    replace_table_init,
)

_PLAIN = frozenset({str, int, float, bool, type(None), bytes, datetime.datetime, datetime.date, datetime.time,
                    datetime.timedelta, decimal.Decimal, uuid.UUID})
_JSON = (column_types.JSON, column_types.JSONB)
_piccolos = PICCOLOS_CONVERT_TO_SQL_VALUE


@cache
def _class_names(cls: type) -> frozenset[str]:
    return frozenset(dir(cls))


class _Names:
    """`name in dir(obj)` without building the list: the instance's attributes and its class's."""

    __slots__ = ("obj",)

    def __init__(self, obj: object):
        self.obj = obj

    def __contains__(self, name: object) -> bool:
        return name in object.__getattribute__(self.obj, "__dict__") or name in _class_names(type(self.obj))  # type: ignore[arg-type]

    def __iter__(self):
        return iter(dir(self.obj))


def plain_sql_value(value, column):
    """Piccolo's `convert_to_sql_value`, quick for a plain value."""
    kind = type(value)
    if kind in _PLAIN and (kind is str or value is None or not isinstance(column, _JSON)):
        return value
    return _piccolos(value, column)


_ROW_PLANS: dict[type, Any] = {}
_CALLED = object()  # a default worked out per row


def _row_plan(cls: type) -> tuple | None:
    """Per column: its name, its other (database) name or None, its constant default (or
    `_CALLED`), whether it may be null, the column.  None where a name is a data descriptor other
    than a column (whose `__set__` stores in `__dict__`), which storing directly would bypass:
    Piccolo's own constructor then."""
    plan = []
    for column in cls._meta.columns:  # type: ignore[attr-defined]
        meta = object.__getattribute__(column, "_meta")
        found = inspect.getattr_static(cls, meta.name, None)
        if hasattr(type(found), "__set__") and not isinstance(found, Column):
            return None
        default = getattr(column, "default", ...)
        if isinstance(default, Enum):
            default = default.value
        if default is ...:
            default = None
        elif callable(default) or isinstance(default, Default):
            default = _CALLED
        other = meta.db_column_name
        plan.append((meta.name, other if other != meta.name else None, default, meta.null, column))
    return tuple(plan)


def table_init(self, _data: dict | None = None, _ignore_missing: bool = False, _exists_in_db: bool = False,
               **kwargs) -> None:
    """Piccolo's `Table.__init__`, with each table's columns read once."""
    cls = type(self)
    plan = _ROW_PLANS.get(cls, False)
    if plan is False:
        plan = _ROW_PLANS[cls] = _row_plan(cls)
    if plan is None or _data:
        PICCOLOS_TABLE_INIT(self, _data, _ignore_missing, _exists_in_db, **kwargs)
        return
    attrs = self.__dict__
    attrs["_exists_in_db"] = _exists_in_db
    attrs["_was_created"] = None
    for name, other, default, null, column in plan:
        value = ...
        if kwargs:
            value = kwargs.pop(name, ...)
            if value is ... and other is not None:
                value = kwargs.pop(other, ...)
        if value is ...:
            if default is _CALLED:
                value = column.get_default_value()
                if isinstance(value, Default):
                    value = value.python()
            else:
                value = default
            if value is None and not null and not _ignore_missing:
                raise ValueError(f"{name} wasn't provided")
        attrs[name] = value
    if kwargs:
        raise ValueError(f"Unrecognized columns - {list(kwargs.keys())}")


def install() -> None:
    replace_foreign_key_dir(_Names)
    replace_convert_to_sql_value(plain_sql_value)
    replace_table_init(table_init)
