"""Bundled plugins; each is one package registered through the `qinqing.plugins` entry point."""

import core  # noqa: F401  (sets PICCOLO_CONF before any table import)
