"""Settings: production refuses a secret anyone could know; the connection budget and body
limit are bounded; a service's own settings class is what its runtime gets."""

import dataclasses
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from kit_probe import SPEC
from pydantic import ValidationError

from frontdesk.kit.db import engine_for
from frontdesk.kit.service import Runtime
from frontdesk.kit.settings import DEVELOPMENT_JWT_SECRET, Settings

PROBE = Path(__file__).resolve().parent / "kit_probe.py"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("FRONTDESK_ENV", "FRONTDESK_JWT_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="development-default"),
        pytest.param(DEVELOPMENT_JWT_SECRET, id="development-default-explicit"),
        pytest.param("change-me-" + secrets.token_hex(24), id="change-me"),
        pytest.param("Please-CHANGE-ME-" + secrets.token_hex(24), id="CHANGE-ME"),
        pytest.param(secrets.token_hex(10), id="20-chars"),
        pytest.param(secrets.token_hex(15) + "x", id="31-chars"),
        pytest.param("", id="empty"),
    ],
)
def test_production_refuses_a_weak_or_placeholder_secret(secret):
    overrides = {} if secret is None else {"jwt_secret": secret}
    with pytest.raises(ValidationError) as caught:
        Settings(env="production", **overrides)
    assert "JWT_SECRET" in str(caught.value)


def test_production_takes_a_long_random_secret_and_other_envs_keep_the_default():
    strong = secrets.token_urlsafe(36)
    assert len(strong) == 48
    assert Settings(env="production", jwt_secret=strong).jwt_secret == strong
    assert Settings(env="production", jwt_secret="x" * 32).env == "production"
    assert Settings().jwt_secret == DEVELOPMENT_JWT_SECRET  # development
    assert Settings(env="test", jwt_secret="short").jwt_secret == "short"
    with pytest.raises(ValidationError):
        Settings(env="staging")


def test_production_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("FRONTDESK_ENV", "production")
    with pytest.raises(ValidationError):
        SPEC.settings()
    strong = secrets.token_urlsafe(36)
    monkeypatch.setenv("FRONTDESK_JWT_SECRET", strong)
    settings = SPEC.settings()
    assert settings.env == "production" and settings.jwt_secret == strong


def test_a_service_refuses_to_start_in_production_with_the_development_secret():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "FRONTDESK_ENV": "production",
        "FRONTDESK_PORT": str(port),
        "KIT_PROBE_NAME": "kp_prodcheck",
    }
    env.pop("FRONTDESK_JWT_SECRET", None)
    # If the check were gone, the API would start serving: the timeout makes that a failure.
    done = subprocess.run(
        [sys.executable, str(PROBE), "api"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "FRONTDESK_JWT_SECRET" in done.stderr
    assert "Uvicorn running" not in done.stderr


@pytest.mark.parametrize(
    "bad",
    [
        {"db_pool_size": 0},
        {"db_pool_size": 101},
        {"db_max_overflow": -1},
        {"db_pool_timeout_seconds": 0},
        {"max_body_bytes": 100},
    ],
    ids=lambda d: next(iter(d)),
)
def test_the_connection_budget_and_body_limit_are_bounded(bad):
    with pytest.raises(ValidationError) as caught:
        Settings(**bad)
    assert next(iter(bad)) in str(caught.value)


async def test_the_engine_is_sized_by_the_settings(monkeypatch):
    monkeypatch.setenv("FRONTDESK_DB_POOL_SIZE", "3")
    monkeypatch.setenv("FRONTDESK_DB_POOL_TIMEOUT_SECONDS", "1.5")
    settings = SPEC.settings()
    assert settings.db_pool_size == 3
    engine = engine_for(settings)
    try:
        assert engine.pool.size() == 3
        assert engine.pool.timeout() == 1.5
    finally:
        await engine.dispose()


class ProbeSettings(Settings):
    greeting: str = "hello"


async def test_a_service_settings_class_is_what_its_runtime_gets(monkeypatch):
    spec = dataclasses.replace(SPEC, settings_class=ProbeSettings)
    monkeypatch.setenv("FRONTDESK_GREETING", "moin")
    monkeypatch.delenv("FRONTDESK_PORT", raising=False)
    settings = spec.settings()
    assert isinstance(settings, ProbeSettings)
    assert (settings.greeting, settings.service, settings.port) == ("moin", SPEC.name, SPEC.port)
    runtime = Runtime(spec)
    try:
        assert isinstance(runtime.settings, ProbeSettings)
        assert runtime.settings.greeting == "moin"
    finally:
        await runtime.engine.dispose()
