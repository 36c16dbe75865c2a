"""Processes for the load and fault runs (进程管理): the real `qinqing` commands, each in its own
process group, on a fresh PostgreSQL database with a private Redis, stopped cleanly on any exit.

    python -m bench.procs provision --tenants load01,load02 --companies 2   (inside a run's env)

`Stack` starts and stops `qinqing serve`, `qinqing worker` and `qinqing scheduler`; `RedisServer`
and `PostgresCluster` are private servers on free loopback ports (the machine's own are never
stopped); `provision` links the company users and makes the API tokens of the run's tenants in one
process (a `qinqing user token` call per account would cost a second of CPU each).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = "load-Pass-2026"
SECRET_KEY = "bench-load-secret-key-0123456789abcdef"
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name),
             default=Path("/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.2):
    """Poll `predicate` until it returns something truthy; raise TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def http_status(url: str, timeout: float = 3.0) -> int | None:
    import httpx

    try:
        return httpx.get(url, timeout=timeout).status_code
    except httpx.HTTPError:
        return None


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so `finally` blocks stop every process we started."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# -- process groups ------------------------------------------------------------------------------

class Supervisor:
    """Named child processes, each the leader of its own process group; logs in `log_dir`."""

    def __init__(self, log_dir: Path):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        if name in self.procs and self.procs[name].poll() is None:
            raise RuntimeError(f"{name} is already running")
        log = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.procs[name] = proc
        return proc

    def alive(self, name: str) -> bool:
        return name in self.procs and self.procs[name].poll() is None

    def pid(self, name: str) -> int:
        return self.procs[name].pid

    def kill(self, name: str) -> None:
        """SIGKILL the whole group (a crash: no clean-up runs)."""
        if self.procs[name].poll() is None:
            self._signal(name, signal.SIGKILL)
        self.procs[name].wait(10)

    def stop(self, name: str, timeout: float = 20) -> int | None:
        """SIGTERM the group, wait, then SIGKILL what is left; returns the exit code."""
        proc = self.procs.get(name)
        if proc is None:
            return None
        # Signalled only while the leader is unreaped, so its pid (the group's id) cannot have
        # been reused by someone else's process.
        if proc.poll() is None:
            self._signal(name, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(name, signal.SIGKILL)
                proc.wait(10)
        return proc.returncode

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            try:
                self.stop(name)
            except Exception as exc:  # noqa: BLE001 - keep stopping the others
                print(f"warning: stopping {name}: {exc}", file=sys.stderr)

    def _signal(self, name: str, sig: int) -> None:
        try:
            os.killpg(self.procs[name].pid, sig)
        except ProcessLookupError:
            pass

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# -- private servers --------------------------------------------------------------------------------

class RedisServer:
    """A private redis-server on a free port, appending every write to its AOF: stopped with
    SIGTERM (a clean shutdown that syncs the file) and started again on the same port and
    directory, it comes back with its queues, as a broker must."""

    def __init__(self, supervisor: Supervisor, port: int | None = None):
        self.supervisor = supervisor
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="qinqing-redis-"))
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.name = f"redis-{self.port}"

    def start(self) -> None:
        self.supervisor.start(self.name, [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir), "--daemonize", "no",
        ])
        wait_for(self.ping, 30, f"redis on port {self.port}")

    def ping(self) -> bool:
        done = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return done.stdout.strip() == "PONG"

    def stop(self) -> None:
        self.supervisor.stop(self.name)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PostgresCluster:
    """A private PostgreSQL cluster (initdb into a temporary directory) on a free port, which a
    test may stop and start at will; the machine's own server is never touched."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="qinqing-pg-"))
        self.data = self.dir / "data"
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    def init(self) -> None:
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                                     "--no-sync", "-E", "UTF8", "--locale", "C"]),
                       check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
                                     "-l", str(self.dir / "server.log"), "-w", "-t", "60", "start"]),
                       check=True, capture_output=True)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                                         "-t", "60", "stop"]), capture_output=True)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# -- databases ---------------------------------------------------------------------------------------

def database_url(admin_url: str, name: str) -> str:
    return re.sub(r"/[^/]*$", f"/{name}", admin_url)


async def _admin(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(database_url(admin_url, "postgres"), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(admin_url: str, name: str) -> str:
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    return database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def app_env(database_url_: str, broker_url: str, var_dir: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PROMETHEUS_"))}
    env.update(DATABASE_URL=database_url_, BROKER_URL=broker_url, QINQING_VAR_DIR=str(var_dir),
               SECRET_KEY=SECRET_KEY, DEMO_PASSWORD=PASSWORD, LOG_LEVEL="WARNING", LOG_FORMAT="json",
               PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
    env.pop("QINQING_DB_OWNER", None)
    env.update(extra)
    return env


def qinqing(args: list[str], env: dict, module: str = "cli") -> str:
    """Run one `qinqing` command; its output, or RuntimeError with what it said."""
    done = subprocess.run([PYTHON, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"qinqing {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def qinqing_parallel(commands: list[list[str]], env: dict, jobs: int = 3) -> list[str]:
    """Several `qinqing` commands at once (each is a process: `jobs` at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(lambda args: qinqing(args, env), commands))


# -- the application's processes ----------------------------------------------------------------------

