"""The `qinqing` command: serve, worker, scheduler, migrate, demo, tenant …, user …"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from pathlib import Path

from core.config import ConfigError


def _fail(message: str, code: int = 2) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def _settings():
    from core.config import get_settings

    return get_settings()


async def _check_database() -> None:
    from core.db import check_reachable, current_engine

    await check_reachable(current_engine())


# -- migrate --------------------------------------------------------------------------------------

async def migrate() -> list[str]:
    """Run every app's migrations as the owner, then (PostgreSQL) apply row-level security."""
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.engine.postgres import PostgresEngine

    from core.db import current_engine

    engine = current_engine()
    await _check_database()
    if not isinstance(engine, PostgresEngine):
        await engine._run_in_new_connection("PRAGMA journal_mode=WAL")
    result = await run_forwards(app_name="all", fake=False)
    if not result.success:
        _fail(f"migrations failed: {result.message}", 1)
    secured = []
    if isinstance(engine, PostgresEngine):
        import asyncpg

        from core.pg_logins import app_password_for_migrate
        from core.rls import apply_rls

        conn = await asyncpg.connect(**engine.config)
        try:
            secured = await apply_rls(conn, _settings().app_role, app_password_for_migrate(_settings()))
        finally:
            await conn.close()
    from core.oversight.tally import backfill

    await backfill()
    return secured


def cmd_migrate(args) -> None:
    tables = asyncio.run(migrate())
    print("migrations applied" + (f"; row-level security on {len(tables)} tables" if tables else ""))


# -- demo ---------------------------------------------------------------------------------------

def demo_password() -> tuple[str, bool]:
    settings = _settings()
    if settings.demo_password:
        return settings.demo_password, False
    path = settings.var_dir / "demo_password"
    if path.exists():
        return path.read_text().strip(), True
    import secrets

    password = secrets.token_urlsafe(9)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(password)
    path.chmod(0o600)
    return password, True


def cmd_demo(args) -> None:
    from tenants.demo import load_demo
    from workers.broker import setup_broker
    from workers.relay import drain

    password, generated = demo_password()

    async def run():
        await _check_database()
        setup_broker()
        accounts = await load_demo(password)
        if setup_broker().__class__.__name__ == "StubBroker":
            await drain()
        return accounts

    accounts = asyncio.run(run())
    print("demo tenants loaded:")
    for slug, names in accounts.items():
        print(f"  {slug}: {', '.join(names)}")
    where = " (generated; set DEMO_PASSWORD to choose it)" if generated else " (DEMO_PASSWORD)"
    print(f"demo password for every account: {password}{where}")


# -- serve, worker, scheduler ------------------------------------------------------------------

def _configure_logging(settings) -> None:
    from core.observability import configure_logging

    configure_logging(settings.log_format, settings.log_level)


def cmd_serve(args) -> None:
    settings = _settings()
    asyncio.run(_check_database())
    host, port = args.host or settings.host, args.port or settings.port
    if args.demo_banner:
        password, _ = demo_password()
        print(f"qinqing is serving on http://{host}:{port}/  (Luqiao: http://{host}:{port}/t/luqiao/)")
        print(f"demo logins: <role>@<tenant>, e.g. dispatcher@luqiao, handler@luqiao, company@luqiao, "
              f"dispatcher@pengjie, dispatcher@jiaojiang — password: {password}")
    else:
        print(f"qinqing is serving on http://{host}:{port}/")
    sys.stdout.flush()
    if (args.workers or 1) > 1:  # counters of every web process add up on /metrics
        metrics_dir = settings.var_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    from web.serving import serve

    serve(host, port, args.workers or 1)


def cmd_worker(args) -> None:
    import signal
    import threading

    from dramatiq import Worker

    from workers.broker import DatabasePool, setup_broker

    settings = _settings()
    if not settings.broker_url:
        _fail("BROKER_URL: unset — without a broker the worker runs inside `qinqing serve`")
    _configure_logging(settings)
    asyncio.run(_check_database())
    broker = setup_broker(settings)
    DatabasePool.owns_engine = True
    worker = Worker(broker, worker_threads=args.threads)
    worker.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"worker started ({args.threads} threads) on {settings.broker_kind}")
    sys.stdout.flush()
    stop.wait()
    worker.stop()
    broker.close()


