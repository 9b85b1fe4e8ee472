"""The OpenAPI document names every answer a route can give: besides the problems every
route may answer (kit.problems.PROBLEM_RESPONSES), a write may answer 409, a route taking
``If-Match`` 412, and a route taking a body 413."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from frontdesk.kit.problems import PROBLEM_JSON, ProblemBody

_WRITES = {"post", "put", "patch", "delete"}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemBody"}}},
    }


def _problem_as_problem_json(answer: dict[str, Any]) -> None:
    """A route documenting ``{"model": ProblemBody}`` gets it under application/json;
    problems are application/problem+json."""
    content = answer.get("content", {})
    plain = content.get("application/json", {}).get("schema", {})
    if str(plain.get("$ref", "")).endswith("/ProblemBody"):
        content.pop("application/json")
        content[PROBLEM_JSON] = {"schema": plain}


def document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = ProblemBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["ProblemBody"] = problem
    for methods in schema.get("paths", {}).values():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            for answer in responses.values():
                _problem_as_problem_json(answer)
            headers = {
                p.get("name", "").lower()
                for p in operation.get("parameters", [])
                if p.get("in") == "header"
            }
            if method in _WRITES:
                responses.setdefault("409", _problem("Conflict with the current state"))
            if "if-match" in headers:
                responses.setdefault("412", _problem("If-Match names another version"))
            if "requestBody" in operation:
                responses.setdefault("413", _problem("Request body too large"))
    app.openapi_schema = schema
    return schema
