"""Tenant scoping (租户隔离): `core.scope` and `core.tenant_context` in the data layer, named
here for the shells (web, workers) and the tests; the core imports them from there."""

from core.scope import Scoped, TenantTransaction, is_tenant_owned, scoped, tenant_named, tenant_scope
from core.tenant_context import NoTenant, TenantContext, _current, current_tenant, current_tenant_or_none
from core.tenant_settings import tenant_setting

__all__ = ["NoTenant", "TenantContext", "_current", "current_tenant", "current_tenant_or_none", "tenant_scope",
           "tenant_named", "TenantTransaction", "is_tenant_owned", "Scoped", "scoped", "tenant_setting"]