def cmd_scheduler(args) -> None:
    import signal

    from core.db import close_pool, start_pool
    from workers.broker import setup_broker
    from workers.scheduler import run_forever

    _configure_logging(_settings())

    async def run():
        await _check_database()
        await start_pool()
        setup_broker()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print("scheduler started")
        sys.stdout.flush()
        try:
            await run_forever(stop, interval=args.interval)
        finally:
            await close_pool()

    asyncio.run(run())


# -- tenant -------------------------------------------------------------------------------------

def cmd_tenant(args) -> None:
    from tenants.archive import ArchiveError
    from tenants.manifest import ManifestError

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    async def run():
        await _check_database()
        if args.tenant_command == "export":
            from tenants.export import export_tenant

            manifest = await export_tenant(args.slug, Path(args.file), progress)
            rows = sum(manifest["tables"].values())
            print(f"tenant {args.slug} exported to {args.file}: {rows} rows in {len(manifest['tables'])} tables, "
                  f"{sum(manifest['files'].values())} files")
        elif args.tenant_command == "import":
            from tenants.import_ import import_tenant

            report = await import_tenant(Path(args.file), progress)
            for username in report.linked_users:
                print(f"  linked existing user {username} (kept as it is here, not overwritten)")
            for warning in report.warnings:
                print(f"  warning: {warning}")
            print(f"tenant {report.slug} imported (id {report.tenant_id}): {sum(report.counts.values())} rows, "
                  f"{report.files} files; the record verifies")
        elif args.tenant_command == "list":
            from core.plugins import get_plugin_manager
            from tenants.registry import all_tenants

            manager = get_plugin_manager()
            for t in await all_tenants():
                plugins = ",".join(n for n in sorted(manager.enabled_for(t)) if manager.infos[n].optional) or "-"
                state = "active" if t.active else "inactive"
                print(f"{t.slug:<16} {t.kind:<9} {state:<8} plugins={plugins:<28} {t.name_zh}")
        elif args.tenant_command == "apply":
            from tenants.onboarding import apply_manifest

            text = Path(args.file).read_text(encoding="utf-8")
            result = await apply_manifest(text)
            print(f"tenant {result.tenant.slug} {'created' if result.created else 'updated'}")
            for username, password in result.new_passwords.items():
                print(f"  new user {username} password: {password}")
            for warning in result.warnings:  # a district may add its staff later: not an error
                print(f"  warning: department {warning}")
            if result.warnings:
                print("  add the missing people as [[users]] of those departments and apply the manifest again")
        else:
            from tenants.onboarding import set_plugin

            tenant = await set_plugin(args.slug, args.plugin, args.tenant_command == "enable-plugin")
            print(f"tenant {tenant.slug} plugins: {', '.join(tenant.plugins) or '-'}")

    try:
        asyncio.run(run())
    except ManifestError as exc:
        print("error: the manifest was rejected, nothing was applied:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        raise SystemExit(1)
    except FileNotFoundError as exc:
        _fail(f"no such file: {exc.filename}", 1)
    except ArchiveError as exc:
        _fail(f"{exc}; nothing was imported" if args.tenant_command == "import" else str(exc), 1)


# -- user ---------------------------------------------------------------------------------------

def cmd_user(args) -> None:
    async def run():
        from core.tables import User
        from tenants.registry import load_tenant
        from tenants.scope import tenant_scope

        await _check_database()
        tenant = await load_tenant(args.tenant)
        if tenant is None:
            _fail(f"no tenant {args.tenant!r}", 1)
        async with tenant_scope(tenant):
            if args.user_command == "create":
                from core.plugins import get_plugin_manager
                from tenants.onboarding import ensure_membership, ensure_user

                if args.role not in get_plugin_manager().roles:
                    _fail(f"unknown role {args.role!r}", 1)
                password = args.password or os.environ.get("QINQING_NEW_PASSWORD") or __import__("secrets").token_urlsafe(12)
                user_id, created = await ensure_user(args.username, args.display_name or args.username, password)
                await ensure_membership(user_id, args.role, None, None)
                if args.system_admin:  # global: the system console (系统控制台) across tenants
                    await User.update({User.is_system_admin: True}).where(User.id == user_id)
                if args.company:
                    from core.cases.companies import add_member
                    from core.cases.tables import Company
                    from tenants.scope import scoped

                    company = await scoped(Company).objects().where(Company.credit_code == args.company.upper()).first()
                    if company is None:
                        _fail(f"no company with code {args.company!r} in {tenant.slug}", 1)
                    await add_member(company.id, user_id, liaison=args.liaison)
                print(f"user {args.username} {'created' if created else 'exists'}; role {args.role} on {tenant.slug}"
                      + ("; system administrator" if args.system_admin else ""))
                if created and not args.password:
                    print(f"password: {password}")
            else:
                from web.identity import create_token

                row = await User.select(User.id).where(User.username == args.username).first()
                if row is None:
                    _fail(f"no user {args.username!r}", 1)
                print(await create_token(row["id"], args.name))

    asyncio.run(run())


# -- audit ------------------------------------------------------------------------------------

def cmd_audit(args) -> None:
    from tenants.registry import all_tenants, load_tenant

    documents = _anchor_documents(args.anchors) if getattr(args, "anchors", None) else {}

    async def run() -> bool:
        await _check_database()
        if args.tenant:
            tenant = await load_tenant(args.tenant)
            if tenant is None:
                _fail(f"no tenant {args.tenant!r}", 1)
            tenants = [tenant]
        elif documents:
            tenants = []
            for slug in documents:
                tenant = await load_tenant(slug)
                if tenant is None:
                    _fail(f"{args.anchors}: no tenant {slug!r} here", 1)
                tenants.append(tenant)
        else:
            tenants = await all_tenants()
        if args.audit_command == "anchor":
            return await _anchor(tenants)
        ok = True
        for tenant in tenants:
            if documents and tenant.slug not in documents:
                _fail(f"{args.anchors}: holds no anchors of {tenant.slug}", 1)
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
        _fail(f"no such file: {path}", 1)
    except ValueError as exc:
        _fail(f"{path}: not JSON ({exc})", 1)
    documents = loaded if isinstance(loaded, list) else [loaded]
    if not all(isinstance(d, dict) and isinstance(d.get("tenant"), str) and isinstance(d.get("anchors"), list)
               for d in documents):
        _fail(f"{path}: not the signed heads of a public page (anchors.json)", 1)
    return {d["tenant"]: d for d in documents}


async def _anchor(tenants) -> bool:
    """`qinqing audit anchor`: sign the chain heads now (the scheduler does it daily)."""
    from core.cases.anchors import anchor_tenant, key_path
    from tenants.scope import tenant_scope

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
    from tenants.scope import tenant_scope

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


# -- parser -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qinqing", description="亲清 — government–enterprise accountability platform")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the web application")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, default=0, help="web worker processes")
    p.add_argument("--demo-banner", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run a background worker (needs BROKER_URL)")
    p.add_argument("--threads", type=int, default=4)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("scheduler", help="run the scheduler and the outbox relay")
    p.add_argument("--interval", type=float, default=1.0)
    p.set_defaults(func=cmd_scheduler)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load the demo tenants and accounts").set_defaults(func=cmd_demo)

    p = sub.add_parser("tenant", help="manage tenants")
    tsub = p.add_subparsers(dest="tenant_command", required=True)
    tsub.add_parser("list")
    a = tsub.add_parser("apply")
    a.add_argument("file")
    for name in ("enable-plugin", "disable-plugin"):
        a = tsub.add_parser(name)
        a.add_argument("slug")
        a.add_argument("plugin")
    a = tsub.add_parser("export", help="write everything of one tenant into an archive")
    a.add_argument("slug")
    a.add_argument("file")
    a = tsub.add_parser("import", help="restore a tenant archive into this installation")
    a.add_argument("file")
    p.set_defaults(func=cmd_tenant)

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
    from core.workdays.cli import register as register_calendar
    register_calendar(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    import warnings

    # Piccolo warns on its own when the database is unreachable; we say it once, naming the variable.
    warnings.filterwarnings("ignore", message=".*Unable to connect to database")
    args = build_parser().parse_args(argv)
    if args.command == "migrate" or (args.command == "tenant" and args.tenant_command == "export"):
        os.environ["QINQING_DB_OWNER"] = "1"  # the schema owner's login; an export carries password hashes
    try:
        _settings()
        args.func(args)
    except ConfigError as exc:
        _fail(str(exc))


if __name__ == "__main__":
    main()
