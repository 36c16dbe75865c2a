"""Tenants: the registry, resolution from host or path, scoping, manifests and onboarding."""

import core  # noqa: F401  (sets PICCOLO_CONF before any table import)
