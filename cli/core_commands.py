"""The core's commands: `qinqing migrate`, `qinqing audit verify|anchor`, `qinqing user create|token`."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from cli.common import check_database, fail, settings


async def migrate() -> list[str]:
    """Run every app's migrations as the owner, then (PostgreSQL) apply row-level security."""
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.engine.postgres import PostgresEngine

    from core.db import current_engine
    from core.piccolo_private import run_in_new_connection

    engine = current_engine()
    await check_database()
    if not isinstance(engine, PostgresEngine):
        await run_in_new_connection(engine, "PRAGMA journal_mode=WAL")
    result = await run_forwards(app_name="all", fake=False)
    if not result.success:
        fail(f"migrations failed: {result.message}", 1)
    secured = []
    if isinstance(engine, PostgresEngine):
        import asyncpg

        from core.pg_logins import app_password_for_migrate
        from core.rls import apply_rls

        conn = await asyncpg.connect(**engine.config)
        try:
            secured = await apply_rls(conn, settings().app_role, app_password_for_migrate(settings()))
        finally:
            await conn.close()
    from core.oversight.tally import backfill

    await backfill()
    return secured


def cmd_migrate(args) -> None:
    tables = asyncio.run(migrate())
    print("migrations applied" + (f"; row-level security on {len(tables)} tables" if tables else ""))


def cmd_user(args) -> None:
    async def run():
        from core.scope import tenant_scope
        from core.tables import User
        from core.tenant_registry import load_tenant

        await check_database()
        tenant = await load_tenant(args.tenant)
        if tenant is None:
            fail(f"no tenant {args.tenant!r}", 1)
        async with tenant_scope(tenant):
            if args.user_command == "create":
                from core.plugins import get_plugin_manager
                from tenants.onboarding import ensure_membership, ensure_user

                if args.role not in get_plugin_manager().roles:
                    fail(f"unknown role {args.role!r}", 1)
                password = args.password or os.environ.get("QINQING_NEW_PASSWORD") or __import__("secrets").token_urlsafe(12)
                user_id, created = await ensure_user(args.username, args.display_name or args.username, password)
                await ensure_membership(user_id, args.role, None, None)
                if args.system_admin:  # global: the system console (系统控制台) across tenants
                    await User.update({User.is_system_admin: True}).where(User.id == user_id)
                if args.company:
                    from core.cases.companies import add_member
                    from core.cases.tables import Company
                    from core.scope import scoped

                    company = await scoped(Company).objects().where(Company.credit_code == args.company.upper()).first()
                    if company is None:
                        fail(f"no company with code {args.company!r} in {tenant.slug}", 1)
                    await add_member(company.id, user_id, liaison=args.liaison)
                print(f"user {args.username} {'created' if created else 'exists'}; role {args.role} on {tenant.slug}"
                      + ("; system administrator" if args.system_admin else ""))
                if created and not args.password:
                    print(f"password: {password}")
            else:
                from core.identity import create_token

                row = await User.select(User.id).where(User.username == args.username).first()
                if row is None:
                    fail(f"no user {args.username!r}", 1)
                print(await create_token(row["id"], args.name))

    asyncio.run(run())


def cmd_audit(args) -> None:
    from core.tenant_registry import all_tenants, load_tenant

    documents = _anchor_documents(args.anchors) if getattr(args, "anchors", None) else {}

    async def run() -> bool:
        await check_database()
        if args.tenant:
            tenant = await load_tenant(args.tenant)
            if tenant is None:
                fail(f"no tenant {args.tenant!r}", 1)
            tenants = [tenant]
        elif documents:
            tenants = []
            for slug in documents:
                tenant = await load_tenant(slug)
                if tenant is None:
                    fail(f"{args.anchors}: no tenant {slug!r} here", 1)
                tenants.append(tenant)
        else:
            tenants = await all_tenants()
        if args.audit_command == "anchor":
            return await _anchor(tenants)
        ok = True
        for tenant in tenants:
            if documents and tenant.slug not in documents:
                fail(f"{args.anchors}: holds no anchors of {tenant.slug}", 1)
            problem, said = await _verify_record(tenant, documents.get(tenant.slug), args.key)
            if problem:
                ok = False
                print(f"{tenant.slug}: BROKEN — {problem}", file=sys.stderr)
            else:
                print(f"{tenant.slug}: ok ({said})")
        return ok

    if not asyncio.run(run()):
        raise SystemExit(1)


