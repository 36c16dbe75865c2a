"""The module's cell on the big screen (大屏): the reform in figures (materials 24 → 7, working days
15 → 1), approvals granted within the committed time, acceptances with materials missing (容缺),
one-thing bundles completed and projects by their current stage — all as the figures page and
``GET …/approvals/figures`` compute them."""

from __future__ import annotations

from plugins.approvals.figures import figures

SHOWN = ("reform", "projects", "granted", "on_time", "waived", "bundles_completed", "by_stage")


async def screen_figures(tenant, user) -> dict:
    """The figures the cell shows, taken from the module's figures unchanged."""
    data = await figures()
    return {key: data[key] for key in SHOWN}
