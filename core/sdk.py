"""The plugin SDK (插件开发接口): the one public surface a module imports from the core.

A plugin imports ``core.sdk`` and nothing else of the project (besides its own package, the
standard library and third-party libraries).  What is here is kept stable for third parties;
everything else in ``core``, ``web``, ``tenants`` and ``workers`` may change.

- the contract: :data:`hookimpl` and the structures the hooks return (``core.contrib``);
- tenant data: :func:`scoped`, :func:`tenant_fk`, :func:`current_tenant`, :func:`tenant_setting`;
- the core's records, to read and to point foreign keys at: ``Case``, ``Company``, ``User``, …;
- acting on the core: :func:`submit_case`, :func:`append_event`, :func:`notify`, :func:`enqueue`;
- background work: :func:`actor`, and ``ScheduledJob(per_tenant=True)`` for per-tenant jobs;
- pages and API routes: :func:`page`, :func:`current_user`, :func:`requires`, ``READ_ERRORS`` …
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from piccolo.table import Table

from core import hookspecs as _hookspecs, http as _http, scope as _scope
from core.cases import import_jobs, states as case_states
from core.cases.access import company_ids_of, company_users, members_with_role
from core.cases.audit import append_event
from core.cases.demo import load_demo_cases
from core.cases.import_jobs import job_view
from core.cases.inputs import parse
from core.cases.lifecycle import submit
from core.cases.tables import Case, Company, ImportJob, Refusal, Review
from core.clock import local_date, now, today
from core.contrib import (
    CaseAction,
    CaseEvent,
    NavItem,
    PluginInfo,
    RoleDef,
    ScheduledJob,
    SettingDef,
    Widget,
    WorkQueue,
)
from core.errors import UserError
from core.export_cells import xlsx_row
from core.filetypes import MAX_ATTACHMENT_BYTES as _MAX_ATTACHMENT_BYTES
from core.formats import yuan
from core.http import current_user, login_required, page, requires, upload_limit, uploaded_file
from core.i18n import N_, gettext
from core.inspections.service import exempt as exempt_inspection
from core.inspections.tables import Inspection
from core.jobs import actor
from core.notifications import notify
from core.outbox import enqueue
from core.paging import window as page_window
from core.plugins import get_plugin_manager
from core.roles import role_fits
from core.schema import indexes_step
from core.spreadsheets import ImportFileError, data_rows, header_key, read_table
from core.storage import get_file, put_file
from core.tables import Category, Department, Membership, User, tenant_fk
from core.tenant_settings import tenant_setting
from core.users import CurrentUser
from core.workdays import load_calendar

T = TypeVar("T", bound=Table)

__all__ = [
    # the contract
    "hookimpl", "PluginInfo", "NavItem", "RoleDef", "Widget", "WorkQueue", "CaseEvent", "ScheduledJob",
    "CaseAction", "SettingDef", "templates_of", "plugin_info", "enabled_roles",
    # tenant data
    "scoped", "tenant_fk", "current_tenant", "tenant_setting", "TenantContext", "indexes_step",
    # errors, translation, time
    "UserError", "N_", "gettext", "now", "today", "local_date", "load_calendar", "yuan",
    # the core's records (read them; point foreign keys at them)
    "Case", "Company", "User", "Department", "Membership", "Category", "Refusal", "Review", "Inspection",
    "ImportJob", "case_states", "company_ids_of", "company_users", "members_with_role",
    "liaison_company_ids",
    # acting on the core
    "submit_case", "append_event", "exempt_inspection", "notify", "enqueue", "actor", "parse",
    # files in and out
    "import_jobs", "job_view", "read_table", "data_rows", "header_key", "ImportFileError", "xlsx_row",
    "put_file", "get_file", "MAX_ATTACHMENT_BYTES",
    # pages and API routes
    "CurrentUser", "current_user", "login_required", "requires", "page", "READ_ERRORS", "WRITE_ERRORS",
    "upload_limit", "uploaded_file", "page_window",
    # demo data
    "load_demo_cases",
    # tenant links (a court and the districts it serves)
    "linked_tenants", "link_active", "has_linked_tenant", "tenant_by_slug", "in_tenant_scope", "register_company",
    # the hierarchy (a district and its townships)
    "child_tenants",
    # a case's attachments, for a module that passes some on (a referral)
    "case_attachments", "read_case_attachment", "download_disposition",
]


# -- the contract ----------------------------------------------------------------------------------

hookimpl = _hookspecs.hookimpl
"""Mark a function of the plugin as its implementation of a hook (``@hookimpl``)."""

TenantContext = _scope.TenantContext
"""A tenant as the hooks receive it: id, slug, kind, names, enabled plugins, settings."""

READ_ERRORS = _http.READ_ERRORS
"""``responses=`` of a reading API route: 400, 401, 403 and 404 as ``{code, message, details}``."""

WRITE_ERRORS = _http.WRITE_ERRORS
"""``responses=`` of a writing API route: the read errors plus 409 and 413."""

MAX_ATTACHMENT_BYTES = _MAX_ATTACHMENT_BYTES
"""The largest file (bytes) a case takes as an attachment and :func:`put_file` keeps (20 MB)."""


def templates_of(module_file: str) -> Path:
    """A plugin's template folder by convention: `<package>/templates` (templates under `<name>/`)."""
    return Path(module_file).resolve().parent / "templates"


