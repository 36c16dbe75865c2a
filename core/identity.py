"""Identity (身份): who is asking — logins with their throttle and lock, sessions, API tokens, and
the user behind a session key or a token.  The web shell reads the cookie or header and calls here."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random
import secrets
import weakref
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Awaitable, Callable

from core import auth_cache
from core.clock import as_utc, now
from core.db import is_postgres
from core.i18n import N_, gettext
from core.passwords import user_for_login
from core.prepared import Prepared, together
from core.scope import TenantContext, current_tenant, scoped, tenant_scope
from core.tables import ApiToken, LoginThrottle, Membership, Session, User
from core.user_roles import MEMBERSHIP_COLUMNS, USER_FIELDS, user_with_roles
from core.users import CurrentUser, hash_password, verify_password

log = logging.getLogger(__name__)

SESSION_HOURS = 12
MAX_FAILURES = 5
LOCK_MINUTES = 15


class LoginRefused(Exception):
    """A login was refused: `status` (400, 401 or 429) and a translated `message`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


async def check_login(username: str, password: str, may_enter: Callable[[User], Awaitable[bool]]) -> User:
    """The user whose password this is and who `may_enter` here, or `LoginRefused`.

    Five failures in a row lock the username for 15 minutes — any username, known or not, so the
    answers (status, message, lock) and the time taken (an unknown name is checked against a dummy
    hash) do not tell whether an account exists.  The lock is checked before the slow password
    check, and again by the single statement that records the attempt (`_record`), so parallel
    guesses cannot count more than five failures or slip a right password in while locked.  The
    caller keeps the record (`keep_changes`) even though it answers with an error."""
    if not username or not password:
        raise LoginRefused(400, gettext("Enter your username and password."))
    async with _verify_slot():  # waiting for a slot, a burst of guesses may find the lock set meanwhile
        locked_until = await _locked_until(username)
        if locked_until is not None:
            raise LoginRefused(429, _locked_message(locked_until))
        user = await user_for_login(username)  # the hash through the owner's function (core.passwords)
        ok = await asyncio.to_thread(_password_matches, user, password)
    if user is not None and ok and user.active and await may_enter(user):
        if await _record(username, success=True) is None:  # locked meanwhile by a parallel guess
            raise LoginRefused(429, _locked_message(await _locked_until(username)))
        return user
    row = await _record(username, success=False)
    if row is None:
        raise LoginRefused(429, _locked_message(await _locked_until(username)))
    if row["locked_until"] is not None:  # this failure set the lock
        raise LoginRefused(429, _locked_message(as_utc(row["locked_until"])))
    raise LoginRefused(401, gettext("Wrong username or password."))


VERIFY_SLOTS = max(2, os.cpu_count() or 2)  # argon2 checks at once per process (each takes 64 MiB)
_slots: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = weakref.WeakKeyDictionary()


def _verify_slot() -> asyncio.Semaphore:
    """This event loop's semaphore bounding the password checks in flight (off the loop, in threads)."""
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        slot = _slots[loop] = asyncio.Semaphore(VERIFY_SLOTS)
    return slot


def _password_matches(user: User | None, password: str) -> bool:
    """In a worker thread: argon2 takes tens of milliseconds, and an unknown user costs the same."""
    return verify_password(user.password_hash if user else _dummy_hash(), password[:1024])


