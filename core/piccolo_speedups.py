"""Two measured speed-ups for Piccolo's query building.

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
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from functools import cache

from piccolo.columns import column_types

from core.piccolo_private import PICCOLOS_CONVERT_TO_SQL_VALUE, replace_convert_to_sql_value, replace_foreign_key_dir

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


def install() -> None:
    replace_foreign_key_dir(_Names)
    replace_convert_to_sql_value(plain_sql_value)
