"""The request guard in front of every app: authentication before the body is read, a body
size limit with or without Content-Length, OPTIONS with Allow, and the safety headers."""

import asyncio
import uuid

import httpx
import pytest
from kit_probe import one_connection, posts_waiting_for_the_connection, probe_service, things
from sqlalchemy import func, select

from frontdesk.kit.auth import Role
from frontdesk.kit.problems import PROBLEM_JSON
from frontdesk.kit.testing import app_client

MiB = 1024 * 1024


@pytest.fixture(scope="module")
async def runtime():
    async with probe_service(relay=False, consumer=False) as rt:
        yield rt


@pytest.fixture
async def client(runtime):
    async with app_client(runtime) as c:
        yield c


class StreamedBody:
    """A request body sent in ``chunks`` pieces of ``size`` bytes, counting what was pulled."""

    def __init__(self, chunks: int, size: int = MiB, fill: bytes = b" ") -> None:
        self.chunks = chunks
        self.size = size
        self.fill = fill
        self.pulled = 0

    async def __aiter__(self):
        for _ in range(self.chunks):
            self.pulled += 1
            yield self.fill * self.size


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status and body["title"]
    return body


def assert_safe(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


async def thing_count(runtime) -> int:
    async with runtime.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(things))).scalar_one()


def json_of_size(size: int, name: str = "Padded") -> bytes:
    """A valid JSON body of exactly ``size`` bytes (padded with whitespace)."""
    core = b'{"name": "%s"' % name.encode()
    return core + b" " * (size - len(core) - 1) + b"}"


# --- authentication before the body -----------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"Authorization": "Bearer not.a.jwt"}, id="bad-token"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="basic"),
    ],
)
async def test_an_unauthenticated_streamed_upload_answers_401_without_reading_it(
    client, runtime, headers
):
    body = StreamedBody(chunks=64)
    r = await client.post(
        "/v1/probes", content=body, headers={**headers, "content-type": "application/json"}
    )
    assert_problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"
    assert body.pulled <= 1, f"{body.pulled} MiB read before answering 401"
    assert_safe(r)


async def test_an_unauthenticated_upload_with_a_huge_content_length_answers_401_unread(client):
    body = StreamedBody(chunks=64)
    r = await client.patch(
        f"/v1/probes/{uuid.uuid4()}",
        content=body,
        headers={"content-length": str(64 * MiB), "content-type": "application/json"},
    )
    assert_problem(r, 401)
    assert body.pulled <= 1


async def test_an_unknown_path_is_404_for_anyone_and_public_paths_need_no_token(client):
    assert_problem(await client.get("/v1/nothing-here"), 404)
    assert_problem(await client.post("/v1/nothing-here", json={}), 404)
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert_safe(r)
    assert (await client.get("/readyz")).status_code != 401  # 503 here: no relay runs
    r = await client.get("/openapi.json")
    assert r.status_code == 200 and "/v1/probes" in r.json()["paths"]
    assert (await client.get("/docs")).status_code == 200
    # a path the service declared public (a feed whose URL is its secret)
    r = await client.get("/v1/probes/feeds/s3cr3t")
    assert r.status_code == 200 and r.json() == {"feed": "s3cr3t"}
    # ... but only that path: its neighbours still need a token
    assert_problem(await client.get("/v1/probes/whoami"), 401)
    assert_problem(await client.get("/v1/probes"), 401)


# --- body size --------------------------------------------------------------------------


async def test_a_body_over_the_limit_with_content_length_answers_413(client, tokens, runtime):
    limit = runtime.settings.max_body_bytes
    h = tokens.headers(Role.staff)
    before = await thing_count(runtime)
    r = await client.post(
        "/v1/probes",
        content=json_of_size(limit + 1),
        headers={**h, "content-type": "application/json"},
    )
    body = assert_problem(r, 413)
    assert body["title"] == "Payload too large"
    assert_safe(r)
    # a declared length over the limit is refused before any of the body is read
    streamed = StreamedBody(chunks=8)
    r = await client.post(
        "/v1/probes",
        content=streamed,
        headers={**h, "content-type": "application/json", "content-length": str(8 * MiB)},
    )
    assert_problem(r, 413)
    assert streamed.pulled <= 1
    assert await thing_count(runtime) == before


async def test_a_chunked_body_over_the_limit_answers_413_having_read_only_up_to_it(
    client, tokens, runtime
):
    limit = runtime.settings.max_body_bytes
    before = await thing_count(runtime)
    streamed = StreamedBody(chunks=64)
    r = await client.post(
        "/v1/probes",
        content=streamed,
        headers={**tokens.headers(Role.staff), "content-type": "application/json"},
    )
    assert "content-length" not in r.request.headers
    assert r.request.headers["transfer-encoding"] == "chunked"
    body = assert_problem(r, 413)
    assert str(limit) in body["detail"]
    assert streamed.pulled <= limit // MiB + 1
    assert_safe(r)
    assert await thing_count(runtime) == before


async def test_a_body_at_the_limit_reaches_the_route_with_or_without_content_length(
    client, tokens, runtime
):
    limit = runtime.settings.max_body_bytes
    h = {**tokens.headers(Role.staff), "content-type": "application/json"}
    r = await client.post("/v1/probes", content=json_of_size(limit, "Sized"), headers=h)
    assert r.status_code == 201, r.text

    payload = json_of_size(limit, "Chunked")

    async def chunks():
        for start in range(0, len(payload), 100_000):
            yield payload[start : start + 100_000]

    r = await client.post("/v1/probes", content=chunks(), headers=h)
    assert r.status_code == 201, r.text
    listed = (await client.get("/v1/probes", headers=tokens.headers(Role.staff))).json()
    assert {t["name"] for t in listed} >= {"Sized", "Chunked"}


