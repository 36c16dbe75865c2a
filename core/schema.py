"""Schema helpers for migrations that both engines run."""

from __future__ import annotations


def unique_index_sql(table: str, columns: tuple[str, ...]) -> str:
    name = f"uq_{table}_{'_'.join(columns)}"
    cols = ", ".join(f'"{c}"' for c in columns)
    return f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}" ON "{table}" ({cols})'


def unique_keys_step(manager, keys: dict[str, tuple[str, ...]]) -> None:
    """Add a raw migration step creating composite unique keys as unique indexes."""

    async def create():
        from piccolo.engine import engine_finder

        engine = engine_finder()
        for table, columns in keys.items():
            await engine.run_ddl(unique_index_sql(table, columns), in_pool=False)

    manager.add_raw(create)
