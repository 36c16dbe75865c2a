"""Onboarding from the system console (控制台入驻), in the background with progress.

`start_onboarding` validates the manifest whole (every problem listed, nothing stored) and queues
the job through the outbox.  The actor then applies it step by step, each step its own
transaction and its own message, so the console can show how far it got: the registry entry,
departments and sections, the dispatch catalogue, users in chunks, activation.  A new tenant is
created inactive and switched on by the last step, so nobody sees it half-built; every step is
an idempotent upsert, and a redelivered message is a no-op.
"""

from __future__ import annotations

import json

from core.cases.staffing import shortfalls
from core.clock import now
from core.db import write_transaction
from core.i18n import N_
from core.jobs import actor
from core.outbox import enqueue
from core.tables import OnboardingJob
from tenants.manifest import Manifest, ManifestError, parse_manifest
from tenants.onboarding import (
    apply_categories,
    apply_companies,
    apply_departments,
    apply_users,
    catalogue_ids,
    register_tenant,
    validate,
)
from tenants.scope import current_tenant
from tenants.tables import Tenant

USER_CHUNK = 10
STEPS = {  # in order; labels are msgids
    "registry": N_("Registry entry"),
    "departments": N_("Departments and sections"),
    "categories": N_("Dispatch catalogue"),
    "users": N_("Users and roles"),
    "finish": N_("Activation"),
}


def total_units(m: Manifest) -> int:
    """Units of progress: one per department, category and user, and one each to begin and end."""
    return 2 + len(m.departments) + len(m.categories) + len(m.users)


def percent(job: dict) -> int:
    if job["status"] == "done":
        return 100
    return min(99, 100 * job["done_units"] // max(1, job["total_units"]))


async def start_onboarding(text: str, user_id: int) -> int:
    """Validate `text` and queue its application; returns the job id (ManifestError if rejected)."""
    manifest = await validate(text)
    async with write_transaction():
        job = OnboardingJob(slug=manifest.slug, manifest=text, status="queued", step="registry",
                            total_units=total_units(manifest), created_by=user_id)
        await job.save()
        await enqueue("onboard_tenant", tenant_id=None, job_id=job.id, step="registry", offset=0)
    return job.id


async def _next(job: OnboardingJob, step: str, tenant_id: int, offset: int = 0) -> None:
    job.step = step
    await enqueue("onboard_tenant", tenant_id=tenant_id, job_id=job.id, step=step, offset=offset)


@actor("onboard_tenant")
async def onboard_tenant(job_id: int, step: str, offset: int = 0) -> None:
    job = await OnboardingJob.objects().where(OnboardingJob.id == job_id).first()
    if job is None or job.status in ("done", "failed"):
        return
    job.status = "running"
    if step == "registry":  # outside any tenant: the tenant may not exist yet
        try:
            manifest = await validate(job.manifest)  # again: the registry may have changed since
        except ManifestError as exc:
            job.status, job.finished_at, job.manifest = "failed", now(), ""
            job.problems = json.dumps([p.as_dict() for p in exc.problems], ensure_ascii=False)
            await job.save()
            return
        tenant, job.created = await register_tenant(manifest, active_if_new=False)
        job.done_units += 1
        await _next(job, "departments", tenant.id)
        await job.save()
        return
    manifest = parse_manifest(job.manifest)  # in the new tenant's scope from here on
    tenant_id = current_tenant().id
    if step == "departments":
        await apply_departments(manifest)
        job.done_units += len(manifest.departments)
        await _next(job, "categories", tenant_id)
    elif step == "categories":
        departments, _ = await catalogue_ids()
        await apply_categories(manifest, departments)
        await apply_companies(manifest)  # before the users linked to them
        job.done_units += len(manifest.categories)
        await _next(job, "users", tenant_id)
    elif step == "users":
        chunk = manifest.users[offset:offset + USER_CHUNK]
        departments, sections = await catalogue_ids()
        passwords = json.loads(job.passwords or "{}")
        await apply_users(chunk, departments, sections, None, passwords)
        job.passwords = json.dumps(passwords, ensure_ascii=False)
        job.done_units += len(chunk)
        if offset + USER_CHUNK < len(manifest.users):
            await _next(job, "users", tenant_id, offset + USER_CHUNK)
        else:
            await _next(job, "finish", tenant_id)
    elif step == "finish":
        if job.created:
            await Tenant.update({Tenant.active: True}).where(Tenant.id == tenant_id)
        # Warnings, not errors (a district may add its staff later): kept where problems are.
        job.problems = json.dumps([w.as_dict() for w in await shortfalls()], ensure_ascii=False)
        job.status, job.done_units, job.finished_at = "done", job.total_units, now()
        job.manifest = ""  # it may carry passwords: kept no longer than needed
    await job.save()


ACTORS = [onboard_tenant]


async def recent_jobs(limit: int = 10, slug: str = "") -> list[dict]:
    """The onboarding jobs started last (of one tenant's slug, when given), newest first: id, slug,
    status and start."""
    query = OnboardingJob.select(OnboardingJob.id, OnboardingJob.slug, OnboardingJob.status, OnboardingJob.created_at)
    if slug:
        query = query.where(OnboardingJob.slug == slug)
    return await query.order_by(OnboardingJob.id, ascending=False).limit(limit)


async def job_progress(job_id: int) -> dict | None:
    """One onboarding job as its page shows it, with who started it (``starter_name``)."""
    return await OnboardingJob.select(
        OnboardingJob.id, OnboardingJob.slug, OnboardingJob.status, OnboardingJob.step, OnboardingJob.done_units,
        OnboardingJob.total_units, OnboardingJob.created, OnboardingJob.problems, OnboardingJob.passwords,
        OnboardingJob.created_by, OnboardingJob.created_at, OnboardingJob.finished_at,
        OnboardingJob.created_by.display_name.as_alias("starter_name"),
    ).where(OnboardingJob.id == job_id).first()


async def take_passwords(job_id: int, user_id: int) -> dict[str, str]:
    """The new users' generated passwords, for the job's starter, once: read, then cleared only if
    still the same, so two pages opened at once show them on one of them."""
    row = await OnboardingJob.select(OnboardingJob.passwords).where(
        (OnboardingJob.id == job_id) & (OnboardingJob.status == "done") & (OnboardingJob.created_by == user_id)).first()
    if row is None or row["passwords"] in (None, "", "{}"):
        return {}
    claimed = await OnboardingJob.update({OnboardingJob.passwords: "{}"}).where(
        (OnboardingJob.id == job_id) & (OnboardingJob.passwords == row["passwords"])).returning(OnboardingJob.id)
    return json.loads(row["passwords"]) if claimed else {}
