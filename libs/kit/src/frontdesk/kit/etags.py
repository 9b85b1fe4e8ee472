"""Optimistic concurrency over HTTP: ``ETag`` is the row's version, ``If-Match`` guards edits."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from frontdesk.kit.problems import PreconditionFailed

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag you read; the edit answers 412 if the resource changed since.",
    ),
]


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(if_match: str | None, version: int, what: str = "resource") -> None:
    """412 with the current ETag when ``if_match`` names another version (``*`` matches any)."""
    if if_match is not None and if_match.strip() not in (etag(version), "*"):
        raise PreconditionFailed(
            f"The {what} changed since you read it (now version {version}).",
            headers={"ETag": etag(version)},
        )
