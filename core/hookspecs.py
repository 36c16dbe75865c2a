"""The plugin contract (插件契约): every hook a module may implement.

A plugin is a module or package registered in the entry-point group ``qinqing.plugins``.  It
implements any of these hooks with ``@hookimpl``, under the same name and with any subset of the
parameters.  Contribution hooks return lists that the core merges; the core only asks a plugin
about a tenant that has enabled it, so a disabled plugin is invisible there.  Event hooks tell
plugins what happened; they are called only for tenants that enabled the plugin.  A plugin
imports all it needs from :mod:`core.sdk`, the structures and types named here included.

Each hook's docstring says what the core does with the answer and gives one example; the guide
is ``docs/plugins.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Protocol

import pluggy

if TYPE_CHECKING:  # the types a hook takes and returns; a plugin finds each in core.sdk
    from litestar.types import ControllerRouterHandler

    from core.contrib import (
        CaseAction,
        CaseEvent,
        NavItem,
        PluginInfo,
        RoleDef,
        ScheduledJob,
        SettingDef,
        Widget,
        WorkQueue,
    )
    from core.tenant_context import TenantContext
    from core.users import CurrentUser

hookspec = pluggy.HookspecMarker("qinqing")
hookimpl = pluggy.HookimplMarker("qinqing")

DemoLoader = Callable[[], Awaitable[Any]]
"""An async callable without arguments that loads demo data into the tenant in scope."""


class CaseRecord(Protocol):
    """A case as a hook receives it: a row of the core's ``Case`` (core.sdk), its fields as attributes."""

    @property
    def id(self) -> int: ...

    @property
    def company(self) -> int | None: ...


class Actor(Protocol):
    """An actor as :func:`core.sdk.actor` declares it: a name, an async function, its retries."""

    @property
    def name(self) -> str: ...

    @property
    def fn(self) -> Callable[..., Awaitable[Any]]: ...

    @property
    def max_retries(self) -> int: ...


@hookspec(firstresult=True)
def qinqing_plugin_info() -> PluginInfo:
    """Describe the plugin: its name, title, description and whether it is optional.

    ``name`` is the plugin's key in manifests (``plugins = [...]``) and URLs: its pages live under
    ``/t/<slug>/<name>/``.  A plugin with ``optional=False`` is part of the core and always on.
    Called once per plugin (by :class:`core.plugins.PluginManager`), not merged.

    Example::

        @hookimpl
        def qinqing_plugin_info():
            return PluginInfo("visits", N_("Company visits"), N_("Visits to companies and their follow-ups."))
    """


@hookspec
def qinqing_routes() -> list[ControllerRouterHandler]:
    """Return Litestar route handlers or controllers for the plugin's pages.

    Paths are relative: the core mounts them under ``/t/{tenant}/<plugin name>/`` (the core's own
    under ``/t/{tenant}/``).  Requests for a tenant that has not enabled the plugin answer 404
    before a handler runs.  A page renders in the shared layout with :func:`core.sdk.page`.

    Example::

        @get("/", name="visits_home", guards=[requires("visits.view")])
        async def home(request: Request) -> Template:
            return page(request, "visits/index.html", visits=await scoped(Visit).select())

        @hookimpl
        def qinqing_routes():
            return [home]
    """


@hookspec
def qinqing_api_routes() -> list[ControllerRouterHandler]:
    """Return Litestar handlers or controllers for the JSON API.

    They are mounted under ``/t/{tenant}/api/v1/<plugin name>/``: bearer-token authenticated
    (never cookies, so no CSRF), errors as ``{code, message, details}``, described in the OpenAPI
    schema (a msgspec body included), and 404 for a tenant that has not enabled the plugin.

    Example::

        class VisitIn(msgspec.Struct):
            company: int
            note: str

        @post("/visits", guards=[requires("visits.record")], responses=WRITE_ERRORS)
        async def record(data: JSONBody[VisitIn]) -> dict[str, int]:
            return {"id": (await scoped(Visit).add(company=data.company, note=data.note)).id}

        @hookimpl
        def qinqing_api_routes():
            return [record]
    """


@hookspec
def qinqing_navigation(tenant: TenantContext, user: CurrentUser | None) -> list[NavItem]:
    """Return ``NavItem``s for the side navigation of ``tenant`` as seen by ``user``.

    Each item names the permission it needs; the core drops items the user lacks. A plugin's items
    sit in the "modules" area (模块) unless they name another ``group``.  The answer is kept per
    tenant (its kind and modules) and per set of roles and permissions: answer from those alone.

    Example::

        @hookimpl
        def qinqing_navigation(tenant, user):
            return [NavItem(N_("Company visits"), "visits/", permission="visits.view", icon="journal-text")]
    """


@hookspec
def qinqing_roles() -> list[RoleDef]:
    """Return ``RoleDef``s: role keys with their translated label and their permissions.

    Role keys are global (a plugin's keys should be prefixed by its name); permissions are
    strings such as ``"visits.view"``.  Memberships (manifests, the tenant admin) refer to roles
    by key; a role counts only in tenants that enabled its plugin.

    Example::

        @hookimpl
        def qinqing_roles():
            return [RoleDef("visits_officer", N_("Visit officer"), frozenset({"visits.view", "visits.record"}))]
    """


