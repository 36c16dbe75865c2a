"""The tenant registry's tables (租户), defined in the data layer: the registry itself
(`core.tenant_registry`) and the links between tenants (`core.tenant_links`)."""

from core.tenant_links import TenantLink
from core.tenant_registry import Tenant

__all__ = ["Tenant", "TenantLink"]
