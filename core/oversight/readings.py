"""The oversight figures as the API reads them: the 亲清 index with its stored monthly history."""

from __future__ import annotations

from core.oversight.figures import tenant_figures
from core.oversight.index import compute
from core.oversight.tables import IndexSnapshot
from core.scope import scoped


async def stored_history() -> list[dict]:
    """The tenant's stored monthly index (not per department), oldest first."""
    return await scoped(IndexSnapshot).select(
        IndexSnapshot.month, IndexSnapshot.score, IndexSnapshot.closeness, IndexSnapshot.cleanness).where(
        IndexSnapshot.department.is_null()).order_by(IndexSnapshot.month)


async def index_with_history() -> dict:
    """This month's index (score, sides, indicators, departments) and the stored history."""
    result = await compute(await tenant_figures())
    result["history"] = await stored_history()
    return result
