"""The plugin contract (插件契约): every hook a module may implement.

A plugin is a module or package registered in the entry-point group ``qinqing.plugins``.  It
implements any of these hooks with ``@hookimpl``.  Contribution hooks return lists that the core
merges; the core only asks a plugin about a tenant that has enabled it, so a disabled plugin is
invisible there.  Event hooks tell plugins what happened; they are called only for tenants that
enabled the plugin.  A plugin imports all it needs from :mod:`core.sdk`, the structures included.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("qinqing")
hookimpl = pluggy.HookimplMarker("qinqing")


@hookspec(firstresult=True)
def qinqing_plugin_info():
    """Describe the plugin: return a ``PluginInfo`` (name, title, description, ``optional``).

    ``name`` is the plugin's key in manifests and URLs: its pages live under
    ``/t/<slug>/<name>/``.  A plugin with ``optional=False`` is part of the core and always on.
    (Called per plugin through :class:`core.plugins.PluginManager`, not merged.)
    """


@hookspec
def qinqing_routes():
    """Return a list of Litestar route handlers or controllers.

    Paths are relative: the core mounts them under ``/t/{tenant}/<plugin name>/`` (the core's own
    under ``/t/{tenant}/``).  Requests for a tenant that has not enabled the plugin answer 404
    before a handler runs.
    """


@hookspec
def qinqing_api_routes():
    """Return Litestar handlers or controllers for the JSON API.

    They are mounted under ``/t/{tenant}/api/v1/<plugin name>/``: bearer-token authenticated
    (never cookies, so no CSRF), errors as ``{code, message}``, described in the OpenAPI schema,
    and 404 for a tenant that has not enabled the plugin.
    """


@hookspec
def qinqing_navigation(tenant, user):
    """Return ``NavItem``s for the side navigation of ``tenant`` as seen by ``user``.

    Each item names the permission it needs; the core drops items the user lacks. A plugin's items
    sit in the "modules" area unless they name another ``group``.
    """


@hookspec
def qinqing_roles():
    """Return ``RoleDef``s: role keys with their translated label and their permissions.

    Role keys are global (a plugin's keys should be prefixed by its name); permissions are
    strings such as ``"mediation.view"``.  Memberships refer to roles by key.
    """


@hookspec
def qinqing_piccolo_apps():
    """Return dotted paths of Piccolo app modules (``"plugins.x.piccolo_app"``).

    Their tables and migrations join the schema; ``qinqing migrate`` runs them and puts
    row-level security on every table that has a ``tenant_id``.
    """


@hookspec
def qinqing_template_dirs():
    """Return folders of Jinja2 templates. By convention a plugin keeps its templates in
    ``<package>/templates/<plugin name>/`` and returns ``<package>/templates``."""


@hookspec
def qinqing_static_dirs():
    """Return ``(name, folder)`` pairs; each folder is served at ``/static/<name>/``."""


@hookspec
def qinqing_dashboard_widgets(tenant, user):
    """Return ``Widget``s for the tenant's dashboard as seen by ``user``.

    A widget has a title, a template and an async ``load(tenant, user)`` giving its context.
    """


@hookspec
def qinqing_case_event(tenant, event):
    """Listen to a case event (created, dispatched, refused, resolved, rated, escalated …).

    ``event`` is a ``CaseEvent``.  Called inside the transaction that recorded the event: write
    follow-up work to the outbox (:func:`core.sdk.enqueue`), never call slow services here.
    The hook is synchronous; a listener that must write may return the awaitable (e.g. the
    ``enqueue(...)`` coroutine), which the core awaits in that same transaction.
    """


@hookspec
def qinqing_event_labels():
    """Return a dict of the actions this plugin writes on a case's record (``append_event``) to
    their labels (msgids), so the core's timeline names them in the reader's language."""


@hookspec
def qinqing_actors():
    """Return Dramatiq actors (declared with :func:`core.sdk.actor`).

    Actors take IDs plus ``tenant_id`` and must be idempotent: delivery is at least once.
    """


@hookspec
def qinqing_scheduled_jobs():
    """Return ``ScheduledJob``s: a name, an interval in seconds and an async function.

    The scheduler runs each job once per time slot across all processes (a single leader and a
    unique (job, slot) key).
    """


@hookspec
def qinqing_demo_data(tenant):
    """Return async callables that load demo data into ``tenant`` (called by ``qinqing demo``).

    Each is awaited inside the tenant's scope and must be idempotent.
    """


@hookspec
def qinqing_tenant_settings():
    """Return ``SettingDef``s: tenant settings with key, type, default and translated label.

    A tenant admin edits them; code reads them with :func:`core.sdk.tenant_setting`.
    """
