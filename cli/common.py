"""What the commands share: failing with a message, the settings, the database check, logging."""

from __future__ import annotations

import sys
from typing import NoReturn


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def settings():
    from core.config import get_settings

    return get_settings()


async def check_database() -> None:
    from core.db import check_reachable, current_engine

    await check_reachable(current_engine())


def configure_logging(settings) -> None:
    from core.observability import configure_logging

    configure_logging(settings.log_format, settings.log_level)


def demo_password() -> tuple[str, bool]:
    """The demo accounts' password and whether it was generated (kept in var/demo_password)."""
    current = settings()
    if current.demo_password:
        return current.demo_password, False
    path = current.var_dir / "demo_password"
    if path.exists():
        return path.read_text().strip(), True
    import secrets

    password = secrets.token_urlsafe(9)
    current.var_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(password)
    path.chmod(0o600)
    return password, True
