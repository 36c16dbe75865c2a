"""The tenant a request or message runs in (当前租户): a context variable, set only by
`core.scope.tenant_scope` and read by the scoping layer and the prepared reads."""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass, field


class NoTenant(RuntimeError):
    """Tenant-owned data was touched outside a tenant scope."""


@dataclass(frozen=True)
class TenantContext:
    id: int
    slug: str
    name_zh: str
    name_en: str
    kind: str
    parent_id: int | None
    plugins: tuple[str, ...] = ()
    settings: dict = field(default_factory=dict)
    active: bool = True

    @classmethod
    def from_row(cls, row: dict) -> "TenantContext":
        return cls(
            id=row["id"],
            slug=row["slug"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            kind=row["kind"],
            parent_id=row.get("parent"),
            plugins=tuple(json.loads(row.get("plugins") or "[]")),
            settings=json.loads(row.get("settings") or "{}"),
            active=bool(row.get("active", True)),
        )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name_zh


_current: ContextVar[TenantContext | None] = ContextVar("current_tenant", default=None)


def current_tenant() -> TenantContext:
    tenant = _current.get()
    if tenant is None:
        raise NoTenant("no tenant in scope")
    return tenant


def current_tenant_or_none() -> TenantContext | None:
    return _current.get()
