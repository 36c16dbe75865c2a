"""Which PostgreSQL login each command uses (`core.pg_logins`), and the declared privileges of the
tables outside row-level security (`core.grants`).  Settings only: these run on every engine."""

from pathlib import Path

import pytest

from core.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def settings(tmp_path, **env):
    return load_settings({"QINQING_VAR_DIR": str(tmp_path), "SECRET_KEY": "x" * 32, **env})


def test_one_url_is_the_owners_and_the_application_logs_in_as_its_role_with_the_generated_password(tmp_path):
    from core.pg_logins import app_login, app_password_for_migrate, owner_login

    s = settings(tmp_path, DATABASE_URL="postgresql://owner:secret@db.example:5433/qq")
    assert owner_login(s).user == "owner" and owner_login(s).password == "secret"
    assert app_login(s).user == "qinqing_app" and app_login(s).password is None  # before the first migrate
    password = app_password_for_migrate(s)
    assert len(password) >= 24 and (tmp_path / "database_app_password").stat().st_mode & 0o777 == 0o600
    assert app_password_for_migrate(s) == password  # kept, not regenerated
    login = app_login(s)
    assert (login.user, login.password, login.host, login.port, login.database) == \
           ("qinqing_app", password, "db.example", 5433, "qq")


def test_two_urls_the_application_never_needs_the_owners(tmp_path):
    from core.pg_logins import app_login, app_password_for_migrate, owner_login

    app_url = "postgresql://qinqing_app:app-pass@db.example/qq"
    s = settings(tmp_path, DATABASE_URL=app_url, DATABASE_OWNER_URL="postgresql://owner:secret@db.example/qq")
    assert (app_login(s).user, app_login(s).password) == ("qinqing_app", "app-pass")
    assert (owner_login(s).user, owner_login(s).password) == ("owner", "secret")
    assert app_password_for_migrate(s) == "app-pass"
    assert not (tmp_path / "database_app_password").exists()
    alone = settings(tmp_path, DATABASE_URL=app_url)  # an application process: no owner URL at all
    assert app_login(alone).password == "app-pass"
    with pytest.raises(ConfigError) as info:
        owner_login(alone)
    assert info.value.variable == "DATABASE_OWNER_URL"


def test_an_owner_url_with_a_database_url_not_naming_the_app_role_is_refused(tmp_path):
    with pytest.raises(ConfigError) as info:
        settings(tmp_path, DATABASE_URL="postgresql://owner@db/qq", DATABASE_OWNER_URL="postgresql://owner@db/qq")
    assert info.value.variable == "DATABASE_URL" and "DATABASE_APP_ROLE" in str(info.value)
    s = settings(tmp_path, DATABASE_URL="postgresql://web:pw@db/qq", DATABASE_OWNER_URL="postgresql://owner@db/qq",
                 DATABASE_APP_ROLE="web")
    assert s.app_role == "web"
    with pytest.raises(ConfigError) as info:
        settings(tmp_path, DATABASE_URL="postgresql://qinqing_app@db/qq", DATABASE_OWNER_URL="mysql://db/qq")
    assert info.value.variable == "DATABASE_OWNER_URL"


def test_sqlite_is_untouched(tmp_path):
    from piccolo.engine.sqlite import SQLiteEngine

    from core.db import make_engine

    s = settings(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert isinstance(make_engine(s), SQLiteEngine)
    assert not (tmp_path / "database_app_password").exists()


def test_every_table_outside_row_level_security_is_declared_and_named_in_the_readme():
    from core.grants import GLOBAL_TABLES
    from core.rls import global_tables

    undeclared = sorted(set(global_tables()) - set(GLOBAL_TABLES))
    assert not undeclared, f"add these to core.grants.GLOBAL_TABLES and the README: {undeclared}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Tables without row-level security", 1)[1].split("\n#", 1)[0]
    for name in global_tables():
        assert f"`{name}`" in section, name