@hookspec
def qinqing_piccolo_apps() -> list[str]:
    """Return dotted paths of Piccolo app modules (``"my_plugin.piccolo_app"``).

    Their tables and migrations join the schema; ``qinqing migrate`` runs them and puts row-level
    security on every table that has a ``tenant_id`` (:func:`core.sdk.tenant_fk`); ``qinqing
    tenant export``/``import`` carry those tables with the tenant.

    Example::

        @hookimpl
        def qinqing_piccolo_apps():
            return ["qinqing_visits.piccolo_app"]
    """


@hookspec
def qinqing_template_dirs() -> list[str | Path]:
    """Return folders of Jinja2 templates, searched after the core's.

    By convention a plugin keeps its templates in ``<package>/templates/<plugin name>/`` and
    returns ``<package>/templates`` (:func:`core.sdk.templates_of`); a page extends the shared
    layout with ``{% extends "base.html" %}``.

    Example::

        @hookimpl
        def qinqing_template_dirs():
            return [templates_of(__file__)]
    """


@hookspec
def qinqing_static_dirs() -> list[tuple[str, str | Path]]:
    """Return ``(name, folder)`` pairs; each folder is served at ``/static/<name>/``.

    Example::

        @hookimpl
        def qinqing_static_dirs():
            return [("visits", Path(__file__).parent / "static")]
    """


@hookspec
def qinqing_dashboard_widgets(tenant: TenantContext, user: CurrentUser | None) -> list[Widget]:
    """Return ``Widget``s for the tenant's dashboard as seen by ``user``.

    A widget has a key, a title, a template and an async ``load(tenant, user)`` giving the
    template's context; one that names a ``permission`` is shown only to users who hold it.

    Example::

        async def planned(tenant, user):
            return {"planned": await scoped(Visit).count().where(Visit.status == "planned")}

        @hookimpl
        def qinqing_dashboard_widgets(tenant, user):
            return [Widget("visits", N_("Planned visits"), "visits/_widget.html", planned, permission="visits.view")]
    """


@hookspec
def qinqing_public_sections(tenant: TenantContext) -> list[Widget]:
    """Return ``Widget``s: sections the plugin adds to the tenant's public page (``/t/<slug>/public/``).

    The page has no login: the core awaits ``load(tenant, None)`` in the tenant's scope and renders
    ``template`` with what it returns (plus the page's context: ``root``, ``csrf_input``, ``_()``),
    below the figures, ordered by ``order``; ``permission`` is ignored.  Return only what may be
    shown to anyone — never a company's, a staff member's or a case's detail the rules keep private.

    Example::

        async def announced(tenant, user):
            return {"visits_done": await scoped(Visit).count().where(Visit.status == "done")}

        @hookimpl
        def qinqing_public_sections(tenant):
            return [Widget("visits.public", N_("Company visits"), "visits/_public.html", announced)]
    """


@hookspec
def qinqing_screen_widgets(tenant: TenantContext) -> list[Widget]:
    """Return ``Widget``s: the plugin's cells on the tenant's big screen (大屏, ``/t/<slug>/screen/``).

    The core awaits ``load(tenant, None)`` in the tenant's scope on every refresh of the screen
    (its own scope only, not a township's) and renders each widget in a dark cell of the screen's
    grid, its title translated, in ``order``; ``permission`` is ignored (the screen needs
    ``screen.view``).  The template receives the loader's dict as ``data`` and may draw a chart
    with the core's macro (``{% from "screen/_chart.html" import chart with context %}``).  Show the same
    figures as the plugin's own figures page and API; the cell is small: a few large numerals and
    at most one chart.  A tenant whose plugins give none keeps the core screen unchanged.

    Example::

        async def visits_on_screen(tenant, user):
            return {"done": await scoped(Visit).count().where(Visit.status == "done")}

        @hookimpl
        def qinqing_screen_widgets(tenant):
            return [Widget("visits", N_("Company visits"), "visits/_screen.html", visits_on_screen, order=50)]
    """


@hookspec
def qinqing_case_event(tenant: TenantContext, event: CaseEvent) -> Awaitable[Any] | None:
    """Listen to a case event: ``event.action`` is a step (``submit``, ``dispatch``, ``resolve``,
    ``rate``, ``escalate`` …), with the case id, the acting user and the step's data.

    Called inside the transaction that recorded the event, in the tenant's scope: write follow-up
    work to the outbox (:func:`core.sdk.enqueue`), never call slow services here.  The hook is
    synchronous; a listener that must write returns the awaitable (e.g. the ``enqueue(...)``
    coroutine), which the core awaits in that same transaction; an error there undoes the step.

    Example::

        @hookimpl
        def qinqing_case_event(tenant, event):
            if event.action == "resolve":
                return enqueue("visits_plan_follow_up", case_id=event.case_id)
            return None
    """


