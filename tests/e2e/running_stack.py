"""The running stack for end-to-end and load tests: customers, credits and scheduling,
each as real processes.

One stack per test session: every service is migrated, then its ``api`` and
``worker`` run as subprocesses with their own database prefix, bus prefix and
free ports, so an e2e run never meets another run or the developer's stack.
Tests drive them over HTTP only, each in a tenant of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontdesk.kit import migrations
from frontdesk.kit.auth import Permission, Role, issue_token
from frontdesk.kit.settings import Settings
from frontdesk.kit.testing import BUS_PREFIXES, delete_bus

ROOT = Path(__file__).resolve().parents[2]


def _services() -> tuple[str, ...]:
    """Every service with an app (FRONTDESK_E2E_SERVICES=a,b runs only those, to keep a
    partial run small)."""
    found = sorted(
        p.name
        for p in (ROOT / "services").iterdir()
        if (p / "src" / "frontdesk" / p.name / "app.py").exists()
    )
    only = os.environ.get("FRONTDESK_E2E_SERVICES")
    return tuple(name for name in found if not only or name in only.split(","))


SERVICES = _services()
# The services every stack runs, whatever FRONTDESK_E2E_SERVICES says.
CORE = ("customers", "credits", "scheduling")


def _has_standins(service: str) -> bool:
    """A service whose development stand-ins (a fake provider, a local mail server) run
    beside it: ``python -m frontdesk.<service>.standins --env-file F`` starts them on free
    ports and writes the settings that point the services at them to F."""
    return (ROOT / "services" / service / "src" / "frontdesk" / service / "standins.py").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    """The processes of one e2e run and how to start, kill and restart them."""

    def __init__(self, workdir: Path) -> None:
        run = uuid.uuid4().hex[:8]
        self.workdir = workdir
        self.ports = {name: _free_port() for name in SERVICES}
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")},
            "FRONTDESK_DATABASE_PREFIX": f"e2e{run}_",
            "FRONTDESK_BUS_PREFIX": f"e2e{run}.",
            "FRONTDESK_RETRY_DELAYS_MS": "[200, 1000, 3000]",
            "FRONTDESK_RELAY_POLL_SECONDS": "0.2",
            "FRONTDESK_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            # Where each service answers, for the ones that call others (the gateway).
            "FRONTDESK_SERVICE_URLS": json.dumps(
                {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
            ),
        }
        BUS_PREFIXES.setdefault(self.env["FRONTDESK_BUS_PREFIX"], set()).update(SERVICES)
        for key in (
            "FRONTDESK_PG_URL",
            "FRONTDESK_AMQP_URL",
            "FRONTDESK_JWT_SECRET",
            "FRONTDESK_DB_POOL_SIZE",  # the booking rush's bench compares pool sizes
            "FRONTDESK_DB_MAX_OVERFLOW",
        ):
            if key in os.environ:
                self.env[key] = os.environ[key]
        self.procs: dict[tuple[str, str], subprocess.Popen[bytes]] = {}
        # A service's further replicas (the booking rush's bench): API replica 2 and on
        # answer on ports of their own, as pods behind one Service would.
        self.replica_ports: dict[tuple[str, int], int] = {}
        self.offsets: dict[tuple[str, str], int] = {}
        self.settings = Settings()  # for tokens: the same secret, issuer and audience

    async def start_standins(self, timeout: float = 60) -> None:
        """Every service's stand-ins, and their settings in the services' environment."""
        for service in SERVICES:
            if not _has_standins(service):
                continue
            env_file = self.workdir / f"{service}-standins.env"
            log = self.log(service, "standins")
            module = f"frontdesk.{service}.standins"
            command = [sys.executable, "-m", module, "--env-file", str(env_file)]
            self._spawn((service, "standins"), command, log)
            deadline = time.monotonic() + timeout
            while not env_file.exists():
                self._check_alive(service, "standins")
                if time.monotonic() > deadline:
                    raise AssertionError(f"{service} stand-ins not up: {log.read_text()}")
                await asyncio.sleep(0.1)
            for line in env_file.read_text().splitlines():
                key, _, value = line.partition("=")
                if key.startswith("FRONTDESK_"):
                    self.env[key] = value

    def _spawn(self, key: tuple[str, str], command: list[str], log: Path) -> None:
        self.procs[key] = subprocess.Popen(
            command, env=self.env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT
        )

    def url(self, service: str, replica: int = 1) -> str:
        return f"http://127.0.0.1:{self._port(service, replica)}"

    def _port(self, service: str, replica: int) -> int:
        if replica == 1:
            return self.ports[service]
        return self.replica_ports.setdefault((service, replica), _free_port())

    def _cmd(self, service: str, command: str) -> list[str]:
        return [sys.executable, "-m", f"frontdesk.{service}", command]

    def migrate(self) -> None:
        """Every service's database at once (each is its own)."""
        running = [
            subprocess.Popen(
                self._cmd(service, "migrate"),
                env=self.env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for service in SERVICES
        ]
        for proc in running:
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0, out.decode(errors="replace")

    def log(self, service: str, kind: str) -> Path:
        return self.workdir / f"{service}-{kind}.log"

    def start(self, service: str, kind: str, replica: int = 1) -> subprocess.Popen[bytes]:
        """The service's ``kind`` process (``api``, ``worker``); ``replica`` 2 and on are
        more of the same kind beside the first, each with its own log."""
        env = {**self.env, "FRONTDESK_PORT": str(self._port(service, replica))}
        name = _replica(kind, replica)
        log = self.log(service, name)
        self.offsets[(service, name)] = log.stat().st_size if log.exists() else 0
        out = log.open("ab")
        proc = subprocess.Popen(
            self._cmd(service, kind), env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
        self.procs[(service, name)] = proc
        return proc

    def kill(self, service: str, kind: str, sig: int = signal.SIGKILL, replica: int = 1) -> None:
        proc = self.procs.pop((service, _replica(kind, replica)))
        proc.send_signal(sig)
        proc.wait(timeout=20)

    async def wait_api(self, service: str, timeout: float = 180, replica: int = 1) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                self._check_alive(service, _replica("api", replica))
                try:
                    r = await client.get(f"{self.url(service, replica)}/readyz")
                    if r.status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        name = _replica("api", replica)
        raise AssertionError(f"{service} {name} not ready: {self.log(service, name).read_text()}")

    async def wait_worker(self, service: str, timeout: float = 180, replica: int = 1) -> None:
        """Until the worker logged that it runs (its queue and bindings are declared)."""
        name = _replica("worker", replica)
        log = self.log(service, name)
        start = self.offsets.get((service, name), 0)
        marker = f"{service} worker running".encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive(service, name)
            with log.open("rb") as f:
                f.seek(start)
                if marker in f.read():
                    return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{service} worker not running: {log.read_text()[-3000:]}")

    def _check_alive(self, service: str, kind: str) -> None:
        proc = self.procs.get((service, kind))
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"{service} {kind} exited with {proc.returncode}:\n"
                + self.log(service, kind).read_text()[-3000:]
            )

    async def restart_worker(self, service: str) -> None:
        self.start(service, "worker")
        await self.wait_worker(service)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()

    async def remove(self) -> None:
        """Everything the stack made: its processes, its databases and its broker names
        (quorum queues left behind pile up in the broker, run after run)."""
        self.stop_all()
        await self.drop_databases()
        await delete_bus({self.env["FRONTDESK_BUS_PREFIX"]: set(SERVICES)})

    async def drop_databases(self) -> None:
        for service in SERVICES:
            settings = Settings(**{**self._settings_kwargs(), "service": service})
            await migrations.drop_database(settings.resolved_database_url())

    def _settings_kwargs(self) -> dict[str, Any]:
        return {
            "database_prefix": self.env["FRONTDESK_DATABASE_PREFIX"],
            **({"pg_url": self.env["FRONTDESK_PG_URL"]} if "FRONTDESK_PG_URL" in self.env else {}),
        }


def _replica(kind: str, replica: int) -> str:
    """How a replica's process is known (its key in ``Stack.procs`` and its log's name)."""
    return kind if replica == 1 else f"{kind}-{replica}"


class Tenant:
    """One business on the stack: HTTP clients for each service with an admin token."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.id = uuid.uuid4()
        token = issue_token(
            stack.settings, tenant_id=self.id, role=Role.admin, permissions=list(Permission)
        )
        self.headers = {"Authorization": f"Bearer {token}"}
        self.clients = {
            name: httpx.AsyncClient(
                base_url=stack.url(name),
                headers=self.headers,
                timeout=60,
                limits=httpx.Limits(max_connections=250),
            )
            for name in SERVICES
        }

    def client(self, service: str) -> httpx.AsyncClient:
        return self.clients[service]

    @property
    def customers(self) -> httpx.AsyncClient:
        return self.clients["customers"]

    @property
    def credits(self) -> httpx.AsyncClient:
        return self.clients["credits"]

    @property
    def scheduling(self) -> httpx.AsyncClient:
        return self.clients["scheduling"]

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


# One stack per test module, stopped when the module ends: several conftests import this
# fixture, and stacks kept for the whole session would add up past PostgreSQL's 100
# connections.
@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with running(Stack(tmp_path_factory.mktemp("e2e"))) as s:
        yield s


@contextlib.asynccontextmanager
async def running(s: Stack, start_timeout: float = 180) -> AsyncIterator[Stack]:
    """Start every service of ``s`` and its stand-ins; stop them and delete their
    databases and queues afterwards."""
    try:
        await s.start_standins()
        await asyncio.to_thread(s.migrate)
        # Workers must be running (their queues declared) before a test publishes anything.
        for service in SERVICES:
            s.start(service, "worker")
            s.start(service, "api")
        await asyncio.gather(
            *(s.wait_worker(service, timeout=start_timeout) for service in SERVICES),
            *(s.wait_api(service, timeout=start_timeout) for service in SERVICES),
        )
        yield s
    finally:
        await s.remove()


@pytest.fixture
async def tenant(stack: Stack) -> AsyncIterator[Tenant]:
    t = Tenant(stack)
    yield t
    await t.close()
