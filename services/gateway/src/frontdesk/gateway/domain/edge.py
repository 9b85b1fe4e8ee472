"""The front door's rules: which service owns a path, one OpenAPI document from the
services' own, and what a rate-limit count means for a request.

- Each service owns distinct top-level resources (``/v1/<resource>...``): the owner of a
  path is found by its first segment, in the declared table first, then among the
  prefixes the services' OpenAPI documents name.
- The merged document keeps every path of every service; a schema name two services use
  for different shapes is renamed ``<service>.<Name>`` in the second (with its ``$ref``s).
- Rate limits are fixed windows counted per key (tenant, client address, account); a
  request past any limit is refused with the time until that window ends, and every
  answer tells the tightest limit's state (``RateLimit-*`` headers).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

API_PREFIX = "/v1/"
REF = "#/components/schemas/"


def top_segment(path: str) -> str | None:
    """``/v1/customers/42`` → ``customers``; None outside ``/v1/``."""
    if not path.startswith(API_PREFIX):
        return None
    segment = path[len(API_PREFIX) :].split("/", 1)[0]
    return segment or None


def prefixes_of(document: Mapping[str, Any]) -> set[str]:
    """The top-level resources an OpenAPI document serves."""
    found = {top_segment(path) for path in document.get("paths", {})}
    return {p for p in found if p}


class RouteTable:
    """Which service owns each top-level resource (the gateway's own are not in it)."""

    def __init__(self, declared: Mapping[str, str], own: Iterable[str] = ()) -> None:
        self.declared = dict(declared)
        self.own = set(own)
        self.discovered: dict[str, str] = {}

    def learn(self, service: str, document: Mapping[str, Any]) -> None:
        for prefix in prefixes_of(document) - self.own:
            self.discovered.setdefault(prefix, service)

    def owner(self, path: str) -> str | None:
        segment = top_segment(path)
        if segment is None or segment in self.own:
            return None
        return self.declared.get(segment) or self.discovered.get(segment)


def _rename_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _rename_refs(v, renames) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    if isinstance(node, str) and node.startswith(REF) and node[len(REF) :] in renames:
        return REF + renames[node[len(REF) :]]
    return node


def merge_openapi(
    own: Mapping[str, Any],
    services: Mapping[str, Mapping[str, Any]],
    *,
    title: str = "Frontdesk API",
    description: str = "",
) -> dict[str, Any]:
    """One document for the whole API: the gateway's paths and every service's."""
    merged: dict[str, Any] = {
        "openapi": own.get("openapi", "3.1.0"),
        "info": {
            "title": title,
            "version": own.get("info", {}).get("version", "1.0.0"),
            "description": description,
        },
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "security": [{"bearer": []}],
        "tags": [],
        "x-tagGroups": [],
    }
    schemas: dict[str, Any] = merged["components"]["schemas"]
    operation_ids: set[str] = set()
    for service, document in [("gateway", own), *sorted(services.items())]:
        doc = copy.deepcopy(dict(document))
        renames = {
            name: f"{service}.{name}"
            for name, schema in doc.get("components", {}).get("schemas", {}).items()
            if name in schemas and schemas[name] != schema
        }
        doc = _rename_refs(doc, renames)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(renames.get(name, name), schema)
        tags: list[str] = []
        for path, operations in doc.get("paths", {}).items():
            if path in merged["paths"]:
                continue  # two services claiming one path: the first keeps it
            for operation in operations.values():
                if not isinstance(operation, dict):
                    continue
                op_id = operation.get("operationId")
                if op_id in operation_ids:
                    operation["operationId"] = f"{service}_{op_id}"
                operation_ids.add(operation.get("operationId", ""))
                operation.setdefault("x-service", service)
                for tag in operation.get("tags", []):
                    if tag not in tags:
                        tags.append(tag)
            merged["paths"][path] = operations
        merged["tags"].extend({"name": tag, "x-service": service} for tag in tags)
        if tags:
            merged["x-tagGroups"].append({"name": service, "tags": tags})
    return merged


@dataclasses.dataclass(frozen=True)
class Limit:
    """At most ``limit`` requests per ``window`` seconds for ``key``."""

    name: str
    key: str
    limit: int
    window: int


@dataclasses.dataclass(frozen=True)
class Count:
    limit: Limit
    count: int
    reset_ms: int  # until the window ends

    @property
    def remaining(self) -> int:
        return max(0, self.limit.limit - self.count)

    @property
    def reset_seconds(self) -> int:
        return max(1, math.ceil(self.reset_ms / 1000))


@dataclasses.dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]
    retry_after: int | None = None
    refused_by: str | None = None

    @classmethod
    def unlimited(cls) -> Verdict:
        return cls(allowed=True, headers={})


def judge(counts: Iterable[Count]) -> Verdict:
    """Refused when any count is past its limit; the headers describe the tightest one."""
    counts = list(counts)
    if not counts:
        return Verdict.unlimited()
    over = [c for c in counts if c.count > c.limit.limit]
    tightest = min(counts, key=lambda c: (c.remaining, -c.reset_ms))
    headers = {
        "RateLimit-Limit": str(tightest.limit.limit),
        "RateLimit-Remaining": str(tightest.remaining),
        "RateLimit-Reset": str(tightest.reset_seconds),
        "RateLimit-Policy": ", ".join(f"{c.limit.limit};w={c.limit.window}" for c in counts),
    }
    if not over:
        return Verdict(allowed=True, headers=headers)
    longest = max(over, key=lambda c: c.reset_ms)
    headers = {
        **headers,
        "RateLimit-Limit": str(longest.limit.limit),
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(longest.reset_seconds),
        "Retry-After": str(longest.reset_seconds),
    }
    return Verdict(
        allowed=False,
        headers=headers,
        retry_after=longest.reset_seconds,
        refused_by=longest.limit.name,
    )
