"""Configuration from environment variables and an optional `.env` file.

Every setting has a default that gives the embedded set-up (SQLite + in-process worker).
A wrong value stops start-up with a `ConfigError` naming the variable.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is wrong; the message names the variable."""

    def __init__(self, variable: str, problem: str):
        self.variable = variable
        super().__init__(f"{variable}: {problem}")


@dataclass(frozen=True)
class DatabaseURL:
    engine: str  # "sqlite" or "postgres"
    path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str | None = None
    database: str = "qinqing"

    def asyncpg_config(self) -> dict:
        config = {"host": self.host, "port": self.port, "user": self.user, "database": self.database}
        if self.password:
            config["password"] = self.password
        return config


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database: DatabaseURL
    database_url: str
    broker_url: str | None
    secret_key: str
    host: str
    port: int
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_from: str
    demo_password: str | None
    base_url: str = ""
    app_role: str = "qinqing_app"
    owner_database: DatabaseURL | None = None  # DATABASE_OWNER_URL: the schema owner's login (migrate)
    database_pooler: str = "none"  # DATABASE_POOLER: none | transaction | transaction-prepared (PgBouncer ≥ 1.21)
    direct_database: DatabaseURL | None = None  # DATABASE_DIRECT_URL: past the pooler, for session locks
    replica_databases: tuple[DatabaseURL, ...] = ()  # DATABASE_REPLICA_URLS: streaming replicas (只读副本)
    replica_max_lag_seconds: float = 10.0  # REPLICA_MAX_LAG_SECONDS: a replica further behind is skipped
    read_your_writes_seconds: int = 10  # READ_YOUR_WRITES_SECONDS: after a write, its user reads the primary
    max_body_bytes: int = 25 * 1024 * 1024
    log_format: str = "json"  # LOG_FORMAT: json | text
    log_level: str = "INFO"
    template_reload: bool = False  # TEMPLATE_RELOAD=on: re-read templates when they change (development)
    audit_key_file: Path | None = None  # AUDIT_KEY_FILE: the Ed25519 key signing the chain heads (存证)
    attachment_store: str = "local"  # ATTACHMENT_STORE: local (var/attachments) | database (core.storage)
    extra: dict = field(default_factory=dict)

    @property
    def broker_kind(self) -> str:
        if not self.broker_url:
            return "stub"
        return urlparse(self.broker_url).scheme.split("+")[0].replace("rediss", "redis").replace("amqps", "amqp")


def parse_database_url(url: str, var_dir: Path, variable: str = "DATABASE_URL") -> DatabaseURL:
    parsed = urlparse(url)
    scheme = parsed.scheme
    if scheme == "sqlite":
        raw = url[len("sqlite://"):]
        if raw.startswith("/"):
            raw = raw[1:] if not raw.startswith("//") else raw[1:]
        if not raw or raw == ":memory:":
            raise ConfigError(variable, "SQLite needs a file path, e.g. sqlite:///var/qinqing.db")
        path = Path(raw)
        if not path.is_absolute():
            path = ROOT / path
        return DatabaseURL(engine="sqlite", path=path)
    if scheme in {"postgres", "postgresql", "postgresql+asyncpg"}:
        database = (parsed.path or "/").lstrip("/") or "qinqing"
        try:
            port = parsed.port or 5432
        except ValueError as exc:
            raise ConfigError(variable, f"bad port ({exc})") from None
        return DatabaseURL(
            engine="postgres",
            host=parsed.hostname or "127.0.0.1",
            port=port,
            user=unquote(parsed.username) if parsed.username else "postgres",
            password=unquote(parsed.password) if parsed.password else None,
            database=database,
        )
    raise ConfigError(
        variable,
        f"unknown scheme {scheme!r}; use sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
    )


def _int(env: dict, name: str, default: int) -> int:
    value = env.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, got {value!r}") from None
    if number <= 0 or number > 65535 and name.endswith("PORT"):
        raise ConfigError(name, f"out of range: {number}")
    return number


def _choice(env: dict, name: str, allowed: tuple[str, ...]) -> str:
    """One of `allowed` (case-insensitive; the first is the default)."""
    value = (env.get(name) or allowed[0]).strip()
    for option in allowed:
        if value.lower() == option.lower():
            return option
    raise ConfigError(name, f"must be one of {', '.join(allowed)}, not {value!r}")


def _secret_key(var_dir: Path, env: dict) -> str:
    given = env.get("SECRET_KEY")
    if given:
        if len(given) < 16:
            raise ConfigError("SECRET_KEY", "must be at least 16 characters")
        return given
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _under(root: Path, value: str | None) -> Path | None:
    """A path setting: absolute as given, or relative to the project root."""
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else root / path


def _seconds(env: dict, name: str, default: float) -> float:
    value = env.get(name)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(name, f"must be a number of seconds, got {value!r}") from None
    if not 0 <= number <= 86400:
        raise ConfigError(name, f"out of range: {number}")
    return number


