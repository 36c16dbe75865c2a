"""Who acts (当前用户): a signed-in user as the domain sees them, with their roles in one tenant;
and their passwords, hashed with argon2."""

from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2 hash of `password`, to store."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches the stored hash (False for a malformed hash)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass
class CurrentUser:
    """The user a request or job acts for: their roles and permissions in the current tenant."""

    id: int
    username: str
    display_name: str
    locale: str
    roles: set[str] = field(default_factory=set)
    permissions: set[str] = field(default_factory=set)
    department_ids: set[int] = field(default_factory=set)
    via: str = "session"
    session_id: int | None = None
    system_admin: bool = False  # may also use the system console (系统控制台)

    def can(self, permission: str) -> bool:
        """Whether the user holds `permission` here."""
        return permission in self.permissions

    def has_role(self, *roles: str) -> bool:
        """Whether the user holds any of `roles` here."""
        return bool(self.roles.intersection(roles))
