"""The web app's command: `qinqing serve`."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys

from cli.common import check_database, demo_password, settings


def cmd_serve(args) -> None:
    current = settings()
    asyncio.run(check_database())
    host, port = args.host or current.host, args.port or current.port
    if args.demo_banner:
        password, _ = demo_password()
        os.environ["QINQING_DEMO"] = "1"  # the login pages name the demo accounts (web.pages.auth)
        print(f"qinqing is serving on http://{host}:{port}/  (Luqiao: http://{host}:{port}/t/luqiao/)")
        print(f"demo logins: <role>@<tenant>, e.g. dispatcher@luqiao, handler@luqiao, company@luqiao, "
              f"dispatcher@pengjie, dispatcher@jiaojiang — password: {password}")
    else:
        print(f"qinqing is serving on http://{host}:{port}/")
    sys.stdout.flush()
    if (args.workers or 1) > 1:  # counters of every web process add up on /metrics
        metrics_dir = current.var_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    from web.serving import serve

    serve(host, port, args.workers or 1)


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the web application")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, default=0, help="web worker processes")
    p.add_argument("--demo-banner", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)
