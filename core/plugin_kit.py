"""Small helpers for writing a plugin: its landing page and its template folder."""

from __future__ import annotations

from pathlib import Path

from litestar import Request, get

from web.rendering import login_required, page


def templates_of(module_file: str) -> Path:
    return Path(module_file).resolve().parent / "templates"


def landing_page(name: str, template: str | None = None, permission_guard=login_required):
    """A `GET /` handler rendering `<name>/index.html` for the plugin's landing page."""

    @get("/", name=f"{name}_home", guards=[permission_guard])
    async def landing(request: Request) -> object:
        from core.plugins import get_plugin_manager

        return page(request, template or f"{name}/index.html", plugin_info=get_plugin_manager().infos[name])

    return landing
