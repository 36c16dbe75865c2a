"""Bundled plugins; each is one package registered through the `qinqing.plugins` entry point."""

import core.sdk  # noqa: F401  (importing the core sets PICCOLO_CONF before any table import)