def _locked_message(until: datetime | None) -> str:
    minutes = LOCK_MINUTES if until is None else max(1, int((until - now()).total_seconds() // 60) + 1)
    return gettext("This account is locked after too many failed logins. Try again in %(minutes)s minutes.") % {
        "minutes": min(minutes, LOCK_MINUTES)}


async def _locked_until(username: str) -> datetime | None:
    """When the username's lock ends, if it is locked now."""
    rows = await LoginThrottle.raw("SELECT locked_until FROM login_throttle WHERE username = {}", username)
    until = as_utc(rows[0]["locked_until"]) if rows else None
    return until if until is not None and until > now() else None


# One statement records an attempt, and only if the username is not locked: an upsert whose update
# is conditioned on the lock.  On PostgreSQL a parallel attempt waits for the row and re-checks the
# condition on the committed row (READ COMMITTED re-evaluates an UPDATE's WHERE); on SQLite write
# transactions are serialised (BEGIN IMMEDIATE).  No row back: the username is locked.
# `{ts}` types a parameter that PostgreSQL cannot infer (SQLite needs no cast, and must not get one).
_FAILURE = f"""
INSERT INTO login_throttle (username, failures, locked_until, updated_at) VALUES ({{}}, {{}}, {{}}{{ts}}, {{}})
ON CONFLICT (username) DO UPDATE SET
    failures = CASE WHEN login_throttle.failures + 1 >= {MAX_FAILURES} THEN 0 ELSE login_throttle.failures + 1 END,
    locked_until = CASE WHEN login_throttle.failures + 1 >= {MAX_FAILURES} THEN {{}}{{ts}} ELSE NULL END,
    updated_at = {{}}
WHERE login_throttle.locked_until IS NULL OR login_throttle.locked_until <= {{}}
RETURNING failures, locked_until"""
_SUCCESS = """
INSERT INTO login_throttle (username, failures, locked_until, updated_at) VALUES ({}, 0, NULL, {})
ON CONFLICT (username) DO UPDATE SET failures = 0, locked_until = NULL, updated_at = {}
WHERE login_throttle.locked_until IS NULL OR login_throttle.locked_until <= {}
RETURNING failures, locked_until"""


async def _record(username: str, success: bool) -> dict | None:
    """Record a login attempt atomically; the row after it, or None if the username is locked."""
    at = now()
    if success:
        rows = await LoginThrottle.raw(_SUCCESS, username, at, at, at)
    else:
        lock = at + timedelta(minutes=LOCK_MINUTES)
        first_locks = MAX_FAILURES <= 1
        sql = _FAILURE.replace("{ts}", "::timestamptz" if is_postgres() else "")
        rows = await LoginThrottle.raw(sql, username, 0 if first_locks else 1, lock if first_locks else None,
                                       at, lock, at, at)
    if not success and random.random() < SWEEP_CHANCE:
        await _sweep(at)
    return rows[0] if rows else None


SWEEP_CHANCE = 0.01  # one failed login in a hundred also drops the rows of names left alone for a day
THROTTLE_MEMORY = timedelta(days=1)


async def _sweep(at: datetime) -> None:
    """Forget the failures of usernames (mostly unknown ones) not tried for a day and not locked."""
    await LoginThrottle.delete().where((LoginThrottle.updated_at < at - THROTTLE_MEMORY) & (
        LoginThrottle.locked_until.is_null() | (LoginThrottle.locked_until < at)))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing does not tell."""
    return hash_password("not-a-real-password")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


TOKEN_USE_RESOLUTION = timedelta(minutes=5)  # how finely a token's "last used" is kept


def _user_columns(fk):
    """The user's columns read through a foreign key, in the same query as the session or token."""
    return [getattr(fk, name).as_alias(f"user_{name}") for name in USER_FIELDS]


_SESSION = Prepared(lambda key_hash: scoped(Session).select(Session.id, Session.expires_at,
                                                           *_user_columns(Session.user)).where(
    Session.key_hash == key_hash), first=True)
_TOKEN = Prepared(lambda token_hash: scoped(ApiToken).select(ApiToken.id, ApiToken.last_used_at,
                                                            *_user_columns(ApiToken.user)).where(
    (ApiToken.token_hash == token_hash) & ApiToken.revoked_at.is_null()), first=True)
# The memberships of whoever holds the session or token, read in the same round trip as it.
_SESSION_MEMBERSHIPS = Prepared(lambda key_hash: scoped(Membership).select(*MEMBERSHIP_COLUMNS).where(
    Membership.user.is_in(scoped(Session).select(Session.user).where(Session.key_hash == key_hash))))
_TOKEN_MEMBERSHIPS = Prepared(lambda token_hash: scoped(Membership).select(*MEMBERSHIP_COLUMNS).where(
    Membership.user.is_in(scoped(ApiToken).select(ApiToken.user).where(ApiToken.token_hash == token_hash))))


def _user_of(row: dict) -> dict:
    return {name: row[f"user_{name}"] for name in USER_FIELDS}


async def user_from_session(key: str) -> tuple[CurrentUser | None, bool]:
    """Return (user, expired) for a session cookie value on the current tenant.  On PostgreSQL
    the session's rows are kept between requests while the tenant's version stays the one read."""
    entry = await _holder("session", digest(key), _SESSION, _SESSION_MEMBERSHIPS, "expires_at")
    if entry is None:
        return None, False
    if entry.moment is None or as_utc(entry.moment) <= now():  # the column is NOT NULL
        _note_upkeep("session", entry.row_id, None)
        return None, True
    return user_with_roles(entry.user, entry.memberships, "session", entry.row_id), False


async def user_from_token(token: str) -> CurrentUser | None:
    """The user behind an API token of the current tenant; kept as sessions are."""
    entry = await _holder("token", digest(token), _TOKEN, _TOKEN_MEMBERSHIPS, "last_used_at")
    if entry is None:
        return None
    used = now()
    if entry.moment is None or used - as_utc(entry.moment) >= TOKEN_USE_RESOLUTION:
        _note_upkeep("token", entry.row_id, used)
        entry.moment = used  # written after the request (`write_upkeep`)
    return user_with_roles(entry.user, entry.memberships, "token", None)


async def _holder(kind: str, key_hash: str, holder: Prepared, memberships: Prepared,
                  moment: str) -> auth_cache.Entry | None:
    """Who holds the token or session `key_hash`: kept (`core.auth_cache`), or read in one round trip."""
    tenant_id = current_tenant().id
    version = auth_cache.version(tenant_id)
    entry = auth_cache.kept(tenant_id, kind, key_hash, version) if version is not None else None
    if entry is None:
        row, rows = await together(holder.bind(key_hash), memberships.bind(key_hash))
        if row is None:
            return None
        entry = auth_cache.Entry(version=version or 0, row_id=row["id"], moment=row[moment], user=_user_of(row),
                                 memberships=rows)
        if version is not None:
            auth_cache.keep(tenant_id, kind, key_hash, entry)
    return entry


# Bookkeeping seen while reading who is asking — a token's last use, an expired session to drop —
# written after the request, in a transaction of its own: a read request never writes (on SQLite
# a write inside a read transaction fails with "database is locked" under concurrency), and a
# request that ends in an error does not undo it.
_upkeep: dict[int, tuple[TenantContext, dict[tuple[str, int], object]]] = {}  # tenant id → (tenant, notes)


def _note_upkeep(kind: str, row_id: int, value) -> None:
    tenant = current_tenant()
    _upkeep.setdefault(tenant.id, (tenant, {}))[1][(kind, row_id)] = value


async def write_upkeep() -> None:
    """Write what `user_from_token`/`user_from_session` noted; best effort (a lost "last used"
    time is noted again on the token's next use), never raised to the caller."""
    while _upkeep:
        _, (tenant, notes) = _upkeep.popitem()
        try:
            async with tenant_scope(tenant, write=True):
                for (kind, row_id), value in sorted(notes.items(), key=lambda item: item[0]):
                    if kind == "token":
                        await scoped(ApiToken).update({ApiToken.last_used_at: value}).where(ApiToken.id == row_id)
                    else:
                        await scoped(Session).delete().where(Session.id == row_id)
        except Exception:  # noqa: BLE001 - bookkeeping only; the next use notes it again
            log.warning("could not record token use or session expiry for %s", tenant.slug, exc_info=True)


async def start_session(user_id: int) -> str:
    key = secrets.token_urlsafe(32)
    await scoped(Session).add(key_hash=digest(key), user=user_id, expires_at=now() + timedelta(hours=SESSION_HOURS))
    return key


async def end_session(session_id: int) -> None:
    await scoped(Session).delete().where(Session.id == session_id)


async def create_token(user_id: int, name: str) -> str:
    """Create an API token for the user on the current tenant; returns the secret once."""
    from core.notifications import notify

    secret = "qq_" + secrets.token_urlsafe(32)
    await scoped(ApiToken).add(user=user_id, name=name, token_hash=digest(secret), prefix=secret[:10])
    await notify(user_id, "token_created", N_("A new API token “%(name)s” was created for your account."),
                 link="profile/", name=name)
    return secret
