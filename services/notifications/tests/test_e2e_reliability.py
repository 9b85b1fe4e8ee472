"""Fault injection: the notifications worker killed mid-send AND the broker restarted,
and still every due message is sent exactly once.

The broker restarted is a RabbitMQ node of this test's own (on a free port, its own
node name, data and logs, the machine's Erlang cookie), so the machine's broker and
everyone else's tests are left alone. Needs root (the node runs as ``rabbitmq``) and
Debian's ``rabbitmq-server``; skipped otherwise.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontdesk.kit import migrations
from frontdesk.kit.settings import Settings
from frontdesk.kit.testing import wait_for

pytestmark = pytest.mark.reliability

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
SERVICES = ("customers", "notifications")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateBroker:
    """A RabbitMQ node of its own, started and stopped as the ``rabbitmq`` user."""

    def __init__(self) -> None:
        self.port, self.dist_port = _port(), _port()
        self.name = f"fd{uuid.uuid4().hex[:8]}@localhost"
        self.dir = Path(tempfile.mkdtemp(prefix="fd-rabbit-"))
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _as_rabbitmq(self, command: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["su", "rabbitmq", "-s", "/bin/sh", "-c", f"cd /var/lib/rabbitmq && {command}"],
            capture_output=True,
            timeout=120,
            **kwargs,
        )

    def ctl(self, *args: str) -> None:
        done = self._as_rabbitmq(
            f"HOME=/var/lib/rabbitmq rabbitmqctl -n {self.name} {' '.join(args)}"
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")

    def start(self) -> None:
        (self.dir / "mnesia").mkdir()
        (self.dir / "log").mkdir()
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / "node.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        env = " ".join(
            f"{k}={v}"
            for k, v in {
                "HOME": "/var/lib/rabbitmq",
                "RABBITMQ_NODENAME": self.name,
                "RABBITMQ_DIST_PORT": self.dist_port,
                "RABBITMQ_MNESIA_BASE": self.dir / "mnesia",
                "RABBITMQ_LOG_BASE": self.dir / "log",
                "RABBITMQ_ENABLED_PLUGINS_FILE": self.dir / "enabled_plugins",
                "RABBITMQ_CONFIG_FILE": self.dir / "node.conf",
            }.items()
        )
        shutil.chown(self.dir, "rabbitmq", "rabbitmq")
        for path in self.dir.rglob("*"):
            shutil.chown(path, "rabbitmq", "rabbitmq")
        self.process = subprocess.Popen(
            [
                "su",
                "rabbitmq",
                "-s",
                "/bin/sh",
                "-c",
                f"cd /var/lib/rabbitmq && env {env} {SERVER}",
            ],
            stdout=(self.dir / "out.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        time.sleep(3)  # before await_startup, as with any extra node
        self.ctl("await_startup")

    def restart_app(self) -> None:
        self.ctl("stop_app")
        time.sleep(1)
        self.ctl("start_app")
        self.ctl("await_startup")

    def stop(self) -> None:
        try:
            self.ctl("stop")
        finally:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def broker() -> Iterator[PrivateBroker]:
    if os.geteuid() != 0 or not SERVER.exists() or shutil.which("su") is None:
        pytest.skip("needs root and Debian's rabbitmq-server for a broker of its own")
    node = PrivateBroker()
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
async def private_stack(broker: PrivateBroker, tmp_path: Path) -> AsyncIterator[Any]:
    """customers and notifications (api and worker) and the stand-ins, on the private
    broker."""
    from running_stack import Stack, Tenant  # on the path through conftest

    stack = Stack(tmp_path)
    stack.env["FRONTDESK_AMQP_URL"] = broker.url
    try:
        await stack.start_standins()
        for service in SERVICES:
            done = await asyncio.to_thread(
                subprocess.run,
                stack._cmd(service, "migrate"),
                env=stack.env,
                capture_output=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            stack.start(service, "worker")
            stack.start(service, "api")
        for service in SERVICES:
            await stack.wait_worker(service)
            await stack.wait_api(service)
        tenant = Tenant(stack)
        yield stack, tenant
        await tenant.close()
    finally:
        stack.stop_all()
        for service in SERVICES:
            settings = Settings(
                service=service, database_prefix=stack.env["FRONTDESK_DATABASE_PREFIX"]
            )
            await migrations.drop_database(settings.resolved_database_url())


async def test_worker_killed_and_broker_restarted_every_message_goes_exactly_once(
    private_stack: Any, broker: PrivateBroker
) -> None:
    stack, tenant = private_stack
    fake = httpx.AsyncClient(base_url=stack.env["FRONTDESK_STANDINS_URL"], timeout=30)
    notifications = tenant.client("notifications")
    sid = "AC" + uuid.uuid4().hex
    await fake.post(f"/_fake/accounts/{sid}", json={"mps": 10})
    r = await notifications.put(
        "/v1/notification-settings",
        json={
            "twilio_account_sid": sid,
            "twilio_auth_token": "reliability-token",
            "twilio_from": "+15005550006",
            "sms_per_second": 10.0,
        },
    )
    assert r.status_code == 200, r.text
    numbers = [f"+49151{n:08d}" for n in range(11_000_000, 11_000_040)]
    customers = []
    for number in numbers:
        r = await tenant.customers.post(
            "/v1/customers", json={"first_name": "Ada", "last_name": "L", "phone": number}
        )
        assert r.status_code == 201, r.text
        customers.append(r.json()["id"])
    await asyncio.sleep(2)  # the contacts reach notifications
    r = await tenant.customers.post(
        "/v1/customers/bulk",
        json={
            "ids": customers,
            "action": "message",
            "channel": "sms",
            "body": "Hi {{ first_name }}",
        },
    )
    assert r.status_code == 200, r.text
    request_id = r.json()["request_id"]

    async def requests() -> list[dict[str, Any]]:
        got = (await fake.get("/_fake/requests")).json()
        return [x for x in got if x["account_sid"] == sid]

    await wait_for(lambda: _at_least(requests, 12), timeout=60, interval=0.05)
    stack.kill("notifications", "worker", signal.SIGKILL)
    await asyncio.to_thread(broker.restart_app)
    await stack.restart_worker("notifications")

    async def done() -> Any:
        r = await notifications.get(f"/v1/bulk-messages/{request_id}")
        progress = r.json() if r.status_code == 200 else {}
        return progress if progress.get("done") else None

    progress = await wait_for(done, timeout=180, interval=0.5)
    assert progress["counts"]["failed"] == 0 and progress["counts"]["skipped"] == 0
    mine = await requests()
    assert {x["answered"] for x in mine} == {201}
    assert sorted(x["to"] for x in mine) == sorted(numbers)  # each exactly once
    # After the restart the bus works on: a message published now is still consumed.
    extra = "+4915111000099"
    r = await tenant.customers.post(
        "/v1/customers", json={"first_name": "Late", "last_name": "L", "phone": extra}
    )
    assert r.status_code == 201
    late = r.json()["id"]

    async def known() -> bool:
        r = await notifications.post(
            "/v1/templates/preview",
            json={
                "kind": "direct",
                "channel": "sms",
                "body": "{{ first_name }}",
                "customer_id": late,
            },
        )
        return r.status_code == 200 and r.json()["body"] == "Late"

    await wait_for(known, timeout=60, interval=0.5)
    await fake.aclose()


async def _at_least(requests: Any, count: int) -> bool:
    return len(await requests()) >= count
