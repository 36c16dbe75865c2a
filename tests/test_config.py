"""Configuration: defaults, the secret key kept in var/, and wrong values named in one line."""

import os
import subprocess
import sys

import pytest

from core.config import ConfigError, load_settings
from tests.conftest import ROOT


def test_defaults_are_the_embedded_setup(tmp_path):
    settings = load_settings({"QINQING_VAR_DIR": str(tmp_path)})
    assert settings.database.engine == "sqlite" and settings.database.path.name == "qinqing.db"
    assert settings.broker_url is None and settings.broker_kind == "stub"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    again = load_settings({"QINQING_VAR_DIR": str(tmp_path)})
    assert again.secret_key == settings.secret_key and len(settings.secret_key) >= 32


def test_templates_are_read_once_unless_reloading_is_asked_for(tmp_path):
    from core.plugins import get_plugin_manager
    from web.app import _jinja_env

    assert load_settings({"QINQING_VAR_DIR": str(tmp_path)}).template_reload is False
    assert load_settings({"QINQING_VAR_DIR": str(tmp_path), "TEMPLATE_RELOAD": "on"}).template_reload is True
    for reload in (False, True):
        env = _jinja_env(get_plugin_manager(), reload)
        template = env.get_template("base.html")
        assert env.auto_reload is reload and env.get_template("base.html") is template


def test_postgres_and_broker_urls_parse(tmp_path):
    s = load_settings({"QINQING_VAR_DIR": str(tmp_path), "DATABASE_URL": "postgresql://app:pw@db.example:6543/qq",
                       "BROKER_URL": "amqp://guest:guest@127.0.0.1:5672/"})
    assert (s.database.engine, s.database.host, s.database.port, s.database.database) == ("postgres", "db.example", 6543, "qq")
    assert s.broker_kind == "amqp"


@pytest.mark.parametrize("env, variable", [
    ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
    ({"DATABASE_URL": "sqlite:///:memory:"}, "DATABASE_URL"),
    ({"BROKER_URL": "kafka://x"}, "BROKER_URL"),
    ({"PORT": "eighty"}, "PORT"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"TEMPLATE_RELOAD": "sometimes"}, "TEMPLATE_RELOAD"),
])
def test_wrong_values_name_the_variable(tmp_path, env, variable):
    with pytest.raises(ConfigError) as info:
        load_settings({"QINQING_VAR_DIR": str(tmp_path), **env})
    assert info.value.variable == variable


@pytest.mark.parametrize("env, variable", [
    ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
    ({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, "DATABASE_URL"),
])
def test_start_up_stops_with_one_clear_line(tmp_path, env, variable):
    environ = {**os.environ, "QINQING_VAR_DIR": str(tmp_path), **env}
    done = subprocess.run([sys.executable, "-m", "cli", "serve", "--port", "8999"], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {variable}:"), done.stderr
