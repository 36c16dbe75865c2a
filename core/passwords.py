"""The one path to a password hash.

On PostgreSQL the application role may not read `app_user.password_hash` (its SELECT is granted
on the other columns only, `core.grants`); the login reads one user's hash through
`app_user_password_hash(username)`, a `SECURITY DEFINER` function owned by the schema owner and
executable by the application role alone.  `SELECT password_hash FROM app_user` is refused, and so
is anything that would carry every hash out at once (`SELECT *`, a join, a tenant export as the
application).  On SQLite, which has no roles, the column is read directly.
"""

from __future__ import annotations

from core.db import is_postgres
from core.tables import User

FUNCTION = "app_user_password_hash"

# Created by `apply_rls` (as the owner, after every migration).  STRICT: NULL for a NULL name;
# search_path pinned so that no object the caller could create is found instead of the owner's.
DEFINE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION public.{FUNCTION}(name text) RETURNS text
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ SELECT password_hash FROM public.app_user WHERE username = name $$"""

READABLE = [c for c in User._meta.columns if c._meta.name != "password_hash"]
_SELECT = "SELECT {}, {}(username) AS password_hash FROM app_user WHERE username = {{}}".format(
    ", ".join(f'"{c._meta.db_column_name}"' for c in READABLE), FUNCTION)


async def user_for_login(username: str) -> User | None:
    """The user named `username` with its password hash, in one statement; None if there is none."""
    if not is_postgres():
        return await User.objects().where(User.username == username).first()
    rows = await User.raw(_SELECT, username)
    return User(**rows[0], _exists_in_db=True) if rows else None