def _anchor_documents(path: str) -> dict[str, dict]:
    """The signed heads saved from a public page (anchors.json; or a list of them), by tenant."""
    import json

    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"no such file: {path}", 1)
    except ValueError as exc:
        fail(f"{path}: not JSON ({exc})", 1)
    documents = loaded if isinstance(loaded, list) else [loaded]
    if not all(isinstance(d, dict) and isinstance(d.get("tenant"), str) and isinstance(d.get("anchors"), list)
               for d in documents):
        fail(f"{path}: not the signed heads of a public page (anchors.json)", 1)
    return {d["tenant"]: d for d in documents}


async def _anchor(tenants) -> bool:
    """`qinqing audit anchor`: sign the chain heads now (the scheduler does it daily)."""
    from core.cases.anchors import anchor_tenant, key_path
    from core.scope import tenant_scope

    for tenant in tenants:
        async with tenant_scope(tenant):
            anchor = await anchor_tenant()
        print(f"{tenant.slug}: " + (f"head {anchor.seq} signed" if anchor else "nothing new to sign (or the "
                                    "record does not verify: see `qinqing audit verify`)"))
    print(f"signing key: {key_path()}")
    return True


async def _verify_record(tenant, anchors: dict | None = None, key: str | None = None) -> tuple[str, str]:
    """(the first problem or "", what was checked): the chain, every case replayed, and the chain
    held to the signed heads published earlier (`anchors`)."""
    from core.cases.anchors import check_anchors
    from core.cases.audit import verify_tenant
    from core.cases.replay import check_cases
    from core.scope import tenant_scope

    async with tenant_scope(tenant, write=False):
        chain = await verify_tenant()
        if not chain.ok:
            return chain.problem, ""
        cases, mismatch = await check_cases()
        if mismatch is not None:
            return str(mismatch), ""
        held = await check_anchors(anchors, key) if anchors is not None else None
    if held is not None and held.problem:
        return held.problem, ""
    return "", f"{chain.checked} events, {cases} cases replayed" + (
        f", {held.checked} signed heads hold" if held is not None else "")


def register(sub) -> None:
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    p = sub.add_parser("audit", help="check the tamper-evident record")
    asub = p.add_subparsers(dest="audit_command", required=True)
    a = asub.add_parser("verify", help="verify every tenant's event chain and replay its cases")
    a.add_argument("--tenant")
    a.add_argument("--anchors", metavar="FILE", help="also hold the chain to signed heads saved earlier (anchors.json)")
    a.add_argument("--key", help="the public key (hex) the anchors must be signed with (default: each anchor's)")
    a = asub.add_parser("anchor", help="sign every tenant's chain head now (the scheduler does it daily)")
    a.add_argument("--tenant")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("user", help="manage users")
    usub = p.add_subparsers(dest="user_command", required=True)
    a = usub.add_parser("create")
    a.add_argument("username")
    a.add_argument("--tenant", required=True)
    a.add_argument("--role", required=True)
    a.add_argument("--display-name")
    a.add_argument("--password")
    a.add_argument("--company", help="the unified social credit code of the company the user acts for")
    a.add_argument("--liaison", action="store_true", help="the company's named liaison (企业联络员)")
    a.add_argument("--system-admin", action="store_true", help="may also use the system console at /system/")
    a = usub.add_parser("token", help="print a new API token for a user")
    a.add_argument("username")
    a.add_argument("--tenant", required=True)
    a.add_argument("--name", default="cli")
    p.set_defaults(func=cmd_user)
