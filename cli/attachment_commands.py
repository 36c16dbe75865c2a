"""`qinqing attachments move --tenant SLUG --to database|local`: a tenant's files into the other
file store (附件存储), verified by SHA-256 before the source is removed; safe to run again."""

from __future__ import annotations

import asyncio
import sys

from cli.common import check_database, fail, settings


def cmd_move(args) -> None:
    from core.storage_move import move_files
    from core.tenant_registry import load_tenant

    async def run():
        await check_database()
        tenant = await load_tenant(args.tenant)
        if tenant is None:
            fail(f"no tenant {args.tenant!r}", 1)
        return await move_files(tenant, args.to, lambda line: print(line, file=sys.stderr))

    report = asyncio.run(run())
    for problem in report.problems:
        print(f"error: {problem}", file=sys.stderr)
    if not report.found:
        print(f"{args.tenant}: no files in the {report.source} store; nothing to move")
    else:
        print(f"{args.tenant}: {report.moved} of {report.found} files moved from the {report.source} store to the "
              f"{report.target} store ({report.copied} copied, {report.already} already there), each checked by SHA-256")
    if settings().attachment_store != args.to:
        print(f"note: ATTACHMENT_STORE is {settings().attachment_store}: new attachments still go to that store; "
              f"set ATTACHMENT_STORE={args.to} on every web and worker process", file=sys.stderr)
    if report.problems:
        raise SystemExit(1)


def register(sub) -> None:
    """Add the `attachments` command to the `qinqing` parser's subcommands."""
    p = sub.add_parser("attachments", help="attachment file stores (附件存储): move a tenant's files")
    asub = p.add_subparsers(dest="attachments_command", required=True)
    a = asub.add_parser("move", help="move a tenant's files into the local or the database store (verified, resumable)")
    a.add_argument("--tenant", required=True, metavar="SLUG")
    a.add_argument("--to", required=True, choices=("database", "local"))
    a.set_defaults(func=cmd_move)
