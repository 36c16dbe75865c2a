"""A step's lock on its case (PostgreSQL): writers of one case wait for each other, while rows that
merely reference the case (a foreign key's check, held to the end of its transaction) never make
two steps deadlock — two re-dispatch batches listing the same refused cases did."""

from __future__ import annotations

import asyncio
import os

import pytest

from core.cases.tables import Case
from tests.helpers import in_tenant

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                reason="row locks are PostgreSQL's; SQLite serialises write transactions")


async def test_two_steps_that_each_reference_the_case_first_do_not_deadlock():
    from core.cases.lifecycle import lock_case
    from tenants.scope import scoped

    async with in_tenant("luqiao"):
        case_id = (await scoped(Case).select(Case.id).order_by(Case.id).first())["id"]
    referenced = asyncio.Barrier(2)
    locked: dict[str, float] = {}
    loop = asyncio.get_running_loop()

    async def step(name: str) -> None:
        async with in_tenant("luqiao"):
            # what inserting a row with a foreign key to the case takes, until the transaction ends
            await scoped(Case).select(Case.id).where(Case.id == case_id).lock_rows("KEY SHARE")
            await referenced.wait()
            await lock_case(case_id)
            locked[name] = loop.time()
            await asyncio.sleep(0.3)  # the other waits for this one to commit, not for ever

    await asyncio.wait_for(asyncio.gather(step("a"), step("b")), timeout=30)
    first, second = sorted(locked.values())
    assert second - first >= 0.25  # the second step took the lock only after the first committed
