"""Inserts whose SQL is kept per shape (`core.prepared.Inserted`): the same SQL as Piccolo's
insert, the values bound as parameters, each call's own values written."""

from __future__ import annotations

import json
import uuid

from core.db import current_engine, write_transaction
from core.prepared import _INSERTS, Inserted, write_together
from core.tables import OutboxMessage
from tests.helpers import in_tenant


def _message(tenant_id: int, text: str) -> OutboxMessage:
    return OutboxMessage(message_id=str(uuid.uuid4()), tenant_id=tenant_id, actor="kept_insert_test",
                         payload=json.dumps({"text": text}))


async def test_a_kept_insert_is_piccolos_sql_with_each_calls_values(app):
    async with in_tenant("luqiao") as tenant:
        engine = current_engine()
        first, second = _message(tenant.id, "第一条 'quoted'"), _message(tenant.id, "第二条")
        sql, values = Inserted(OutboxMessage, first).compiled(engine)
        fresh_sql, fresh_values = OutboxMessage.insert(first).querystrings[0].compile_string(
            engine_type=engine.engine_type)
        assert (sql, values) == (fresh_sql, list(fresh_values))
        assert first.message_id not in sql and "quoted" not in sql  # bound, never in the text
        assert any(key[1] is OutboxMessage for key in _INSERTS)
        kept_sql, kept_values = Inserted(OutboxMessage, second).compiled(engine)
        assert kept_sql == sql and second.message_id in kept_values and first.message_id not in kept_values
        two_sql, two_values = Inserted(OutboxMessage, first, second).compiled(engine)
        assert two_sql != sql and len(two_values) == 2 * len(values)

        async with write_transaction():
            await Inserted(OutboxMessage, first)
            await write_together(Inserted(OutboxMessage, second), Inserted(OutboxMessage, _message(tenant.id, "第三条")))
        try:
            rows = await OutboxMessage.select(OutboxMessage.message_id, OutboxMessage.payload).where(
                OutboxMessage.actor == "kept_insert_test")
            assert {row["message_id"] for row in rows} >= {first.message_id, second.message_id}
            assert sorted(json.loads(row["payload"])["text"] for row in rows) == ["第一条 'quoted'", "第三条", "第二条"]
        finally:
            await OutboxMessage.delete().where(OutboxMessage.actor == "kept_insert_test")


def test_insert_values_are_those_of_piccolos_row_querystring():
    from core.piccolo_private import insert_values

    row = _message(1, "值")
    assert insert_values(row) == list(row.querystring.args)
