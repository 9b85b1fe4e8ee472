"""Browsers on other origins (CORS) and ``OPTIONS`` through the front door. Before, any
``OPTIONS`` of a proxied path (``/v1/customers``), a browser's preflight included,
answered 404 "No such path." (the request guard knows only the gateway's own paths)
without a CORS header, so a web app on another origin could call nothing. Now the gateway
answers preflights itself for the origins in FRONTDESK_CORS_ORIGINS (none by default),
marks every answer, the services' too, as readable by them, and passes any other
``OPTIONS`` of a proxied path on to its service."""

import uuid

import pytest
from gateway_testing import bearer, gateway_client

from frontdesk.gateway.settings import GatewaySettings
from frontdesk.kit.auth import Role, issue_token
from frontdesk.kit.problems import PROBLEM_JSON

APP = "https://app.example.com"


def preflight(origin: str = APP, method: str = "GET", headers: str = "authorization") -> dict:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


def token(runtime) -> dict[str, str]:
    return bearer(issue_token(runtime.settings, tenant_id=uuid.uuid4(), role=Role.admin))


async def test_no_origin_is_allowed_by_default(client, runtime):
    assert runtime.settings.cors_origins == []
    r = await client.options("/v1/customers", headers=preflight())
    assert "access-control-allow-origin" not in r.headers
    r = await client.get("/v1/customers", headers={**token(runtime), "Origin": APP})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


@pytest.fixture
async def cors_client(runtime, monkeypatch):
    monkeypatch.setattr(runtime.settings, "cors_origins", [APP, "http://localhost:5173"])
    async with gateway_client(runtime) as client:
        yield client


async def test_a_preflight_of_an_allowed_origin_is_answered_for_every_path(cors_client, upstream):
    seen = len(upstream.seen)
    for path, method in [
        ("/v1/customers", "GET"),  # proxied to the customers service
        ("/v1/customers/42/notes", "POST"),
        ("/v1/auth/customer-login", "POST"),  # the gateway's own
        ("/v1/auth/customer-password", "PUT"),
    ]:
        r = await cors_client.options(
            path, headers=preflight(method=method, headers="authorization, content-type")
        )
        assert r.status_code == 200, (path, r.text)
        assert r.headers["access-control-allow-origin"] == APP
        assert method in r.headers["access-control-allow-methods"]
        allowed = r.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "idempotency-key" in allowed
        assert int(r.headers["access-control-max-age"]) == 600
        assert "access-control-allow-credentials" not in r.headers  # bearer tokens only
        assert "origin" in r.headers["vary"].lower()
    assert len(upstream.seen) == seen  # no preflight reached a service


async def test_answers_to_an_allowed_origin_are_readable_by_it(cors_client, runtime):
    r = await cors_client.get("/v1/customers", headers={**token(runtime), "Origin": APP})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == APP
    exposed = r.headers["access-control-expose-headers"].lower()
    assert "x-request-id" in exposed and "ratelimit-remaining" in exposed and "etag" in exposed
    # A refusal too, so the app can read the problem.
    r = await cors_client.get("/v1/tenant", headers={"Origin": APP})
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == APP


async def test_other_origins_methods_and_headers_are_refused(cors_client, runtime):
    for headers, words in [
        (preflight(origin="https://evil.example.com"), "origin"),
        (preflight(origin="https://app.example.com.evil.com"), "origin"),
        (preflight(method="TRACE"), "method"),
        (preflight(headers="authorization, x-secret"), "headers"),
    ]:
        r = await cors_client.options("/v1/customers", headers=headers)
        assert r.status_code == 400 and r.headers["content-type"].startswith(PROBLEM_JSON)
        assert words in r.json()["detail"]
        assert "access-control-allow-origin" not in r.headers
    r = await cors_client.get(
        "/v1/customers", headers={**token(runtime), "Origin": "https://evil.example.com"}
    )
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    # OPTIONS without a preflight's headers is no preflight: as without CORS.
    assert (await cors_client.options("/v1/auth/login")).headers["allow"] == "OPTIONS, POST"


async def test_options_of_a_proxied_path_is_the_services_to_answer(client, runtime, upstream):
    r = await client.options("/v1/customers/42", headers={"X-Request-Id": "opt-1"})
    assert r.status_code == 200 and r.headers["x-upstream"] == "fake"
    assert (
        upstream.seen[-1]["method"] == "OPTIONS" and upstream.seen[-1]["path"] == "/v1/customers/42"
    )
    assert r.headers["x-request-id"] == "opt-1"
    # The gateway's own paths and unknown ones are answered here, as before.
    assert (await client.options("/v1/tenant")).status_code == 204
    r = await client.options("/v1/no-such-thing")
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM_JSON)


def test_the_origins_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("FRONTDESK_CORS_ORIGINS", "https://App.example.com, http://localhost:5173")
    assert GatewaySettings().cors_origins == ["https://app.example.com", "http://localhost:5173"]
    monkeypatch.setenv("FRONTDESK_CORS_ORIGINS", '["https://a.example.com", "http://[::1]:8080"]')
    assert GatewaySettings().cors_origins == ["https://a.example.com", "http://[::1]:8080"]
    monkeypatch.setenv("FRONTDESK_CORS_ORIGINS", "*")
    assert GatewaySettings().cors_origins == ["*"]
    for bad in ("https://app.example.com/", "app.example.com", "https://a.example.com/path"):
        monkeypatch.setenv("FRONTDESK_CORS_ORIGINS", bad)
        with pytest.raises(ValueError, match="cors_origins"):
            GatewaySettings()
