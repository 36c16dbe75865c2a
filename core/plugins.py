"""A typed facade over the pluggy plugin manager, with per-tenant enablement."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import os
from functools import cached_property
from typing import Any, Iterable

import pluggy

from core import hookspecs
from core.contrib import CaseAction, NavItem, PluginInfo, RoleDef, ScheduledJob, SettingDef, Widget

ENTRY_POINT_GROUP = "qinqing.plugins"
BUNDLED = ("plugins.mediation", "plugins.liaison", "plugins.cadre")
CORE_PLUGINS = ("core.builtin", "core.inspections")


class PluginManager:
    """The plugins known to this process; asks each only about tenants that enabled it."""

    def __init__(self, modules: Iterable[Any] | None = None, entry_points: bool = True):
        self.pm = pluggy.PluginManager("qinqing")
        self.pm.add_hookspecs(hookspecs)
        self._kept_navigation: dict[tuple, list[NavItem]] = {}
        for name in CORE_PLUGINS:
            self._register(importlib.import_module(name))
        if modules is None:
            modules = []
            if entry_points:
                for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                    modules.append(ep.load())
            loaded = {m.__name__ for m in modules}
            modules += [importlib.import_module(m) for m in BUNDLED if m not in loaded]
        for module in modules:
            self._register(module)

    def _register(self, module: Any) -> None:
        info = getattr(module, "qinqing_plugin_info")()
        if self.pm.get_plugin(info.name) is None:
            self.pm.register(module, name=info.name)
            self._kept_navigation.clear()

    # -- calling hooks per plugin ------------------------------------------------------------
    def _each(self, hook: str, only: set[str] | None = None, **kwargs) -> list[tuple[str, Any]]:
        out = []
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            if only is not None and impl.plugin_name not in only:
                continue
            args = {k: v for k, v in kwargs.items() if k in impl.argnames}
            result = impl.function(**args)
            if result is None:
                continue
            out.append((impl.plugin_name, result))
        return out

    def _merged(self, hook: str, only: set[str] | None = None, **kwargs) -> list[tuple[str, Any]]:
        return [(name, item) for name, items in self._each(hook, only, **kwargs) for item in items]

    # -- what is there --------------------------------------------------------------------
    @cached_property
    def infos(self) -> dict[str, PluginInfo]:
        return {name: info for name, info in self._each("qinqing_plugin_info")}

    def optional_names(self) -> list[str]:
        return sorted(n for n, i in self.infos.items() if i.optional)

    def enabled_for(self, tenant) -> set[str]:
        """Names of the plugins a tenant sees: the core ones plus those it enabled."""
        enabled = set(getattr(tenant, "plugins", ()) or ())
        return {n for n, i in self.infos.items() if not i.optional or n in enabled}

    def is_enabled(self, tenant, name: str) -> bool:
        return name in self.enabled_for(tenant)

    # -- contributions ----------------------------------------------------------------------
    def routes(self) -> list[tuple[PluginInfo, list]]:
        return [(self.infos[name], items) for name, items in self._each("qinqing_routes")]

    def api_routes(self) -> list[tuple[PluginInfo, list]]:
        return [(self.infos[name], items) for name, items in self._each("qinqing_api_routes")]

    def navigation(self, tenant, user) -> list[NavItem]:
        """The items `user` may use: those whose permission they hold; an optional module's item
        without a permission only for holders of one of that module's roles (模块菜单仅对其角色可见).
        Kept per tenant kind, enabled modules and the user's roles and permissions, which are all
        a navigation hook may answer from (every page asks); the list is shared, not to be changed."""
        key = (getattr(tenant, "id", None), getattr(tenant, "kind", None), getattr(tenant, "plugins", None),
               frozenset(getattr(user, "roles", ()) or ()), frozenset(getattr(user, "permissions", ()) or ()),
               user is None)
        kept = self._kept_navigation.get(key)
        if kept is None:
            if len(self._kept_navigation) >= 4096:
                self._kept_navigation.clear()
            kept = self._kept_navigation[key] = self._navigation(tenant, user)
        return kept

    def _navigation(self, tenant, user) -> list[NavItem]:
        held = set(getattr(user, "roles", ()) or ())
        items = [
            item
            for name, item in self._merged("qinqing_navigation", self.enabled_for(tenant), tenant=tenant, user=user)
            if ((user is not None and user.can(item.permission)) if item.permission is not None
                else (not self.infos[name].optional or any(self.role_plugin(r) == name for r in held)))
        ]
        return sorted(items, key=lambda i: (i.order, i.label))

    def widgets(self, tenant, user) -> list[Widget]:
        items = [
            item
            for _, item in self._merged("qinqing_dashboard_widgets", self.enabled_for(tenant), tenant=tenant, user=user)
            if item.permission is None or (user is not None and user.can(item.permission))
        ]
        return sorted(items, key=lambda w: (w.order, w.key))

    def case_actions(self, tenant, user, case) -> list[CaseAction]:
        """The links the tenant's enabled plugins offer on `case`'s page to `user`, by permission
        (each action's own `shown(case)` is for the caller to await), in order."""
        items = [
            item
            for _, item in self._merged("qinqing_case_actions", self.enabled_for(tenant), tenant=tenant, user=user,
                                        case=case)
            if item.permission is None or (user is not None and user.can(item.permission))
        ]
        return sorted(items, key=lambda a: (a.order, a.key))

    def public_sections(self, tenant) -> list[Widget]:
        """The sections the tenant's enabled plugins add to its public page, in order."""
        items = [item for _, item in self._merged("qinqing_public_sections", self.enabled_for(tenant), tenant=tenant)]
        return sorted(items, key=lambda w: (w.order, w.key))

    def screen_widgets(self, tenant) -> list[Widget]:
        """The cells the tenant's enabled plugins add to its big screen (大屏), in order."""
        items = [item for _, item in self._merged("qinqing_screen_widgets", self.enabled_for(tenant), tenant=tenant)]
        return sorted(items, key=lambda w: (w.order, w.key))

    @cached_property
    def roles(self) -> dict[str, RoleDef]:
        return {role.key: role for _, role in self._merged("qinqing_roles")}

    @cached_property
    def _role_plugins(self) -> dict[str, str]:
        return {role.key: name for name, role in self._merged("qinqing_roles")}

    def role_plugin(self, key: str) -> str | None:
        return self._role_plugins.get(key)

    def piccolo_apps(self) -> list[str]:
        return [app for _, app in self._merged("qinqing_piccolo_apps")]

    def template_dirs(self) -> list[str]:
        return [str(d) for _, d in self._merged("qinqing_template_dirs")]

    def static_dirs(self) -> list[tuple[str, str]]:
        return [(n, str(d)) for _, (n, d) in self._merged("qinqing_static_dirs")]

    def emit_case_event(self, tenant, event) -> list:
        """Tell the enabled plugins; returns the awaitables listeners gave back (an outbox write),
        which the caller awaits inside the transaction that recorded the event."""
        results = self._each("qinqing_case_event", self.enabled_for(tenant), tenant=tenant, event=event)
        return [result for _, result in results if inspect.isawaitable(result)]

    @cached_property
    def event_labels(self) -> dict[str, str]:
        labels: dict[str, str] = {}
        for _, contributed in self._each("qinqing_event_labels"):
            labels.update(contributed)
        return labels

    def actors(self) -> list:
        return [a for _, a in self._merged("qinqing_actors")]

    def scheduled_jobs(self) -> list[ScheduledJob]:
        return [j for _, j in self._merged("qinqing_scheduled_jobs")]

    def scheduled_jobs_by_plugin(self) -> list[tuple[str, ScheduledJob]]:
        """(plugin name, job) pairs: a per-tenant job runs for the tenants that enabled its plugin."""
        return self._merged("qinqing_scheduled_jobs")

    def demo_loaders(self, tenant) -> list[tuple[str, Any]]:
        return self._merged("qinqing_demo_data", self.enabled_for(tenant), tenant=tenant)

    def commands(self) -> list:
        """The plugins' `register(subparsers)` functions for the `qinqing` command."""
        return [register for _, register in self._merged("qinqing_commands")]

    @cached_property
    def setting_defs(self) -> dict[str, SettingDef]:
        return {s.key: s for _, s in self._merged("qinqing_tenant_settings")}


_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    global _manager
    if _manager is None:
        _manager = PluginManager(entry_points=os.environ.get("QINQING_NO_ENTRY_POINTS") != "1")
    return _manager


def set_plugin_manager(manager: PluginManager | None) -> None:
    global _manager
    _manager = manager
