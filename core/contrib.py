"""The structures plugins return through the hooks of :mod:`core.hookspecs`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable


@dataclass(frozen=True)
class PluginInfo:
    name: str
    title: str  # a msgid: translated when shown
    description: str = ""
    optional: bool = True


@dataclass(frozen=True)
class NavItem:
    label: str  # a msgid
    href: str  # relative to the tenant root, e.g. "mediation/"
    permission: str | None = None
    order: int = 100
    # The side navigation's area: "work" (办理), "oversight" (监督), "modules" (模块, a plugin's
    # default), "admin" (管理) or "account" (the top bar's user menu, not the side navigation).
    group: str = "modules"
    icon: str = ""  # a symbol of web/static/vendor/bootstrap-icons-*/icons.svg; empty: the area's


@dataclass(frozen=True)
class RoleDef:
    key: str
    label: str  # a msgid
    permissions: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Widget:
    key: str
    title: str  # a msgid
    template: str
    load: Callable[[Any, Any], Awaitable[dict]]
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class CaseEvent:
    """What happened to a case, as told to plugins."""

    tenant_id: int
    case_id: int
    action: str
    actor_id: int | None = None
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    interval_seconds: int
    run: Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class SettingDef:
    key: str
    label: str  # a msgid
    type: type = str
    default: Any = None
