"""Bulk SMS at a provisioned rate: 2,000 customers through the fake Twilio at 50 msg/s.

The stand-ins, the notifications API (status callbacks) and its worker run as processes
of their own; a tenant with its own Twilio account provisioned at 50 msg/s (the fake
answers 429 / 20429 to anything faster) gets customers' ``bulk_message.requested``
for 2,000 customers. Figure: the sustained rate the fake received (first to last
accepted request), beside the provisioned rate, and the 429s (must be 0). Baseline,
same run: the same SDK path to the fake without a rate (20 requests in flight), so the
figure is seen to be the rate's, not the machinery's.

    uv run python bench/notifications_bulk.py [--customers 2000] [--rate 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from benchkit import report
from sqlalchemy import insert

from frontdesk.contracts.customers import BulkMessageRequested
from frontdesk.kit import db, migrations
from frontdesk.kit.auth import Principal, Role
from frontdesk.kit.uow import UnitOfWork
from frontdesk.notifications.adapters.tables import contacts, messaging
from frontdesk.notifications.adapters.twilio import Twilio
from frontdesk.notifications.app import SPEC
from frontdesk.notifications.application import senders
from frontdesk.notifications.domain.messages import Accepted
from frontdesk.notifications.domain.senders import SmsSender

ROOT = Path(__file__).resolve().parents[1]
TENANT = uuid.uuid4()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Processes:
    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *command: str) -> Path:
        log = self.workdir / f"{name}.log"
        self.procs.append(
            subprocess.Popen(
                [sys.executable, *command],
                env=self.env,
                cwd=ROOT,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        return log

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


async def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


async def baseline(base: str, count: int = 300, in_flight: int = 20) -> float:
    """The SDK to the fake as fast as it goes (an account without a provisioned rate)."""
    sender = SmsSender(
        owner=TENANT,
        account_sid="AC" + uuid.uuid4().hex,
        auth_token="baseline-token",
        from_="+15005550006",
        messaging_service_sid=None,
        per_second=1e9,
    )
    gate = asyncio.Semaphore(in_flight)
    async with Twilio(base, 10.0) as twilio:

        async def one(i: int) -> None:
            async with gate:
                outcome = await twilio.send(sender, f"+4916{i:09d}", "baseline", "")
                assert isinstance(outcome, Accepted), outcome

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        return count / (time.perf_counter() - started)


async def main(customers: int, rate: float) -> None:
    run = uuid.uuid4().hex[:8]
    workdir = Path(tempfile.mkdtemp(prefix="bench-notifications-"))
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")},
        **{k: v for k, v in os.environ.items() if k in ("FRONTDESK_PG_URL", "FRONTDESK_AMQP_URL")},
        "FRONTDESK_DATABASE_PREFIX": f"bench_{run}_",
        "FRONTDESK_BUS_PREFIX": f"bench.{run}.",
        "FRONTDESK_RELAY_POLL_SECONDS": "0.2",
        "FRONTDESK_PORT": str(port),
        "FRONTDESK_LOG_LEVEL": "INFO",  # the worker says when it runs
        "PYTHONUNBUFFERED": "1",
    }
    processes = Processes(env, workdir)
    env_file = workdir / "standins.env"
    processes.start(
        "standins", "-m", "frontdesk.notifications.standins", "--env-file", str(env_file)
    )
    await wait_until(lambda: asyncio.sleep(0, env_file.exists()), 30, "the stand-ins")
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    base = env["FRONTDESK_STANDINS_URL"]
    settings = SPEC.settings(
        database_prefix=env["FRONTDESK_DATABASE_PREFIX"], bus_prefix=env["FRONTDESK_BUS_PREFIX"]
    )
    url = settings.resolved_database_url()
    await asyncio.to_thread(migrations.upgrade, SPEC.migrations_dir, url)
    engine = db.create_engine(url, pool_size=2, max_overflow=0)
    try:
        worker_log = processes.start("worker", "-m", "frontdesk.notifications", "worker")
        processes.start("api", "-m", "frontdesk.notifications", "api")
        async with httpx.AsyncClient(timeout=30) as http:

            async def api_ready() -> bool:
                try:
                    return (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            async def worker_ready() -> bool:
                return b"notifications worker running" in worker_log.read_bytes()

            await wait_until(api_ready, 60, "the API")
            await wait_until(worker_ready, 60, "the worker")

            sid = "AC" + uuid.uuid4().hex
            await http.post(f"{base}/_fake/accounts/{sid}", json={"mps": rate})
            sessions = db.sessionmaker(engine)
            admin = Principal(sub="bench", tenant_id=TENANT, role=Role.owner)
            async with UnitOfWork(sessions, messaging) as uow:
                await senders.replace(
                    uow,
                    admin,
                    settings,
                    {
                        "twilio_account_sid": sid,
                        "twilio_auth_token": "bench-tenant-token",
                        "twilio_from": "+15005550006",
                        "sms_per_second": rate,
                    },
                )
            ids = [uuid.uuid4() for _ in range(customers)]
            async with engine.begin() as conn:
                await conn.execute(
                    insert(contacts),
                    [
                        {
                            "tenant_id": TENANT,
                            "id": customer,
                            "event_version": 1,
                            "first_name": f"Customer{i}",
                            "last_name": "Bench",
                            "phone": f"+49151{20_000_000 + i}",
                        }
                        for i, customer in enumerate(ids)
                    ],
                )
            request_id = uuid.uuid4()
            async with UnitOfWork(sessions, messaging) as uow:
                uow.publish(
                    BulkMessageRequested(
                        request_id=request_id,
                        customer_ids=ids,
                        channel="sms",
                        body="Hi {{ first_name }}, new classes this week!",
                        requested_by="bench",
                    ),
                    tenant_id=TENANT,
                    aggregate_id=request_id,
                    aggregate_version=1,
                )
                await uow.commit()  # the worker's relay publishes it, its consumer plans

            async def requests() -> list[dict]:
                got = (await http.get(f"{base}/_fake/requests")).json()
                return [r for r in got if r["account_sid"] == sid]

            async def all_sent() -> bool:
                return len([r for r in await requests() if r["answered"] == 201]) >= customers

            await wait_until(all_sent, customers / rate * 2 + 60, "every message")
            mine = await requests()
            accepted = [r for r in mine if r["answered"] == 201]
            refused = [r for r in mine if r["answered"] == 429]
            span = accepted[-1]["at"] - accepted[0]["at"]
            sustained = (len(accepted) - 1) / span
            raw = await baseline(base)
        report(
            f"notifications_bulk: {customers} SMS, one sender provisioned at {rate:g} msg/s",
            {
                "provisioned rate": rate,
                "sustained rate (first to last accepted)": sustained,
                "baseline: SDK to the fake, no rate, 20 in flight": raw,
            },
        )
        deviation = abs(sustained - rate) / rate * 100
        print(
            f"  sustained {sustained:.2f} msg/s; 429 answers: {len(refused)}; "
            f"deviation from provisioned: {deviation:.1f} %"
        )
        print(f"  accepted {len(accepted)} of {customers}, over {span:.1f} s")
        if refused or deviation > 5 or len(accepted) != customers:
            raise SystemExit("notifications_bulk: outside 5 % of the provisioned rate, or 429s")
    finally:
        processes.stop()
        await engine.dispose()
        await migrations.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    asyncio.run(main(args.customers, args.rate))
