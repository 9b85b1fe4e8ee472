"""The OpenAPI document names every answer a route can give: writes 409, a body 413, a
route taking If-Match 412, and every route the problems any route may answer."""

import pytest
from kit_probe import SPEC

from frontdesk.kit.problems import PROBLEM_JSON
from frontdesk.kit.service import Runtime
from frontdesk.kit.testing import app_client


@pytest.fixture(scope="module")
async def document():
    runtime = Runtime(SPEC)  # the document needs no database
    try:
        async with app_client(runtime) as client:
            r = await client.get("/openapi.json")  # public: no token
            assert r.status_code == 200, r.text
            yield r.json()
    finally:
        await runtime.engine.dispose()


def answers(document, path: str, method: str) -> dict:
    return document["paths"][path][method]["responses"]


def assert_problem_answer(document, path: str, method: str, status: str) -> None:
    answer = answers(document, path, method).get(status)
    assert answer is not None, f"{method.upper()} {path} does not document {status}"
    schema = answer["content"][PROBLEM_JSON]["schema"]
    assert schema["$ref"].split("/")[-1] in document["components"]["schemas"]


def test_a_write_with_a_body_documents_409_and_413(document):
    for status in ("409", "413"):
        assert_problem_answer(document, "/v1/probes", "post", status)
    assert {"401", "422", "503"} <= set(answers(document, "/v1/probes", "post"))
    assert "412" not in answers(document, "/v1/probes", "post")


def test_a_route_taking_if_match_documents_412(document):
    operation = document["paths"]["/v1/probes/{thing_id}"]["patch"]
    headers = {p["name"].lower() for p in operation["parameters"] if p["in"] == "header"}
    assert "if-match" in headers
    assert "404" in answers(document, "/v1/probes/{thing_id}", "patch")
    for status in ("412", "409", "413"):
        assert_problem_answer(document, "/v1/probes/{thing_id}", "patch", status)


def test_reads_do_not_claim_write_answers(document):
    for path in ("/v1/probes", "/v1/probes/{thing_id}", "/v1/probes/page"):
        documented = answers(document, path, "get")
        assert not {"409", "412", "413"} & set(documented), path
        assert {"401", "503"} <= set(documented), path


def test_a_write_without_a_body_documents_409_but_not_413(document):
    documented = answers(document, "/v1/probes/swap", "post")
    assert "409" in documented and "413" not in documented


def test_every_problem_answer_is_documented_as_problem_json_with_its_schema(document):
    for status in ("400", "401", "403", "404", "422", "503"):
        assert_problem_answer(document, "/v1/probes", "post", status)
        assert "application/json" not in answers(document, "/v1/probes", "post")[status]["content"]
