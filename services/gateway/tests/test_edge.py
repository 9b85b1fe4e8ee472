"""The front door over real HTTP to a service behind it: paths routed by prefix, bodies
and answers streamed through with the request id, trace context and client address; a
service that is down answers 503 and one that is slow 504 (problem+json, never a hang);
rate limits in Redis with 429 and the RateLimit headers; one OpenAPI document; Swagger UI
at /docs with no outside files; revoked tokens refused for every service."""

import re
import time
import uuid

import pytest
from gateway_testing import bearer, gateway_client, sign_up

from frontdesk.gateway.api import front
from frontdesk.gateway.settings import GatewaySettings
from frontdesk.kit.auth import Role, issue_token
from frontdesk.kit.problems import PROBLEM_JSON


def dev_token(runtime, tenant_id=None, role=Role.admin, **kw) -> dict[str, str]:
    return bearer(
        issue_token(runtime.settings, tenant_id=tenant_id or uuid.uuid4(), role=role, **kw)
    )


async def test_a_path_goes_to_its_service_with_the_request_passed_on(client, runtime, upstream):
    headers = {
        **dev_token(runtime),
        "X-Request-Id": "req-123",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "Connection": "keep-alive, x-secret",
    }
    r = await client.post(
        "/v1/customers/42/notes?pinned=true&x=%2F", content=b'{"text": "hi"}', headers=headers
    )
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["method"] == "POST" and seen["path"] == "/v1/customers/42/notes?pinned=true&x=%2F"
    assert seen["body"] == '{"text": "hi"}'
    sent = seen["headers"]
    assert sent["authorization"] == headers["Authorization"]
    assert sent["x-request-id"] == "req-123" and r.headers["x-request-id"] == "req-123"
    # The gateway's own span continues the caller's trace.
    assert sent["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
    assert sent["traceparent"].split("-")[2] != "b7ad6b7169203331"
    assert sent["x-forwarded-for"].startswith("10.") and sent["x-forwarded-proto"] == "http"
    assert sent["host"].startswith("127.0.0.1:")
    assert "x-secret" not in sent and sent.get("connection", "keep-alive") == "keep-alive"
    assert r.headers["x-upstream"] == "fake" and r.headers["set-cookie"] == "a=1"
    assert r.headers["ratelimit-limit"] and r.headers["ratelimit-remaining"]
    # A request without an id gets one; the service's status passes through.
    r = await client.get("/v1/customers?status=404", headers=dev_token(runtime))
    assert r.status_code == 404 and len(r.headers["x-request-id"]) == 32


async def test_answers_stream_through(client, runtime):
    async with client.stream("GET", "/v1/customers/stream", headers=dev_token(runtime)) as r:
        chunks = [chunk async for chunk in r.aiter_text()]
    assert "".join(chunks) == "".join(f"chunk {i}\n" for i in range(5))


async def test_a_service_that_is_down_answers_503_and_a_slow_one_504(client, runtime):
    started = time.monotonic()
    r = await client.get("/v1/credit-products", headers=dev_token(runtime))
    assert r.status_code == 503 and r.headers["content-type"].startswith(PROBLEM_JSON)
    assert r.headers["retry-after"] == "5" and "credits" in r.json()["detail"]
    r = await client.get("/v1/customers/slow?seconds=3", headers=dev_token(runtime))
    assert r.status_code == 504 and r.headers["content-type"].startswith(PROBLEM_JSON)
    assert time.monotonic() - started < 5
    r = await client.get("/v1/nothing-here", headers=dev_token(runtime))
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM_JSON)
    # An own path with a method it does not serve.
    r = await client.put("/v1/tenant", headers=dev_token(runtime), json={})
    assert r.status_code == 405 and "PATCH" in r.headers["allow"]


async def test_bad_and_revoked_tokens_are_refused_at_the_door(client, runtime, upstream):
    before = len(upstream.seen)
    r = await client.get("/v1/customers", headers=bearer("not.a.token"))
    assert r.status_code == 401
    r = await client.get("/v1/customers", headers={"Authorization": "Basic eDp5"})
    assert r.status_code == 401
    made = await sign_up(client)
    tokens = made["tokens"]
    r = await client.get("/v1/customers", headers=bearer(tokens["access_token"]))
    assert r.status_code == 200
    await client.post("/v1/auth/logout", headers=bearer(tokens["access_token"]))
    r = await client.get("/v1/customers", headers=bearer(tokens["access_token"]))
    assert r.status_code == 401 and "ended" in r.json()["detail"]
    assert len(upstream.seen) == before + 1  # refused requests never reached the service
    # A path the service serves without a token (a feed) goes through without one.
    assert (await client.get("/v1/customers/public-feed.ics")).status_code == 200


