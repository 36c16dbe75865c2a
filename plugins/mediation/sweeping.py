"""Running the repayment sweep on demand (还款巡检): a court administrator picks a day and sees what
the sweep would change (a dry run changes nothing), then runs it; the same from the command line
(`qinqing mediation sweep --tenant SLUG --on DATE [--dry-run]`, see :func:`command`)."""

from __future__ import annotations

from datetime import date

from core.sdk import UserError
from plugins.mediation.repayment import local_day, sweep
from plugins.mediation.service import day


def can_sweep(user) -> bool:
    """The court's administrator (tenant_admin) runs the sweep by hand."""
    return user.has_role("tenant_admin")


def the_day(raw: str) -> date:
    return day({"on": raw}, "on", local_day())


async def run(user, raw_day: str, dry_run: bool) -> dict:
    if not can_sweep(user):
        raise UserError(403, "You are not allowed to do this.")
    return await sweep(the_day(raw_day), dry_run=dry_run)


async def command(slug: str, on: str = "", dry_run: bool = False) -> dict:
    """The CLI's `mediation sweep`: the sweep of one tenant for a day, in that tenant's scope."""
    from core.sdk import in_tenant_scope, tenant_by_slug

    tenant = await tenant_by_slug(slug)
    if tenant is None or "mediation" not in tenant.plugins:
        raise UserError(404, "Not found.")
    async with in_tenant_scope(tenant, write=not dry_run):
        return await sweep(the_day(on), dry_run=dry_run)


def register(subparsers) -> None:
    """Add `mediation sweep --tenant SLUG --on DATE [--dry-run]` to an argparse subparsers object;
    the parsed arguments carry `func`, which the CLI calls with them."""
    parser = subparsers.add_parser("mediation", help="court mediation (和合金融)")
    msub = parser.add_subparsers(dest="mediation_command", required=True)
    p = msub.add_parser("sweep", help="run the repayment sweep of a court for a day (or preview it)")
    p.add_argument("--tenant", required=True, help="the court tenant's slug")
    p.add_argument("--on", default="", help="the day, YYYY-MM-DD (the court's today by default)")
    p.add_argument("--dry-run", action="store_true", help="list what would change, change nothing")
    p.set_defaults(func=cli_sweep)
    from plugins.mediation.moving import register as register_move

    register_move(msub)


def cli_sweep(args) -> None:
    import asyncio

    result = asyncio.run(command(args.tenant, args.on, args.dry_run))
    label = "would change" if result["dry_run"] else "changed"
    print(f"sweep of {args.tenant} on {result['on']}: {label} {len(result['changes'])}")
    for c in result["changes"]:
        print(f"  {c['number']}  instalment {c['instalment']} (due {c['due_on']}): {c['change']}")
