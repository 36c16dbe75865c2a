"""The tenant registry's table (租户), defined in the data layer (`core.tenant_registry`)."""

from core.tenant_registry import Tenant

__all__ = ["Tenant"]
