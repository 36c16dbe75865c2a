"""The submission's write path: the chain head reserved among the first reads and everything
else written at once still leave the record whole, and a refused submission leaves it as it was."""

from __future__ import annotations

import pytest

from core.cases.tables import AuditHead, Case, Event
from core.oversight.tables import CaseTally
from core.tables import OutboxMessage
from tenants.scope import scoped
from tests.cases_helpers import Api
from tests.helpers import in_tenant, token_for


async def _head() -> tuple[int, str]:
    row = await scoped(AuditHead).select(AuditHead.last_seq, AuditHead.last_hash).first()
    return row["last_seq"], row["last_hash"]


async def _last_event() -> dict:
    return await scoped(Event).select().order_by(Event.seq, ascending=False).first()


async def test_a_submission_writes_its_case_event_tally_and_notices_on_the_chain(app):
    api = Api(app, "luqiao")
    try:
        async with in_tenant("luqiao"):
            seq, last_hash = await _head()
        case = await api.submit(title="提交路径测试：井盖缺失")
        async with in_tenant("luqiao"):
            event = await _last_event()
            assert (event["seq"], event["prev_hash"], event["case"], event["action"]) == (
                seq + 1, last_hash, case["id"], "submit")
            assert await _head() == (seq + 1, event["hash"])
            row = await scoped(Case).select(Case.number, Case.title).where(Case.id == case["id"]).first()
            assert row == {"number": case["number"], "title": "提交路径测试：井盖缺失"}
            assert await scoped(CaseTally).count().where(CaseTally.case == case["id"]) == 1
            notices = await OutboxMessage.select(OutboxMessage.payload).where(
                OutboxMessage.payload.like(f'%"number": "{case["number"]}"%'))
            assert notices, "the dispatchers are told"
        assert [t["action"] for t in case["timeline"]] == ["submit"]
        again = await api.get("company", case["id"])
        assert again == case
    finally:
        await api.client.aclose()


async def test_a_refused_submission_leaves_the_chain_head_as_it_was():
    """Even when the caller keeps its transaction: the number reserved with the first reads goes back."""
    from core.cases import lifecycle
    from core.errors import UserError
    from core.identity import user_from_token

    token = await token_for("company@luqiao", "luqiao")
    async with in_tenant("luqiao"):
        user = await user_from_token(token)
        before = await _head()
        with pytest.raises(UserError):
            await lifecycle.submit(user, {"category": "no-such-category", "title": "路灯不亮", "description": "厂门口"})
        assert await _head() == before
    async with in_tenant("luqiao"):
        assert await _head() == before
        assert (await _last_event())["seq"] == before[0]