# --- OPTIONS and headers ----------------------------------------------------------------


def allowed(response: httpx.Response) -> set[str]:
    return {m.strip() for m in response.headers["allow"].split(",")}


async def test_options_answers_204_with_every_method_of_the_path_without_a_token(client):
    r = await client.options("/v1/probes")
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert {"GET", "POST", "OPTIONS"} <= allowed(r)
    assert not {"PATCH", "DELETE", "PUT"} & allowed(r)
    assert_safe(r)

    r = await client.options(f"/v1/probes/{uuid.uuid4()}")
    assert r.status_code == 204
    assert {"GET", "PATCH", "OPTIONS"} <= allowed(r)
    assert "POST" not in allowed(r)

    r = await client.options("/v1/probes/whoami")
    assert r.status_code == 204 and "GET" in allowed(r)

    assert_problem(await client.options("/v1/nothing-here"), 404)


async def test_every_answer_carries_nosniff_and_no_store(client, tokens):
    h = tokens.headers(Role.staff)
    answers = [
        await client.get("/v1/probes", headers=h),  # 200
        await client.post("/v1/probes", json={"name": "Headers"}, headers=h),  # 201
        await client.post("/v1/probes", json={}, headers=h),  # 422
        await client.get("/v1/probes/whoami"),  # 401
        await client.get("/v1/probes/staff", headers=tokens.headers(Role.customer)),  # 403
        await client.get(f"/v1/probes/{uuid.uuid4()}", headers=h),  # 404
        await client.delete("/healthz"),  # 405
    ]
    assert [r.status_code for r in answers] == [200, 201, 422, 401, 403, 404, 405]
    for r in answers:
        assert_safe(r)


async def test_an_unexpected_error_also_carries_nosniff_and_no_store(client, tokens):
    r = await client.get("/v1/probes/boom", headers=tokens.headers(Role.staff))
    assert_problem(r, 500)
    assert_safe(r)


async def test_a_route_that_chose_its_own_cache_control_keeps_it(client):
    r = await client.get("/v1/probes/feeds/calendar")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "private, max-age=60"
    assert r.headers.get_list("cache-control") == ["private, max-age=60"]
    assert r.headers["x-content-type-options"] == "nosniff"


# --- the body the guard read is the body the route reads --------------------------------


async def test_a_streamed_answer_to_a_body_with_content_length_is_whole(client, tokens):
    payload = bytes(range(256)) * 200
    r = await client.post("/v1/probes/echo", content=payload, headers=tokens.headers(Role.staff))
    assert r.status_code == 200, r.text
    assert r.content == payload


async def test_a_streamed_answer_to_a_chunked_body_is_whole(client, tokens):
    payload = bytes(range(256)) * 200

    async def chunks():
        for start in range(0, len(payload), 10_000):
            yield payload[start : start + 10_000]

    r = await client.post("/v1/probes/echo", content=chunks(), headers=tokens.headers(Role.staff))
    assert r.status_code == 200, r.text
    assert len(r.content) == len(payload)
    assert r.content == payload


# --- Allow names only what is served ----------------------------------------------------


async def methods_refused(client, tokens, path: str) -> dict[str, int]:
    """The methods OPTIONS allows on ``path`` that then answer 405."""
    allow = allowed(await client.options(path)) - {"OPTIONS"}
    h = tokens.headers(Role.staff)
    refused = {}
    for method in sorted(allow):
        body = {"json": {"name": "Probe"}} if method in ("POST", "PUT", "PATCH") else {}
        r = await client.request(method, path, headers=h, **body)
        if r.status_code == 405:
            refused[method] = r.status_code
    return refused


@pytest.mark.parametrize("path", ["/healthz", "/v1/probes"])
async def test_every_method_options_allows_is_served(client, tokens, path):
    assert await methods_refused(client, tokens, path) == {}


async def test_options_on_a_fixed_path_agrees_with_its_405(client, tokens):
    options = allowed(await client.options("/v1/probes/whoami")) - {"OPTIONS", "HEAD"}
    r = await client.patch(
        "/v1/probes/whoami", json={"name": "X"}, headers=tokens.headers(Role.staff)
    )
    assert r.status_code == 405
    assert options == allowed(r) - {"HEAD"}


async def test_requests_beyond_what_a_process_takes_on_are_refused_at_once(runtime, tokens):
    # Two requests under way (held waiting for the pool's one connection): a third is
    # answered 503 with Retry-After at once, health checks still answer, and once the two
    # are done requests are taken again.
    h = tokens.headers(Role.staff)
    async with (
        one_connection(runtime, db_pool_timeout_seconds=30, max_requests_in_flight=2) as busy,
        app_client(busy) as c,
    ):
        async with posts_waiting_for_the_connection(busy, c, h, ["Ada", "Grace"]) as under_way:
            refused = await c.post("/v1/probes", json={"name": "Third"}, headers=h)
            assert_problem(refused, 503)
            assert refused.headers["retry-after"] == "1"
            assert_safe(refused)
            assert (await c.get("/healthz")).status_code == 200
        assert [r.status_code for r in await asyncio.gather(*under_way)] == [201, 201]
        again = await c.post("/v1/probes", json={"name": "Fourth"}, headers=h)
        assert again.status_code == 201, again.text
