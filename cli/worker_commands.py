"""The workers' commands: `qinqing worker` and `qinqing scheduler`."""

from __future__ import annotations

import asyncio
import sys

from cli.common import check_database, configure_logging, fail, settings


def cmd_worker(args) -> None:
    import signal
    import threading

    from dramatiq import Worker

    from workers.broker import DatabasePool, setup_broker

    current = settings()
    if not current.broker_url:
        fail("BROKER_URL: unset — without a broker the worker runs inside `qinqing serve`")
    configure_logging(current)
    asyncio.run(check_database())
    broker = setup_broker(current)
    DatabasePool.owns_engine = True
    worker = Worker(broker, worker_threads=args.threads)
    worker.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"worker started ({args.threads} threads) on {current.broker_kind}")
    sys.stdout.flush()
    stop.wait()
    worker.stop()
    broker.close()


def cmd_scheduler(args) -> None:
    import signal

    from core.db import close_pool, start_pool
    from workers.broker import setup_broker
    from workers.scheduler import run_forever

    configure_logging(settings())

    async def run():
        await check_database()
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


def register(sub) -> None:
    p = sub.add_parser("worker", help="run a background worker (needs BROKER_URL)")
    p.add_argument("--threads", type=int, default=4)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("scheduler", help="run the scheduler and the outbox relay")
    p.add_argument("--interval", type=float, default=1.0)
    p.set_defaults(func=cmd_scheduler)
