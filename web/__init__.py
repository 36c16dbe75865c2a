"""The web shell: Litestar app factory, auth, guards, templates, static assets, i18n."""

import core  # noqa: F401  (sets PICCOLO_CONF before any table import)
