"""Alert rules and dashboards an operator can trust: the rules pass their promtool unit
tests, and every metric a rule or a dashboard panel names is one a running service
really exports (as the collector's Prometheus exporter names it)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.metrics import Counter, Histogram, ObservableGauge, UpDownCounter
from opentelemetry.sdk.metrics.export import Histogram as HistogramData
from opentelemetry.sdk.metrics.export import Sum

from frontdesk.contracts.customers import CustomerDeleted
from frontdesk.kit import metrics as kit_metrics
from frontdesk.kit.auth import Role, issue_token
from frontdesk.kit.testing import METRICS, app_client, running_service, wait_for
from frontdesk.scheduling.app import SPEC as SCHEDULING

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = {"s": "seconds", "ms": "milliseconds", "By": "bytes"}


def prometheus_names(name: str, unit: str, kind: str) -> set[str]:
    """The series names the collector's Prometheus exporter gives an OTel instrument:
    dots become underscores, a unit not in braces becomes a suffix, a monotonic sum ends
    in _total and a histogram is _bucket, _sum and _count."""
    base = name.replace(".", "_")
    if unit and not unit.startswith("{"):
        suffix = UNITS.get(unit, unit)
        if not base.endswith(f"_{suffix}"):
            base = f"{base}_{suffix}"
    if kind == "counter":
        return {f"{base}_total"}
    if kind == "histogram":
        return {f"{base}_bucket", f"{base}_sum", f"{base}_count"}
    return {base}


def exported() -> set[str]:
    names: set[str] = set()
    data = METRICS.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if isinstance(metric.data, HistogramData):
                    kind = "histogram"
                elif isinstance(metric.data, Sum) and metric.data.is_monotonic:
                    kind = "counter"
                else:
                    kind = "gauge"
                names |= prometheus_names(metric.name, metric.unit or "", kind)
    return names


def declared() -> set[str]:
    """The kit's instruments that only report once something happens (a parked row)."""
    names: set[str] = set()
    for value in vars(kit_metrics).values():
        kind = (
            "histogram"
            if isinstance(value, Histogram)
            else "counter"
            if isinstance(value, Counter)
            else "gauge"
            if isinstance(value, UpDownCounter | ObservableGauge)
            else None
        )
        if kind:
            # Instruments made before the SDK was configured are proxies (_name, _unit).
            name = getattr(value, "name", None) or value._name
            unit = getattr(value, "unit", None) or getattr(value, "_unit", "")
            names |= prometheus_names(name, unit or "", kind)
    return names


def named_metrics(expression: str) -> set[str]:
    """Metric names in a PromQL expression (label names and functions left out)."""
    without_labels = re.sub(r"\{[^}]*\}", "", expression)
    without_by = re.sub(r"\b(by|without)\s*\([^)]*\)", "", without_labels)
    return set(re.findall(r"\b((?:frontdesk|http|db)_[a-z0-9_]+)\b", without_by))


def rule_expressions() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    found = []
    for path in (DEPLOY / "grafana" / "dashboards").glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            found.extend(target["expr"] for target in panel.get("targets", []))
    return found


def test_promtool_is_installed_by_the_project() -> None:
    assert shutil.which("promtool"), "make test installs Debian's prometheus (scripts/tools.sh)"


def test_alert_rules_are_valid_and_pass_their_unit_tests() -> None:
    promtool = shutil.which("promtool") or "promtool"
    folder = DEPLOY / "prometheus"
    checked = subprocess.run(
        [promtool, "check", "rules", "alerts.yml"], cwd=folder, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [promtool, "test", "rules", "alerts.test.yml"], cwd=folder, capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    tested_alerts = set(re.findall(r"alertname: (\w+)", (folder / "alerts.test.yml").read_text()))
    rules = yaml.safe_load((folder / "alerts.yml").read_text())
    every_alert = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert every_alert == tested_alerts  # every alert has a unit test


@pytest.mark.parametrize("source", ["alerts", "dashboards"])
async def test_every_metric_named_is_one_a_running_service_exports(source: str) -> None:
    # Names of its own: the scheduling suite may run its own service in this process.
    own = uuid.uuid4().hex[:8]
    async with running_service(
        SCHEDULING,
        database_prefix=f"ops{own}_",
        bus_prefix=f"ops{own}.",
        db_pool_size=2,
        db_max_overflow=1,
    ) as runtime:
        SQLAlchemyInstrumentor().instrument(engine=runtime.engine.sync_engine)
        try:
            await _exercise(runtime)
        finally:
            SQLAlchemyInstrumentor().uninstrument()
    available = exported() | declared()
    expressions = rule_expressions() if source == "alerts" else dashboard_expressions()
    assert expressions
    missing = {n for e in expressions for n in named_metrics(e)} - available
    assert not missing, f"named but never exported: {sorted(missing)}"


async def _exercise(runtime: Any) -> None:
    """HTTP requests, SQL, a booking decided by the saga, an event through the consumer."""
    tenant = uuid.uuid4()
    token = issue_token(runtime.settings, tenant_id=tenant, role=Role.admin)
    headers = {"Authorization": f"Bearer {token}"}
    async with app_client(runtime) as client:
        location = (
            await client.post(
                "/v1/locations", json={"name": "Mitte", "timezone": "UTC"}, headers=headers
            )
        ).json()
        starts = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        session = await client.post(
            "/v1/sessions",
            json={
                "title": "Yoga",
                "location_id": location["id"],
                "starts_at": starts,
                "duration_minutes": 60,
                "capacity": 5,
                "payment": {"method": "free"},
            },
            headers=headers,
        )
        assert session.status_code == 201, session.text
        booked = await client.post(
            "/v1/bookings",
            json={"session_id": session.json()["id"], "customer_id": str(uuid.uuid4())},
            headers=headers,
        )
        assert booked.status_code == 201, booked.text
    async with runtime.uow() as uow:
        uow.publish(
            CustomerDeleted(customer_id=uuid.uuid4()),
            tenant_id=tenant,
            aggregate_id=uuid.uuid4(),
            aggregate_version=1,
        )
        await uow.commit()
    assert runtime.consumer is not None
    consumer = runtime.consumer
    await wait_for(lambda: _handled(consumer), timeout=15)
    await consumer.measure_queue_depths()
    await runtime.relay.measure_backlog()


async def _handled(consumer: Any) -> bool:
    return bool(consumer.handled)
