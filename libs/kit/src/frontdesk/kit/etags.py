"""Optimistic concurrency over HTTP: ``ETag`` is the row's version, ``If-Match`` guards edits."""

from __future__ import annotations

import re
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


_ETAG = re.compile(r'"([1-9][0-9]{0,17})"')


def expected_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` names, for the application's version check: None when
    absent or ``*`` (any version); an ETag this service never gave out names version 0,
    which nothing has, so the edit answers 412."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = _ETAG.fullmatch(if_match.strip())
    return int(found.group(1)) if found else 0
