"""Background work: broker set-up, the outbox relay, the scheduler and actor discovery."""

import core  # noqa: F401  (sets PICCOLO_CONF before any table import)