POOLER_MODES = ("none", "transaction", "transaction-prepared")
"""DATABASE_POOLER: no pooler; PgBouncer in transaction pooling (any version: asyncpg's statement
cache off); PgBouncer ≥ 1.21 in transaction pooling with `max_prepared_statements` > 0 (the cache
kept on, the pooler carries each named statement to whichever server session runs it)."""


def _deployment(env: dict, var_dir: Path, database: DatabaseURL) -> dict:
    """The settings for running past one machine: the pooler, the direct URL, the replicas."""
    pooler = _choice(env, "DATABASE_POOLER", POOLER_MODES)
    direct_url = env.get("DATABASE_DIRECT_URL") or None
    direct = parse_database_url(direct_url, var_dir, "DATABASE_DIRECT_URL") if direct_url else None
    replicas = tuple(parse_database_url(url.strip(), var_dir, "DATABASE_REPLICA_URLS")
                     for url in (env.get("DATABASE_REPLICA_URLS") or "").split(",") if url.strip())
    for name, value in (("DATABASE_POOLER", pooler != "none"), ("DATABASE_DIRECT_URL", direct),
                        ("DATABASE_REPLICA_URLS", replicas)):
        if value and database.engine != "postgres":
            raise ConfigError(name, "applies to PostgreSQL only (DATABASE_URL names SQLite)")
    if any(replica.engine != "postgres" for replica in replicas):
        raise ConfigError("DATABASE_REPLICA_URLS", "each replica is a postgresql:// URL")
    return {"database_pooler": pooler, "direct_database": direct, "replica_databases": replicas,
            "replica_max_lag_seconds": _seconds(env, "REPLICA_MAX_LAG_SECONDS", 10.0),
            "read_your_writes_seconds": int(_seconds(env, "READ_YOUR_WRITES_SECONDS", 10))}


def load_settings(env: dict | None = None) -> Settings:
    """Read settings; `env` defaults to the process environment plus `.env`."""
    if env is None:
        from dotenv import dotenv_values

        env = {**{k: v for k, v in dotenv_values(ROOT / ".env").items() if v is not None}, **os.environ}
    var_dir = Path(env.get("QINQING_VAR_DIR") or ROOT / "var")
    database_url = env.get("DATABASE_URL") or "sqlite:///var/qinqing.db"
    database = parse_database_url(database_url, var_dir)
    owner_url = env.get("DATABASE_OWNER_URL") or None
    owner_database = parse_database_url(owner_url, var_dir, "DATABASE_OWNER_URL") if owner_url else None
    if owner_database is not None and owner_database.engine != database.engine:
        raise ConfigError("DATABASE_OWNER_URL", "must name the same kind of database as DATABASE_URL")
    app_role = env.get("DATABASE_APP_ROLE") or "qinqing_app"
    if owner_database is not None and database.engine == "postgres" and database.user != app_role:
        raise ConfigError("DATABASE_URL", f"logs in as {database.user!r}, but with DATABASE_OWNER_URL set it is the "
                                          f"application's login, {app_role!r} (DATABASE_APP_ROLE)")
    broker_url = env.get("BROKER_URL") or None
    if broker_url:
        scheme = urlparse(broker_url).scheme
        if scheme not in {"redis", "rediss", "amqp", "amqps"}:
            raise ConfigError("BROKER_URL", f"unknown scheme {scheme!r}; use redis://… or amqp://…, or leave it unset")
    return Settings(
        var_dir=var_dir,
        database=database,
        database_url=database_url,
        broker_url=broker_url,
        secret_key=_secret_key(var_dir, env),
        host=env.get("HOST") or "127.0.0.1",
        port=_int(env, "PORT", 8000),
        smtp_host=env.get("SMTP_HOST") or None,
        smtp_port=_int(env, "SMTP_PORT", 25),
        smtp_user=env.get("SMTP_USER") or None,
        smtp_password=env.get("SMTP_PASSWORD") or None,
        smtp_from=env.get("SMTP_FROM") or "qinqing@localhost",
        demo_password=env.get("DEMO_PASSWORD") or None,
        app_role=app_role,
        owner_database=owner_database,
        **_deployment(env, var_dir, database),
        log_format=_choice(env, "LOG_FORMAT", ("json", "text")),
        log_level=_choice(env, "LOG_LEVEL", ("INFO", "DEBUG", "WARNING", "ERROR")),
        template_reload=_choice(env, "TEMPLATE_RELOAD", ("off", "on")) == "on",
        audit_key_file=_under(ROOT, env.get("AUDIT_KEY_FILE")) or var_dir / "audit_signing_key.pem",
        attachment_store=_choice(env, "ATTACHMENT_STORE", ("local", "database")),
        base_url=(env.get("BASE_URL") or f"http://{env.get('HOST') or '127.0.0.1'}:{env.get('PORT') or 8000}").rstrip("/"),
    )


_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def reset_settings() -> None:
    global _settings
    _settings = None