def plugin_info(name: str) -> PluginInfo:
    """The `PluginInfo` a plugin (or the core) declared under `name`."""
    return get_plugin_manager().infos[name]


def enabled_roles(tenant: TenantContext) -> dict[str, RoleDef]:
    """The roles a tenant has, by key: the core's and those of the plugins it enabled, each only where
    its tenant kind has it (a court has no handler; a district no judge)."""
    manager = get_plugin_manager()
    enabled = manager.enabled_for(tenant)
    return {key: role for key, role in manager.roles.items()
            if manager.role_plugin(key) in enabled and role_fits(key, role.kinds, tenant.kind)}


# -- tenant data -----------------------------------------------------------------------------------

def scoped(table: type[T]) -> _scope.Scoped[T]:
    """Queries on `table` limited to the tenant in scope; inserts (`add`, `new`) carry its id."""
    return _scope.Scoped(table)


def current_tenant() -> TenantContext:
    """The tenant in scope (raises when there is none)."""
    return _scope.current_tenant()


# -- acting on the core ----------------------------------------------------------------------------

async def submit_case(user: CurrentUser, data: dict[str, Any]) -> Case:
    """File a case (提交诉求) as `user`: a company's own, or on a company's behalf by a user who holds
    ``case.submit_on_behalf`` (``data["company"]`` is its credit code); the same checks, record and
    notices as a submission through the core's pages."""
    return await submit(user, data)


async def liaison_company_ids(user_id: int) -> list[int]:
    """The ids of the companies whose named liaison (企业联络员) `user_id` is, sorted; a company
    member without the liaison flag is not counted."""
    from core.cases.tables import CompanyMember

    rows = await scoped(CompanyMember).select(CompanyMember.company).where(
        (CompanyMember.user == user_id) & (CompanyMember.is_liaison == True))  # noqa: E712
    return sorted({r["company"] for r in rows})


# -- tenant links ----------------------------------------------------------------------------------

async def linked_tenants(kind: str | None = None) -> list[TenantContext]:
    """The tenants the tenant in scope has an active link with (both sides declare it), of `kind`
    ("court", "district") if given: a district's courts, a court's districts."""
    from core.tenant_links import active_partners

    return await active_partners(current_tenant(), kind)


async def has_linked_tenant(kind: str) -> bool:
    """Whether the tenant in scope has an active link with a tenant of `kind` ("court"), as of a few
    seconds ago: for deciding what a page shows (a link to a form), never what a user may do —
    the action itself checks with :func:`link_active`."""
    from core.tenant_links import shows_partner

    return await shows_partner(current_tenant(), kind)


async def link_active(partner: str) -> bool:
    """Whether the link between the tenant in scope and the tenant `partner` (a slug) is active now."""
    from core.tenant_links import is_active

    return await is_active(current_tenant(), partner)


async def tenant_by_slug(slug: str) -> TenantContext | None:
    """A tenant of the registry by its slug (None if there is none)."""
    from core.tenant_registry import load_tenant

    return await load_tenant(slug)


def in_tenant_scope(tenant: TenantContext, write: bool = True):
    """Enter `tenant`'s scope in a transaction of its own (``async with``), for a plugin's commands
    and demo loaders; a request or message is already in its tenant's scope and never needs it."""
    return _scope.tenant_scope(tenant, write=write)


async def child_tenants() -> list[TenantContext]:
    """The active tenants directly below the tenant in scope (a district's townships), in registry
    order.  Read each only inside its own scope (``async with in_tenant_scope(child, write=False)``),
    as the district roll-up of the big screen does; never write into one."""
    from core.tenant_registry import Tenant

    rows = await Tenant.select().where((Tenant.parent == current_tenant().id) & (Tenant.active == True)).order_by(  # noqa: E712
        Tenant.id)
    return [TenantContext.from_row(r) for r in rows]


async def register_company(credit_code: str, name: str, **details: Any) -> tuple[Company, bool]:
    """Create or update a company of the tenant's registry by its unified credit code (统一社会信用代码);
    returns (company, created).  A bad code or name is a 400 naming the field."""
    from core.cases.companies import register_company as register

    return await register(credit_code, name, **details)


# -- a case's attachments --------------------------------------------------------------------------

async def case_attachments(case_id: int) -> list[dict[str, Any]]:
    """The attachments (附件) of case `case_id` of the tenant in scope, oldest first: id, filename,
    kind, mime, size (bytes) and sha256.  Call it only for a case the user may see."""
    from core.cases.tables import Attachment

    return await scoped(Attachment).select(
        Attachment.id, Attachment.filename, Attachment.kind, Attachment.mime, Attachment.size, Attachment.sha256,
    ).where(Attachment.case == case_id).order_by(Attachment.id)


async def read_case_attachment(case_id: int, attachment_id: int) -> tuple[dict[str, Any], bytes]:
    """One attachment of case `case_id` (its row, as :func:`case_attachments` gives it) and its
    content; 404 when the case has no such attachment in the tenant in scope."""
    from core.cases.attachments import read

    case = await scoped(Case).objects().where(Case.id == case_id).first()
    if case is None:
        raise UserError(404, "Not found.")
    return await read(case, attachment_id)


def download_disposition(filename: str) -> str:
    """The ``Content-Disposition`` header of a download named `filename` (any characters, safely)."""
    from core.cases.attachments import disposition

    return disposition(filename)
