"""The settings for running past one machine: the pooler, the replicas, the lag and the read-your-writes
window — read, checked, and turned into the logins the engine uses (no database needed)."""

from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.config import ConfigError, load_settings


def settings(tmp_path: Path, **env):
    return load_settings({"QINQING_VAR_DIR": str(tmp_path), "SECRET_KEY": "s" * 32, **env})


PG = "postgresql://postgres@127.0.0.1:6432/qinqing"


@pytest.mark.filterwarnings("ignore:.*Unable to fetch server version")
def test_the_replicas_and_the_pooler_give_the_engine_its_logins(tmp_path):
    from core.db import make_engine

    (tmp_path / "database_app_password").write_text("app-secret")
    s = settings(tmp_path, DATABASE_URL=PG, DATABASE_POOLER="transaction",
                 DATABASE_REPLICA_URLS="postgresql://postgres@10.0.0.2:5432/qinqing, postgresql://h3:5433/qq",
                 REPLICA_MAX_LAG_SECONDS="2.5", READ_YOUR_WRITES_SECONDS="30")
    assert (s.database_pooler, s.replica_max_lag_seconds, s.read_your_writes_seconds) == ("transaction", 2.5, 30)
    engine = make_engine(s, owner=False)
    assert engine.config["statement_cache_size"] == 0 and engine.config["user"] == "qinqing_app"
    first, second = engine.replica_set.replicas
    # the application's own role and password on every replica: row-level security holds there too
    assert first.config == {"host": "10.0.0.2", "port": 5432, "user": "qinqing_app", "database": "qinqing",
                            "password": "app-secret", "statement_cache_size": 0}
    assert (second.name, second.config["port"], second.config["database"]) == ("h3:5433/qq", 5433, "qq")
    assert engine.replica_set.max_lag == 2.5
    owner = make_engine(s, owner=True)  # migrate: never routed, but through the pooler all the same
    assert not hasattr(owner, "replica_set") and owner.config["statement_cache_size"] == 0


@pytest.mark.filterwarnings("ignore:.*Unable to fetch server version")
def test_without_a_pooler_asyncpg_keeps_its_statement_cache(tmp_path):
    from core.db import make_engine

    engine = make_engine(settings(tmp_path, DATABASE_URL=PG), owner=False)
    assert "statement_cache_size" not in engine.config and engine.replica_set.replicas == []


@pytest.mark.filterwarnings("ignore:.*Unable to fetch server version")
def test_behind_pgbouncer_with_prepared_statements_asyncpg_keeps_its_cache(tmp_path):
    from core.db import make_engine

    s = settings(tmp_path, DATABASE_URL=PG, DATABASE_POOLER=" Transaction-Prepared ",
                 DATABASE_REPLICA_URLS="postgresql://postgres@10.0.0.2:5432/qinqing")
    assert s.database_pooler == "transaction-prepared"
    engine = make_engine(s, owner=False)
    (replica,) = engine.replica_set.replicas
    owner = make_engine(s, owner=True)
    for config in (engine.config, replica.config, owner.config):
        assert "statement_cache_size" not in config


class _Connection:
    """What `check_pooler_tracks_statements` asks of an asyncpg connection, answering with the
    names the server session knows its statement by."""

    def __init__(self, server_names):
        self.server_names = server_names

    @asynccontextmanager
    async def transaction(self):
        yield

    async def prepare(self, sql):
        return SimpleNamespace(get_name=lambda: "__asyncpg_stmt_7__")

    async def fetch(self, sql, *args):
        return [{"name": name} for name in self.server_names]


@pytest.mark.parametrize("server_names, tracked", [
    (["PGBOUNCER_12"], True),  # PgBouncer ≥ 1.21, max_prepared_statements > 0: its own name
    (["__asyncpg_stmt_7__"], False),  # PgBouncer 1.18, or max_prepared_statements = 0, or no pooler
    ([], False),
])
async def test_the_start_up_check_knows_a_pooler_that_keeps_prepared_statements(server_names, tracked):
    from core.db import check_pooler_tracks_statements

    if tracked:
        await check_pooler_tracks_statements(_Connection(server_names), "127.0.0.1:6434")
        return
    with pytest.raises(ConfigError) as info:
        await check_pooler_tracks_statements(_Connection(server_names), "127.0.0.1:6432")
    assert info.value.variable == "DATABASE_POOLER"
    assert "127.0.0.1:6432" in str(info.value) and "DATABASE_POOLER=transaction " in str(info.value)


def test_a_wrong_pooler_mode_names_the_modes(tmp_path):
    with pytest.raises(ConfigError) as info:
        settings(tmp_path, DATABASE_URL=PG, DATABASE_POOLER="prepared")
    assert str(info.value) == ("DATABASE_POOLER: must be one of none, transaction, transaction-prepared, "
                               "not 'prepared'")


@pytest.mark.parametrize("env, variable", [
    ({"DATABASE_POOLER": "session"}, "DATABASE_POOLER"),
    ({"DATABASE_URL": "sqlite:///var/x.db", "DATABASE_POOLER": "transaction"}, "DATABASE_POOLER"),
    ({"DATABASE_URL": "sqlite:///var/x.db", "DATABASE_POOLER": "transaction-prepared"}, "DATABASE_POOLER"),
    ({"DATABASE_URL": "sqlite:///var/x.db", "DATABASE_REPLICA_URLS": PG}, "DATABASE_REPLICA_URLS"),
    ({"DATABASE_REPLICA_URLS": "sqlite:///var/x.db"}, "DATABASE_REPLICA_URLS"),
    ({"DATABASE_REPLICA_URLS": "mysql://x/y"}, "DATABASE_REPLICA_URLS"),
    ({"REPLICA_MAX_LAG_SECONDS": "soon"}, "REPLICA_MAX_LAG_SECONDS"),
    ({"READ_YOUR_WRITES_SECONDS": "-1"}, "READ_YOUR_WRITES_SECONDS"),
])
def test_a_wrong_setting_names_its_variable(tmp_path, env, variable):
    with pytest.raises(ConfigError) as info:
        settings(tmp_path, **{"DATABASE_URL": PG, **env})
    assert info.value.variable == variable


def test_which_requests_may_read_a_replica():
    from web.read_routing import reads_from_replica, wrote_recently

    class Handler:
        def __init__(self, name, opt=None):
            self.name, self.opt = name, opt or {}

    assert reads_from_replica({"method": "GET", "route_handler": Handler("export_cases")})
    assert reads_from_replica({"method": "GET", "route_handler": Handler("plugin_page", {"reads": "replica"})})
    assert not reads_from_replica({"method": "POST", "route_handler": Handler("export_cases")})
    assert not reads_from_replica({"method": "GET", "route_handler": Handler("case_detail")})
    cookie = [(b"cookie", b"lang=zh_CN; qinqing_wrote=1000.5")]
    assert wrote_recently({"headers": cookie}, window=10, now=1005)
    assert not wrote_recently({"headers": cookie}, window=10, now=1011)
    assert not wrote_recently({"headers": [(b"cookie", b"qinqing_wrote=x")]}, window=10, now=1005)
