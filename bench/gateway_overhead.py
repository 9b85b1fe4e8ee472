"""The gateway's overhead: the same requests sent to the customers service directly and
through the gateway, in the same run.

Both run as real processes (``python -m frontdesk.<service> api``) on scratch databases:
customers answers ``GET /v1/customers/{id}`` for a customer made first; the gateway
verifies the token, counts the request in its Redis rate-limit windows (limits raised out
of the way), and streams it to customers over its pooled connections. The load is C
concurrent keep-alive clients sending N requests each way.

Figure: requests/s and p50/p95 latency through the gateway; baseline: the same requests
straight to customers. The ratio is the gateway's cost.

    uv run python bench/gateway_overhead.py [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from benchkit import report

from frontdesk.kit import migrations
from frontdesk.kit.auth import Permission, Role, issue_token
from frontdesk.kit.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("customers", "gateway")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"{url} exited with {proc.returncode}")
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"{url} not ready")


async def load(url: str, path: str, headers: dict[str, str], n: int, concurrency: int) -> dict:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                r = await client.get(path)
                latencies.append(time.perf_counter() - started)
                assert r.status_code == 200, r.text

        for _ in range(min(50, n)):  # warm up connections and caches
            await client.get(path)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rate": n / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
    }


def start(env: dict[str, str], ports: dict[str, int]) -> list[subprocess.Popen[bytes]]:
    """Each service's database migrated, then its API as a process of its own."""
    for name in SERVICES:
        subprocess.run(
            [sys.executable, "-m", f"frontdesk.{name}", "migrate"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    return [
        subprocess.Popen(
            [sys.executable, "-m", f"frontdesk.{name}", "api"],
            env={**env, "FRONTDESK_PORT": str(ports[name])},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name in SERVICES
    ]


async def main(requests: int, concurrency: int) -> None:
    run = uuid.uuid4().hex[:8]
    ports = {name: free_port() for name in SERVICES}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")},
        **{
            k: os.environ[k]
            for k in ("FRONTDESK_PG_URL", "FRONTDESK_JWT_SECRET")
            if k in os.environ
        },
        "FRONTDESK_DATABASE_PREFIX": f"bench{run}_",
        "FRONTDESK_BUS_PREFIX": f"bench.{run}.",
        "FRONTDESK_SERVICE_URLS": json.dumps(urls),
        "FRONTDESK_LOG_LEVEL": "WARNING",
        "FRONTDESK_RATE_LIMIT_PER_ADDRESS": "100000000",
        "FRONTDESK_RATE_LIMIT_PER_TENANT": "100000000",
    }
    procs: list[subprocess.Popen[bytes]] = []
    settings = Settings(database_prefix=env["FRONTDESK_DATABASE_PREFIX"])
    try:
        procs.extend(await asyncio.to_thread(start, env, ports))
        for name, proc in zip(SERVICES, procs, strict=True):
            await wait_ready(urls[name], proc)
        token = issue_token(
            settings, tenant_id=uuid.uuid4(), role=Role.admin, permissions=list(Permission)
        )
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=urls["customers"], headers=headers) as client:
            r = await client.post(
                "/v1/customers",
                json={"first_name": "Bench", "last_name": "Mark", "email": "b@example.com"},
            )
            r.raise_for_status()
            path = f"/v1/customers/{r.json()['id']}"
        direct = await load(urls["customers"], path, headers, requests, concurrency)
        through = await load(urls["gateway"], path, headers, requests, concurrency)
        direct_again = await load(urls["customers"], path, headers, requests, concurrency)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        for name in SERVICES:
            await migrations.drop_database(
                Settings(
                    database_prefix=env["FRONTDESK_DATABASE_PREFIX"], service=name
                ).resolved_database_url()
            )
    baseline = max(direct["rate"], direct_again["rate"])
    report(
        f"GET /v1/customers/{{id}}, {requests} requests, {concurrency} concurrent clients",
        {
            "through the gateway": through["rate"],
            "straight to customers (baseline)": baseline,
        },
    )
    print(
        f"  latency p50/p95: gateway {through['p50']:.1f}/{through['p95']:.1f} ms, "
        f"direct {direct['p50']:.1f}/{direct['p95']:.1f} ms"
    )
    print(f"  gateway throughput / direct: {through['rate'] / baseline:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency))
