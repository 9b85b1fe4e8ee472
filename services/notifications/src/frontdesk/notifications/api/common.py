"""What every router shares (HTTP only): the typed runtime, who may call, the log's
cursor, documented answers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends

from frontdesk.kit.auth import Permission, Principal, require, require_admin, staff_principal
from frontdesk.kit.pagination import decode_cursor, encode_cursor, split_page
from frontdesk.kit.problems import PROBLEM_JSON, ProblemBody
from frontdesk.kit.service import Runtime, runtime_dependency
from frontdesk.kit.types import AwareDatetime
from frontdesk.notifications.domain.messages import Message
from frontdesk.notifications.settings import NotificationsSettings

NotificationsRuntime = Annotated[Runtime[NotificationsSettings], Depends(runtime_dependency)]
Admin = Annotated[Principal, Depends(require_admin())]
Staff = Annotated[Principal, Depends(staff_principal)]
Sender = Annotated[Principal, Depends(require(Permission.send_emails))]

LogCursor = tuple[AwareDatetime, uuid.UUID]


def log_after(cursor: str | None) -> LogCursor | None:
    """The (created_at, id) a log cursor holds; 400 naming ``cursor`` if not ours."""
    if cursor is None:
        return None
    key: LogCursor = decode_cursor(cursor, LogCursor)
    return key


def log_page(rows: Sequence[Message], limit: int) -> tuple[list[Message], str | None]:
    return split_page(rows, limit, lambda m: encode_cursor([m.created_at, m.id]))


def problem(description: str) -> dict[str, Any]:
    return {"model": ProblemBody, "content": {PROBLEM_JSON: {}}, "description": description}