@hookspec
def qinqing_case_actions(tenant: TenantContext, user: CurrentUser, case: CaseRecord) -> list[CaseAction]:
    """Return ``CaseAction``s: links the plugin offers on the page of ``case`` (a ``Case`` the user
    may see), each to the plugin's own page for that case.

    The core lists them in the case's action panel, below its own steps, for users who hold the
    action's ``permission``; an action with ``shown`` appears only when ``await shown(case)`` is
    true (read in the tenant's scope).  The linked page checks the user's rights again.

    Example::

        async def has_company(case):
            return case.company is not None

        @hookimpl
        def qinqing_case_actions(tenant, user, case):
            return [CaseAction("visits.plan", N_("Plan a visit"), f"visits/new?case={case.id}",
                               permission="visits.record", shown=has_company)]
    """


@hookspec
def qinqing_event_labels() -> dict[str, str]:
    """Return a dict of the actions this plugin writes on a case's record (``append_event``) to
    their labels (msgids), so the core's timeline names them in the reader's language.

    Example::

        @hookimpl
        def qinqing_event_labels():
            return {"visits_follow_up": N_("Follow-up visit planned")}
    """


@hookspec
def qinqing_actors() -> list[Actor]:
    """Return Dramatiq actors (declared with :func:`core.sdk.actor`), for :func:`core.sdk.enqueue`.

    An actor runs inside the message's tenant scope and takes JSON keyword arguments (ids, never
    objects); it must be idempotent: delivery is at least once.

    Example::

        @actor("visits_plan_follow_up")
        async def plan_follow_up(case_id: int) -> None:
            ...

        @hookimpl
        def qinqing_actors():
            return [plan_follow_up]
    """


@hookspec
def qinqing_scheduled_jobs() -> list[ScheduledJob]:
    """Return ``ScheduledJob``s: a name, an interval in seconds and an async function.

    The scheduler runs each job once per time slot across all processes (a single leader and a
    unique (job, slot) key).  With ``per_tenant=True`` it runs the function once inside the scope
    of every active tenant that enabled the plugin, so the job never loops over tenants itself;
    one tenant's failure is logged and does not stop the others.

    Example::

        @hookimpl
        def qinqing_scheduled_jobs():
            return [ScheduledJob("visits_overdue", 86400, flag_overdue_visits, per_tenant=True)]
    """


@hookspec
def qinqing_demo_data(tenant: TenantContext) -> list[DemoLoader]:
    """Return async callables that load demo data into ``tenant`` (called by ``qinqing demo``),
    asked only of tenants that enabled the plugin.

    Each is awaited inside the tenant's scope and must be idempotent.  ``@hookimpl(trylast=True)``
    runs after the core's loader, which fills the company registry.

    Example::

        @hookimpl(trylast=True)
        def qinqing_demo_data(tenant):
            return [load_demo_visits]
    """


@hookspec
def qinqing_tenant_settings() -> list[SettingDef]:
    """Return ``SettingDef``s: tenant settings with key, translated label, type and default.

    A tenant admin edits them (and a manifest's ``[settings]`` sets them); code reads them with
    :func:`core.sdk.tenant_setting`.  Keys are global: prefix them with the plugin's name.

    Example::

        @hookimpl
        def qinqing_tenant_settings():
            return [SettingDef("visits_follow_up_days", N_("Days after a resolution to visit again"), int, 14)]
    """


@hookspec
def qinqing_work_queue(tenant: TenantContext, user: CurrentUser) -> list[WorkQueue]:
    """Return ``WorkQueue``s: the plugin's share of ``user``'s work queue (我的待办) in ``tenant``.

    The core counts each (``count()``, in the tenant's scope) for the home page, the side
    navigation and ``GET /t/<slug>/api/v1/me/queue``; ``href`` opens the list filtered to exactly
    those items, so its count is the queue's.  Return only queues the user has a role for.

    Example::

        async def planned() -> int:
            return await scoped(Visit).count().where(Visit.status == "planned")

        @hookimpl
        def qinqing_work_queue(tenant, user):
            if not user.can("visits.record"):
                return []
            return [WorkQueue("visits.planned", N_("Visits to make"), "visits/?status=planned", planned)]
    """


@hookspec
def qinqing_commands() -> list[Callable[[Any], None]]:
    """Return functions that add the plugin's commands to ``qinqing``'s argparse subparsers.

    The CLI (``cli/``, the composition root) calls each with the subparsers object while building
    its parser; a command sets ``func`` (called with the parsed arguments).  Every installed plugin
    is asked, not per tenant: a command that acts on a tenant takes ``--tenant SLUG``.

    Example::

        def register(subparsers):
            p = subparsers.add_parser("visits", help="company visits (走访)")
            p.add_argument("--tenant", required=True)
            p.set_defaults(func=lambda args: print(args.tenant))

        @hookimpl
        def qinqing_commands():
            return [register]
    """
