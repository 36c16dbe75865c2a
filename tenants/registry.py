"""Looking tenants up in the registry: `core.tenant_registry`, named here for the shells."""

from core.tenant_registry import Tenant, all_tenants, load_tenant, load_tenant_by_id

__all__ = ["Tenant", "all_tenants", "load_tenant", "load_tenant_by_id"]
