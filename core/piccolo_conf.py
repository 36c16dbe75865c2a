"""Piccolo configuration: the engine from `DATABASE_URL`, the apps from core, tenants and plugins."""

from piccolo.conf.apps import AppRegistry

from core.db import make_engine

DB = make_engine()


def _apps() -> list[str]:
    from core.plugins import get_plugin_manager

    apps = ["tenants.piccolo_app", "core.piccolo_app"]
    for app in get_plugin_manager().piccolo_apps():
        if app not in apps:
            apps.append(app)
    return apps


APP_REGISTRY = AppRegistry(apps=_apps())
