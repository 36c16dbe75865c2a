"""Schema helpers for migrations that both engines run."""

from __future__ import annotations


def index_sql(table: str, columns: tuple[str, ...], unique: bool = False) -> str:
    name = f"{'uq' if unique else 'ix'}_{table}_{'_'.join(columns)}"
    cols = ", ".join(f'"{c}"' for c in columns)
    return f'CREATE {"UNIQUE " if unique else ""}INDEX IF NOT EXISTS "{name}" ON "{table}" ({cols})'


def unique_index_sql(table: str, columns: tuple[str, ...]) -> str:
    return index_sql(table, columns, unique=True)


def indexes_step(manager, unique: dict[str, list[tuple[str, ...]]] | None = None,
                 plain: dict[str, list[tuple[str, ...]]] | None = None) -> None:
    """Add a raw migration step creating composite unique keys and lookup indexes."""

    async def create():
        from piccolo.engine import engine_finder

        engine = engine_finder()
        assert engine is not None, "piccolo_conf.py names no engine"
        for flag, spec in ((True, unique or {}), (False, plain or {})):
            for table, keys in spec.items():
                for columns in keys:
                    await engine.run_ddl(index_sql(table, columns, unique=flag), in_pool=False)

    manager.add_raw(create)


def unique_keys_step(manager, keys: dict[str, tuple[str, ...]]) -> None:
    """Composite unique keys, one per table (the first core migration's form)."""
    indexes_step(manager, unique={table: [columns] for table, columns in keys.items()})
