"""`qinqing`: the parser made of every app's commands, and `main`."""

from __future__ import annotations

import argparse
import os

from cli import attachment_commands, calendar_commands, core_commands, tenant_commands, web_commands, worker_commands
from cli.common import fail, settings
from core.config import ConfigError

# In the order `qinqing --help` lists them.
APPS = (web_commands, worker_commands, core_commands, tenant_commands, attachment_commands, calendar_commands)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qinqing", description="亲清 — government–enterprise accountability platform")
    sub = parser.add_subparsers(dest="command", required=True)
    for app in APPS:
        app.register(sub)
    for register in _plugin_commands():
        register(sub)
    return parser


def _plugin_commands() -> list:
    """The installed plugins' commands (`qinqing_commands`), e.g. `qinqing mediation sweep`."""
    from core.plugins import get_plugin_manager

    return get_plugin_manager().commands()


def main(argv: list[str] | None = None) -> None:
    import warnings

    # Piccolo warns on its own when the database is unreachable; we say it once, naming the variable.
    warnings.filterwarnings("ignore", message=".*Unable to connect to database")
    args = build_parser().parse_args(argv)
    if args.command == "migrate" or (args.command == "tenant" and args.tenant_command == "export"):
        os.environ["QINQING_DB_OWNER"] = "1"  # the schema owner's login; an export carries password hashes
    try:
        settings()
        args.func(args)
    except ConfigError as exc:
        fail(str(exc))


if __name__ == "__main__":
    main()
