"""SMS through Twilio's official SDK with its async HTTP client.

The SDK is pointed at another origin (the fake in development and tests) by a SETTING,
``FRONTDESK_TWILIO_API_BASE``: ``BaseUrlHttpClient`` is the SDK's own
``AsyncTwilioHttpClient`` (the SDK's documented extension point) that sends each request
to that origin instead of ``https://api.twilio.com``; with Twilio's origin it rewrites
nothing. The SDK's own retries are off: retrying is the dispatcher's decision.

Each answer is classified by what it says about the message: accepted (201), refused for
now (429/20429, 5xx, no connection made), refused for good (21211, 21610, 21614, ...),
or unknown (the request went out and no answer came back: it may have been accepted).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

# The SDK imports its API modules on first use; importing them here keeps that (about a
# second) from stalling the worker's event loop at its first send.
from twilio.rest.api.v2010.account.message import MessageList  # noqa: F401

from frontdesk.notifications.domain.messages import (
    TWILIO_STATUS,
    Accepted,
    Outcome,
    Status,
    Transient,
    Unknown,
    classify_twilio,
)
from frontdesk.notifications.domain.senders import SmsSender
from frontdesk.notifications.settings import TWILIO_API

log = logging.getLogger(__name__)
_TWILIO_ORIGIN = re.compile(r"^https://[a-z0-9.-]*twilio\.com")
CONNECT_TIMEOUT_SECONDS = 5.0


class BaseUrlHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The SDK's async HTTP client, answering from ``base``. Connecting has a short
    timeout of its own (nothing was sent if it fails), the rest of the exchange the
    configured one (a request may have been accepted if that one runs out)."""

    def __init__(self, base: str, timeout: float) -> None:
        super().__init__(pool_connections=False, timeout=timeout)
        self.base = base.rstrip("/")
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=None, connect=CONNECT_TIMEOUT_SECONDS, sock_read=timeout
            )
        )

    def rewrite(self, url: str) -> str:
        if self.base == TWILIO_API:
            return url
        return _TWILIO_ORIGIN.sub(self.base, url, count=1)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = aiohttp.encode_basic_auth(auth[0], auth[1])
        kwargs: dict[str, Any] = {
            "method": method.upper(),
            "url": self.rewrite(url),
            "params": params,
            "data": data,
            "headers": headers,
            "allow_redirects": allow_redirects,
        }
        # No per-request log lines (the SDK's own client logs each at INFO): the message
        # log records every outcome, and at 50 requests a second the lines cost real CPU.
        async with self.session.request(**kwargs) as answer:
            return Response(answer.status, await answer.text(), answer.headers)


@dataclasses.dataclass(frozen=True)
class Found:
    provider_id: str
    status: Status


class Twilio:
    """One HTTP session for a run of the dispatcher; one SDK client per account."""

    def __init__(self, base: str, timeout: float) -> None:
        self._base = base
        self._timeout = timeout
        self._http: BaseUrlHttpClient | None = None
        self._clients: dict[tuple[str, str], Client] = {}

    async def __aenter__(self) -> Twilio:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        self._clients.clear()

    def _client(self, sender: SmsSender) -> Client:
        if self._http is None:
            self._http = BaseUrlHttpClient(self._base, self._timeout)
        key = (sender.account_sid, sender.auth_token)
        client = self._clients.get(key)
        if client is None:
            client = Client(sender.account_sid, sender.auth_token, http_client=self._http)
            self._clients[key] = client
        return client

    async def send(self, sender: SmsSender, to: str, body: str, status_callback: str) -> Outcome:
        client = self._client(sender)
        try:
            message = await client.messages.create_async(
                to=to,
                body=body,
                from_=sender.from_ or values.unset,
                messaging_service_sid=sender.messaging_service_sid or values.unset,
                status_callback=status_callback,
            )
        except TwilioRestException as error:
            return classify_twilio(error.status, _int(error.code), str(error.msg))
        except TwilioException as error:  # the RFC 9457 shape (TwilioServiceException)
            status = _int(getattr(error, "status", None)) or 500
            return classify_twilio(status, _int(getattr(error, "code", None)), str(error))
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as error:
            # No connection was made: nothing was sent.
            return Transient("connect", f"could not reach Twilio: {error!r}")
        except (TimeoutError, aiohttp.ClientError, ValueError) as error:
            # The request went out and no (readable) answer came back.
            return Unknown(f"no answer from Twilio: {error!r}")
        if not message.sid:
            return Unknown("Twilio answered without a message SID")
        return Accepted(str(message.sid), TWILIO_STATUS.get(str(message.status), Status.sent))

    async def find(self, sender: SmsSender, to: str, body: str, since: datetime) -> Found | None:
        """The message Twilio holds to ``to`` with ``body``, created since ``since``; None
        when it has none. Raises when Twilio cannot be asked (try again later)."""
        client = self._client(sender)
        found = await client.messages.list_async(to=to, limit=100)
        earliest = since - timedelta(minutes=2)  # clocks differ
        for message in found:
            created = message.date_created
            if message.body == body and (created is None or created >= earliest):
                status = TWILIO_STATUS.get(str(message.status), Status.sent)
                return Found(str(message.sid), status)
        return None


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        return None


def signature_valid(auth_token: str, url: str, params: dict[str, str], signature: str) -> bool:
    """``X-Twilio-Signature`` checked by the SDK's validator (HMAC-SHA1 of the URL and the
    sorted form fields under the account's auth token)."""
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))
