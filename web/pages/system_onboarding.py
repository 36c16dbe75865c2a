"""Onboarding a district or township from the system console (控制台入驻): upload its manifest
(a file, or text pasted into the form), validate it — every problem listed, nothing applied — and
apply it as a background job whose progress the page polls with htmx.  The generated passwords
of new users are shown once, to the administrator who started the job; departments that cannot
staff their chain are listed as warnings when it is done."""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody
from litestar.response import Redirect, Template

from core.errors import UserError
from core.i18n import gettext
from tenants.manifest import ManifestError
from tenants.onboarding import validate
from tenants.onboarding_jobs import STEPS, job_progress, percent, recent_jobs, start_onboarding, take_passwords
from tenants.registry import load_tenant
from web.pages.console import console_page
from web.system_auth import SYSTEM_ROOT, system_admin_required, system_user

MAX_MANIFEST_BYTES = 256 * 1024


class ManifestUnreadable(Exception):
    """The upload is not a manifest at all: `status` and a translated `message`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


async def manifest_text(data: dict[str, Any]) -> str:
    """The manifest's text from the uploaded file, else from the text field; refuses what is
    empty, too large or not UTF-8 text."""
    upload = data.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read()
    else:
        text = data.get("text")
        raw = text.encode("utf-8") if isinstance(text, str) else b""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestUnreadable(413, gettext("The manifest is larger than %(size)s KB.",
                                              size=MAX_MANIFEST_BYTES // 1024))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ManifestUnreadable(400, gettext("The manifest is not UTF-8 text.")) from None
    if not text.strip():
        raise ManifestUnreadable(400, gettext("The manifest is empty: choose a file or paste its text."))
    return text.replace("\r\n", "\n")


def _summary(manifest, existing) -> dict:
    return {"manifest": manifest, "exists": existing is not None, "departments": len(manifest.departments),
            "categories": len(manifest.categories), "users": len(manifest.users)}


class OnboardingConsole(Controller):
    path = "/onboarding"
    guards = [system_admin_required]

    @get("/", name="system_onboarding")
    async def form(self, request: Request) -> Template:
        return await self._form(request)

    async def _form(self, request: Request, status_code: int = 200, **context) -> Template:
        jobs = await recent_jobs(10)
        context.setdefault("text", "")
        return console_page(request, "system/onboarding.html", status_code=status_code, jobs=jobs, **context)

    @post("/", name="system_onboarding_submit")
    async def submit(self, request: Request, data: MultipartBody[dict[str, Any]]) -> object:
        """`action=validate` shows the problems or a summary; `action=apply` starts the job."""
        try:
            text = await manifest_text(data)
        except ManifestUnreadable as bad:
            return await self._form(request, bad.status, error=bad.message)
        try:
            if data.get("action") == "apply":
                job_id = await start_onboarding(text, system_user(request).id)
                return Redirect(path=f"{SYSTEM_ROOT}onboarding/{job_id}", status_code=303)
            manifest = await validate(text)
        except ManifestError as exc:
            return await self._form(request, 400, text=text, problems=exc.problems)
        summary = _summary(manifest, await load_tenant(manifest.slug))
        return await self._form(request, text=text, summary=summary)

    @get("/{job_id:int}", name="system_onboarding_job")
    async def job(self, request: Request, job_id: FromPath[int]) -> Template:
        job = await job_progress(job_id)
        if job is None:
            raise UserError(404, "Not found.")
        passwords = await take_passwords(job_id, system_user(request).id)  # shown this once, then gone
        steps = list(STEPS)
        current = steps.index(job["step"]) if job["step"] in STEPS else 0
        step_states = [{"label": STEPS[key], "state": "done" if job["status"] == "done" or i < current else
                        ("current" if i == current and job["status"] != "failed" else "pending")}
                       for i, key in enumerate(steps)]
        problems = json.loads(job["problems"] or "[]")  # a failed job's; a done job's are staffing warnings
        return console_page(request, "system/job.html", fragment="system/_job.html", job=job,
                            percent=percent(job), steps=step_states, passwords=passwords,
                            problems=problems if job["status"] == "failed" else [],
                            shortfalls=problems if job["status"] == "done" else [],
                            starter=job["starter_name"] or "")
