"""Tenant administration's commands: `qinqing demo` and `qinqing tenant list|apply|enable-plugin|
disable-plugin|export|import`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from cli.common import check_database, demo_password, fail


def cmd_demo(args) -> None:
    from tenants.demo import load_demo
    from workers.broker import setup_broker
    from workers.relay import drain

    password, generated = demo_password()

    async def run():
        await check_database()
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


def cmd_tenant(args) -> None:
    from tenants.archive import ArchiveError
    from tenants.manifest import ManifestError

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    async def run():
        await check_database()
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
            from core.tenant_registry import all_tenants

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
            for shortfall in result.warnings:  # a district may add its staff later: not an error
                print(f"  warning: department {shortfall}")
            if result.warnings:
                print("  add the missing people as [[users]] of those departments and apply the manifest again")
            from core.cases import escalation
            from core.scope import tenant_scope

            async with tenant_scope(result.tenant, write=False):
                for problem in await escalation.warnings():  # escalation's fallback (兜底) reaches nobody
                    print(f"  warning: escalation: {problem['message'] % problem['params']}")
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
        fail(f"no such file: {exc.filename}", 1)
    except ArchiveError as exc:
        fail(f"{exc}; nothing was imported" if args.tenant_command == "import" else str(exc), 1)


def register(sub) -> None:
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
