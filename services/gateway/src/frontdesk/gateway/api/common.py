"""What the gateway's routers share (HTTP only): the gate of this process, who is asking
(a principal whose session is still open, counted against the rate limits), the client's
address, cursors and documented answers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Request, Response

from frontdesk.gateway.application import edge
from frontdesk.gateway.application import gate as gates
from frontdesk.gateway.application.gate import Gate
from frontdesk.gateway.application.logins import Client
from frontdesk.kit.auth import CurrentPrincipal, Principal
from frontdesk.kit.pagination import decode_cursor, encode_cursor, split_page
from frontdesk.kit.problems import PROBLEM_JSON, ProblemBody
from frontdesk.kit.service import current_runtime
from frontdesk.kit.types import AwareDatetime


async def gate_of(request: Request) -> Gate:
    return gates.of(current_runtime(request))


GateDep = Annotated[Gate, Depends(gate_of)]


async def client_of(request: Request) -> Client:
    return Client(
        address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


ClientDep = Annotated[Client, Depends(client_of)]


def _tell(response: Response, headers: dict[str, str]) -> None:
    for name, value in headers.items():
        response.headers[name] = value


async def admitted(
    principal: CurrentPrincipal, gate: GateDep, client: ClientDep, response: Response
) -> Principal:
    """The principal, if its session is still open and the rate limits let it through."""
    verdict = await edge.admit(
        gate, edge.request_limits(gate, principal, client.address), principal
    )
    _tell(response, verdict.headers)
    return principal


Admitted = Annotated[Principal, Depends(admitted)]


async def login_attempt(gate: GateDep, client: ClientDep, response: Response) -> Gate:
    """Routes that check a password or send a link: the stricter per-address limit."""
    verdict = await edge.admit(gate, edge.login_limits(gate, client.address, None))
    _tell(response, verdict.headers)
    return gate


LoginGate = Annotated[Gate, Depends(login_attempt)]


async def public_request(gate: GateDep, client: ClientDep, response: Response) -> Gate:
    """Routes that take an unguessable secret instead of a token (refresh, links): the
    ordinary per-address limit."""
    verdict = await edge.admit(gate, edge.request_limits(gate, None, client.address))
    _tell(response, verdict.headers)
    return gate


PublicGate = Annotated[Gate, Depends(public_request)]


async def count_account_attempt(gate: Gate, tenant: str, email: str) -> None:
    """The per-account limit, once the body has named the account (as the login finds it:
    spaces around the studio's name do not make another account's window)."""
    account = f"{tenant.strip().lower()}:{email.strip().lower()}"
    await edge.admit(gate, edge.login_limits(gate, None, account))


# --- keyset cursors ----------------------------------------------------------------------

CreatedCursor = tuple[AwareDatetime, uuid.UUID]


class Created(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def created_at(self) -> Any: ...


C = TypeVar("C", bound=Created)


def created_after(cursor: str | None) -> CreatedCursor | None:
    if cursor is None:
        return None
    key: CreatedCursor = decode_cursor(cursor, CreatedCursor)
    return key


def created_page(items: Sequence[C], limit: int) -> tuple[list[C], str | None]:
    return split_page(items, limit, lambda item: encode_cursor([item.created_at, item.id]))


Answers = dict[int | str, dict[str, Any]]


def problem(description: str) -> dict[str, Any]:
    return {"model": ProblemBody, "content": {PROBLEM_JSON: {}}, "description": description}


TOO_MANY: Answers = {429: problem("Too many requests; retry after Retry-After seconds")}