class Stack:
    """`qinqing serve` (one process per port), `qinqing worker`s and `qinqing scheduler`s on one
    database and broker.  `module` runs the commands through a launcher (e.g. `bench.fault_plugin`,
    which adds the fault run's test actor and job) instead of `cli`."""

    def __init__(self, supervisor: Supervisor, env: dict, module: str = "cli"):
        self.supervisor, self.env, self.module = supervisor, env, module
        self.ports: dict[str, int] = {}

    def command(self, *args: str) -> list[str]:
        return [PYTHON, "-m", self.module, *args]

    def serve(self, name: str = "web1", port: int | None = None, wait: bool = True) -> str:
        port = port or free_port()
        self.ports[name] = port
        self.supervisor.start(name, self.command("serve", "--host", "127.0.0.1", "--port", str(port)), self.env)
        if wait:
            self.wait_web(name)
        return f"http://127.0.0.1:{port}"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def wait_web(self, name: str, timeout: float = 90) -> None:
        def up():
            if not self.supervisor.alive(name):
                raise RuntimeError(f"{name} exited:\n{self.supervisor.tail(name)}")
            return http_status(self.url(name) + "/healthz") == 200
        wait_for(up, timeout, f"{name} to answer /healthz")

    def worker(self, name: str = "worker1", threads: int = 8) -> None:
        self.supervisor.start(name, self.command("worker", "--threads", str(threads)), self.env)
        self._wait_line(name, "worker started")

    def scheduler(self, name: str = "scheduler1", interval: float = 0.5) -> None:
        self.supervisor.start(name, self.command("scheduler", "--interval", str(interval)), self.env)
        self._wait_line(name, "scheduler started")

    def _wait_line(self, name: str, text: str, timeout: float = 90) -> None:
        def started():
            if not self.supervisor.alive(name):
                raise RuntimeError(f"{name} exited:\n{self.supervisor.tail(name)}")
            return text in self.supervisor.tail(name, 200)
        wait_for(started, timeout, f"{name} to start")


# -- provisioning (runs inside the app's environment) ------------------------------------------------

def uscc(n: int) -> str:
    """A valid unified social credit code (GB 32100-2015) numbered `n`."""
    from core.uscc import check_character

    body = f"91331004{n:09d}"
    return body + check_character(body)


def manifest(slug: str, number: int) -> str:
    """A district with one bureau and its section, its handler (首问负责人) and section head (who is
    told of each refusal), and a dispatcher.  (Few accounts: each costs an argon2 hash.)"""
    staff = [("dispatcher", "调度员", "", ""), ("handler", "首问负责人", "zgj", "szk"),
             ("section_head", "科室负责人", "zgj", "szk")]
    users = "".join(
        f'\n[[users]]\nusername = "{role}@{slug}"\ndisplay_name = "{label}"\nroles = ["{role}"]\n'
        f'department = "{dept}"\nsection = "{section}"\npassword = "{PASSWORD}"\n'
        for role, label, dept, section in staff)
    return f'''slug = "{slug}"
name_zh = "压力测试区{number:02d}"
name_en = "Load test district {number:02d}"
kind = "district"
plugins = []

[[departments]]
code = "zgj"
name_zh = "住房和城乡建设局"
name_en = "Housing and Urban-Rural Development Bureau"
sections = [{{ code = "szk", name_zh = "市政设施科", name_en = "Municipal Facilities Section" }}]

[[categories]]
code = "municipal"
name_zh = "市政设施（供排水、道路）"
name_en = "Municipal facilities (water, drainage, roads)"
lead = "zgj"
deadline_days = 5
{users}'''


def apply_tenants(slugs: list[str], env: dict, work_dir: Path, jobs: int = 3) -> None:
    """`qinqing tenant apply` a generated manifest per tenant."""
    paths = []
    for number, slug in enumerate(slugs, 1):
        path = Path(work_dir) / f"{slug}.toml"
        path.write_text(manifest(slug, number), encoding="utf-8")
        paths.append(["tenant", "apply", str(path)])
    qinqing_parallel(paths, env, jobs)


async def _provision(slugs: list[str], companies: int) -> dict:
    from core.cases.companies import add_member, register_company
    from core.db import start_pool
    from core.identity import create_token
    from core.tables import User
    from tenants.onboarding import ensure_membership, ensure_user
    from tenants.registry import load_tenant
    from tenants.scope import tenant_scope
    from workers.broker import setup_broker

    await start_pool()
    setup_broker()
    out = {}
    for index, slug in enumerate(slugs):
        tenant = await load_tenant(slug)
        kit = {"slug": slug, "tokens": {}, "companies": []}
        async with tenant_scope(tenant):
            for role in ("dispatcher", "handler", "section_head"):
                user = await User.select(User.id).where(User.username == f"{role}@{slug}").first()
                kit["tokens"][role] = await create_token(user["id"], "load")
            for n in range(companies):
                code = uscc(index * 1000 + n + 1)
                company, _ = await register_company(code, f"压力测试企业{index + 1:02d}-{n + 1:02d}有限公司")
                username = f"company{n + 1}@{slug}"
                user_id, _ = await ensure_user(username, f"企业用户{n + 1}", PASSWORD)
                await ensure_membership(user_id, "company", None, None)
                await add_member(company.id, user_id)
                kit["companies"].append({"code": code, "user": username,
                                         "token": await create_token(user_id, "load")})
        out[slug] = kit
    return out


def provision(slugs: list[str], env: dict, companies: int = 2) -> dict:
    """Company users and API tokens for `slugs`, made in one process of the app."""
    out = qinqing(["provision", "--tenants", ",".join(slugs), "--companies", str(companies)], env, "bench.procs")
    return json.loads(out.strip().splitlines()[-1])


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:4]}"


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.procs")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("provision", help="company users and API tokens (prints JSON)")
    p.add_argument("--tenants", required=True)
    p.add_argument("--companies", type=int, default=2)
    args = parser.parse_args(argv)
    result = asyncio.run(_provision(args.tenants.split(","), args.companies))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
