"""The system console's page frame (系统控制台): every console page gets the administrator, the
tenant kinds and the job statuses besides the shared page context."""

from __future__ import annotations

from litestar import Request
from litestar.response import Template

from core.i18n import N_
from web.rendering import page
from web.system_auth import system_user

KIND_LABELS = {"district": N_("district"), "township": N_("township")}
JOB_STATUSES = {"queued": N_("Queued"), "running": N_("Running"), "done": N_("Done"), "failed": N_("Failed")}


def console_page(request: Request, template: str, status_code: int = 200, **context) -> Template:
    """A console page: the shared page context plus the administrator and the console's root."""
    return page(request, template, status_code=status_code, system_user=system_user(request), kinds=KIND_LABELS,
                job_statuses=JOB_STATUSES, **context)
