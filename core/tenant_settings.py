"""A tenant's settings (租户设置), with the defaults the plugins declare."""

from __future__ import annotations

from typing import Any

from core.plugins import get_plugin_manager
from core.tenant_context import current_tenant


def tenant_setting(key: str, default: Any = None) -> Any:
    """A setting of the current tenant, falling back to the plugin-declared default."""
    tenant = current_tenant()
    if key in tenant.settings:
        return tenant.settings[key]
    definition = get_plugin_manager().setting_defs.get(key)
    return definition.default if definition is not None else default
