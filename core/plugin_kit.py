"""Small helpers for writing a plugin."""

from __future__ import annotations

from pathlib import Path


def templates_of(module_file: str) -> Path:
    """A plugin's template folder by convention: `<package>/templates` (templates under `<name>/`)."""
    return Path(module_file).resolve().parent / "templates"