async def test_429_after_the_limit_with_retry_after_and_ratelimit_headers(runtime, monkeypatch):
    monkeypatch.setattr(runtime.settings, "rate_limit_per_address", 5)
    monkeypatch.setattr(runtime.settings, "rate_limit_window_seconds", 30)
    async with gateway_client(runtime, address=f"192.0.2.{uuid.uuid4().int % 250}") as client:
        headers = dev_token(runtime)
        remaining = []
        for _ in range(5):
            r = await client.get("/v1/customers", headers=headers)
            assert r.status_code == 200
            remaining.append(int(r.headers["ratelimit-remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        r = await client.get("/v1/customers", headers=headers)
        assert r.status_code == 429 and r.headers["content-type"].startswith(PROBLEM_JSON)
        assert 1 <= int(r.headers["retry-after"]) <= 30
        assert r.headers["ratelimit-limit"] == "5" and r.headers["ratelimit-remaining"] == "0"
        assert "5;w=30" in r.headers["ratelimit-policy"]
        # The gateway's own routes count too.
        assert (await client.get("/v1/tenant", headers=headers)).status_code == 429
    # Another address has its own window.
    async with gateway_client(runtime, address="198.51.100.7") as other:
        assert (await other.get("/v1/customers", headers=dev_token(runtime))).status_code == 200


async def test_login_attempts_are_limited_harder_per_account(runtime, monkeypatch):
    monkeypatch.setattr(runtime.settings, "login_limit_per_account", 3)
    async with gateway_client(runtime) as client:
        made = await sign_up(client)
        body = {"tenant": made["tenant"]["slug"], "email": "owner@example.com", "password": "nope"}
        codes = [(await client.post("/v1/auth/login", json=body)).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
    # From another address too: the account's window is shared.
    async with gateway_client(runtime) as elsewhere:
        r = await elsewhere.post("/v1/auth/login", json=body)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


async def test_tenants_have_windows_of_their_own(runtime, monkeypatch):
    monkeypatch.setattr(runtime.settings, "rate_limit_per_tenant", 3)
    tenant = uuid.uuid4()
    async with gateway_client(runtime) as client:
        for _ in range(3):
            assert (
                await client.get("/v1/customers", headers=dev_token(runtime, tenant))
            ).status_code == 200
        assert (
            await client.get("/v1/customers", headers=dev_token(runtime, tenant))
        ).status_code == 429
        assert (await client.get("/v1/customers", headers=dev_token(runtime))).status_code == 200


async def test_one_openapi_document_for_the_whole_api(client):
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    paths = doc["paths"]
    assert "/v1/auth/login" in paths and "/v1/widgets" in paths  # the gateway's and a service's
    assert paths["/v1/widgets"]["get"]["x-service"] == "customers"
    # A schema name two services use differently is kept apart.
    assert doc["components"]["schemas"]["customers.ProblemBody"]["title"] == "Other"
    assert "credits" in doc["info"]["description"]  # down: named as missing
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # What a service's document names is routed (the fake's /v1/widgets is not declared).
    r = await client.get("/v1/widgets")
    assert r.status_code == 200 and r.json()["path"] == "/v1/widgets"


async def test_docs_serve_swagger_ui_whose_files_come_from_the_gateway(client):
    r = await client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "SwaggerUIBundle(" in page and '"/openapi.json"' in page
    # Every file the page loads is the gateway's own: no CDN, no other origin.
    files = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert files and all(f.startswith("/") and not f.startswith("//") for f in files), files
    assert "http://" not in page and "https://" not in page and "cdn" not in page
    kinds = {}
    for path in files:
        asset = await client.get(path)
        assert asset.status_code == 200, path
        kinds[path.rsplit(".", 1)[-1]] = asset
    assert "SwaggerUIBundle" in kinds["js"].text and len(kinds["js"].content) > 500_000
    assert kinds["js"].headers["content-type"].startswith(("text/javascript", "application/j"))
    assert kinds["css"].headers["content-type"].startswith("text/css")
    assert ".swagger-ui" in kinds["css"].text
    # Swagger UI 5 or later: the merged document is OpenAPI 3.1, which 4.x cannot render.
    assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.1")
    version = re.search(r"swagger-ui-(\d+)\.", str(front.assets_dir(GatewaySettings())))
    assert version and int(version.group(1)) >= 5
    assert (await client.get("/docs/assets/..%2Fsettings.py")).status_code == 404
    assert (await client.get("/docs/assets/index.html")).status_code == 404
    assert (await client.get("/redoc")).status_code == 404  # FastAPI's (CDN) page is gone


async def test_docs_without_swagger_files_are_a_plain_reference(client, monkeypatch):
    monkeypatch.setattr(front, "assets_dir", lambda settings: None)
    r = await client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "cdn." not in page and "<script" not in page
    assert "/v1/auth/login" in page and "/v1/widgets" in page
    assert (await client.get("/docs/assets/swagger-ui-bundle.js")).status_code == 404


async def test_docs_serve_swagger_ui_from_a_local_folder(runtime, monkeypatch, tmp_path):
    (tmp_path / "swagger-ui-bundle.js").write_text("window.SwaggerUIBundle = function () {};")
    (tmp_path / "swagger-ui.css").write_text("body {}")
    monkeypatch.setattr(runtime.settings, "docs_assets_dir", str(tmp_path))
    async with gateway_client(runtime) as client:
        page = (await client.get("/docs")).text
        assert '<script src="/docs/assets/swagger-ui-bundle.js">' in page and "cdn" not in page
        r = await client.get("/docs/assets/swagger-ui-bundle.js")
        assert r.status_code == 200 and r.text == "window.SwaggerUIBundle = function () {};"


async def test_the_asyncapi_catalogue_and_the_jwks_are_public(client):
    doc = (await client.get("/asyncapi.json")).json()
    assert "identity_tenant_changed_v1" in doc["channels"]
    r = await client.get("/.well-known/jwks.json")
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=60"
    assert r.json()["keys"][0]["kty"] == "OKP"


@pytest.mark.parametrize("method", ["GET", "DELETE", "PATCH"])
async def test_every_method_passes(client, runtime, method):
    r = await client.request(method, "/v1/customers/1", headers=dev_token(runtime), json={"a": 1})
    assert r.status_code == 200 and r.json()["method"] == method
