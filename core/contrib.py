"""The structures plugins return through the hooks of :mod:`core.hookspecs`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable


@dataclass(frozen=True)
class PluginInfo:
    """A plugin's name (its key in manifests and URLs), title, description and whether it is optional."""

    name: str
    title: str  # a msgid: translated when shown
    description: str = ""
    optional: bool = True


@dataclass(frozen=True)
class NavItem:
    """An entry of the side navigation, shown to users who hold its permission."""

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
    """A role: its key (memberships refer to it), its label and the permissions it grants."""

    key: str
    label: str  # a msgid
    permissions: frozenset[str] = field(default_factory=frozenset)
    kinds: frozenset[str] = frozenset()  # the tenant kinds that have the role ("court"); empty: every kind but a court


@dataclass(frozen=True)
class Widget:
    """A dashboard card: a template filled by the async `load(tenant, user)`."""

    key: str
    title: str  # a msgid
    template: str
    load: Callable[[Any, Any], Awaitable[dict]]
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class CaseAction:
    """A link a plugin offers on a case's page (案件页操作), leading to its own page for that case.

    ``href`` is relative to the tenant root (e.g. ``"mediation/refer?case=12"``); shown only to
    users who hold ``permission`` and, when ``shown`` is given, only if ``await shown(case)`` is true.
    """

    key: str  # "<plugin>.<name>"
    label: str  # a msgid
    href: str
    permission: str | None = None
    shown: Callable[[Any], Awaitable[bool]] | None = None
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
    """A job the scheduler runs once per `interval_seconds` slot across all processes.

    With `per_tenant=True` the scheduler runs `run()` once inside the scope of every active tenant
    that enabled the declaring plugin (the core's are always on); a tenant that fails is logged and
    does not stop the others, and the run is recorded as failed.  With `in_steps=True` too, `run()`
    gets the tenant named but no transaction, and opens its own scopes: a long job then never holds
    the tenant's one SQLite writer for its whole run.
    """

    name: str
    interval_seconds: int
    run: Callable[[], Awaitable[Any]]
    per_tenant: bool = False
    in_steps: bool = False


@dataclass(frozen=True)
class SettingDef:
    """A tenant setting: key, label, type and default; read with `tenant_setting(key)`."""

    key: str
    label: str  # a msgid
    type: type = str
    default: Any = None


@dataclass(frozen=True)
class WorkQueue:
    """One queue of a user's work (待办), as ``qinqing_work_queue`` returns it.

    ``href`` is relative to the tenant root and opens the list filtered to exactly these items
    (its count must equal ``count()``); ``mine`` says the user is the one to act (待我办理), not
    only watching: those come first, then by ``order``.  ``hint`` (a msgid) says what appears
    here and how, shown while the count is 0.
    """

    key: str  # unique across plugins: "<plugin>.<name>", e.g. "liaison.follow_ups_due"
    label: str  # a msgid
    href: str  # e.g. "liaison/?show=follow_ups"
    count: Callable[[], Awaitable[int]]
    mine: bool = True
    order: int = 100
    hint: str = ""
