"""Which PostgreSQL login a command uses: the schema owner's for `qinqing migrate` (and
`tenant export`, which carries password hashes), the application role's for everything else.

Two ways to configure it:

- one URL: `DATABASE_URL` is the owner's.  `qinqing migrate` makes the application role a login
  with a generated password kept in `<var>/database_app_password`; every other command logs in as
  that role, with that password, to the same server and database.
- two URLs: `DATABASE_URL` logs in as the application role (`postgresql://qinqing_app:PASS@…`)
  and `DATABASE_OWNER_URL` as the owner, needed only where migrate runs; migrate gives the role
  the password in `DATABASE_URL`.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from pathlib import Path

from core.config import ConfigError, DatabaseURL, Settings

PASSWORD_FILE = "database_app_password"


def password_file(settings: Settings) -> Path:
    return settings.var_dir / PASSWORD_FILE


def names_app_role(settings: Settings) -> bool:
    """Whether `DATABASE_URL` itself is the application's login (the two-URL set-up)."""
    return settings.database.user == settings.app_role


def owner_login(settings: Settings) -> DatabaseURL:
    if settings.owner_database is not None:
        return settings.owner_database
    if names_app_role(settings):
        raise ConfigError("DATABASE_OWNER_URL", f"unset, and DATABASE_URL logs in as the application role "
                                                f"{settings.app_role!r}: this command needs the schema owner's URL")
    return settings.database


def app_login(settings: Settings) -> DatabaseURL:
    if names_app_role(settings):
        return settings.database
    path = password_file(settings)
    password = path.read_text().strip() if path.exists() else None
    return replace(settings.database, user=settings.app_role, password=password or None)


def app_password_for_migrate(settings: Settings) -> str | None:
    """The password migrate gives the application role: `DATABASE_URL`'s (two URLs; None leaves
    the role's password as it is), or the one in the var directory, generated the first time."""
    if names_app_role(settings):
        return settings.database.password
    path = password_file(settings)
    if path.exists() and path.read_text().strip():
        return path.read_text().strip()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    path.write_text(password)
    path.chmod(0o600)
    return password
