"""Development and test stand-ins for the outside world: a fake Twilio Messages API and a
local SMTP server (aiosmtpd), in one process.

    python -m frontdesk.notifications.standins                  # 127.0.0.1:8010 and :8025
    python -m frontdesk.notifications.standins --env-file F     # free ports, settings to F

With ``--env-file`` the ``FRONTDESK_*`` settings that point the service at them are
written to F once both listen (``FRONTDESK_TWILIO_API_BASE``, ``FRONTDESK_SMTP_HOST``,
``FRONTDESK_SMTP_PORT``, and ``FRONTDESK_STANDINS_URL`` where tests read what they got).

**The fake Twilio** answers like Twilio's Messages API:
``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` with form fields (``To``,
``From`` or ``MessagingServiceSid``, ``Body``, ``StatusCallback``) and Basic auth
(SID : auth token) answers 201 with the message resource, then sends the status
callbacks (``sent``, then ``delivered``) to ``StatusCallback``, signed like Twilio
(``X-Twilio-Signature``, HMAC-SHA1 under the auth token the request came with, computed
by the SDK's ``RequestValidator``). ``GET .../Messages.json?To=`` lists them (newest
first). Every request is recorded. Chosen numbers answer errors as Twilio's magic test
numbers do: ``+15005550001`` 21211 (invalid), ``+15005550002`` 21612 (cannot route),
``+15005550004`` 21610 (unsubscribed), ``+15005550009`` 21614 (not a mobile); a number
that replied STOP answers 21610 until it replies START. An account can be given a
provisioned rate (messages per second): faster requests answer 429 / 20429.

Control and inspection (JSON, under ``/_fake``):

- ``POST /_fake/script`` ``{"to": "+49...", "responses": [429, 201, ...]}``: the next
  requests to that number answer these in turn: an HTTP status (429 → 20429, 5xx →
  20500) or a Twilio error code (21211, 21610, 21614, ...), ``201``, ``"undelivered"``
  (accepted, then reported undelivered, 30003), ``"timeout"`` (accepted, but the answer
  comes only after ``hang`` seconds: the client gives up first), ``"lost"`` (like timeout,
  and no status callback is sent either);
- ``POST /_fake/accounts/{sid}`` ``{"mps": 50}``: the account's provisioned rate;
- ``POST /_fake/inbound`` ``{"url", "from", "to", "body", "account_sid"?, "auth_token"?,
  "signature"?}``: the fake sends an inbound SMS webhook to ``url``, signed (a given
  ``signature`` replaces the right one, to forge); STOP/START also change its own
  opt-out list like Twilio does;
- ``GET /_fake/requests?to=``: every Messages request with what it was answered;
- ``GET /_fake/messages?to=``: the accepted messages and their status;
- ``GET /_fake/callbacks?message_sid=``: the callbacks sent and what they were answered;
- ``POST /_fake/smtp/script`` ``{"to": "a@b", "responses": [451, 250]}``: the next RCPTs
  to that address answer these codes; an address starting ``reject`` always answers 550;
- ``GET /_fake/mails?to=``: the mails the SMTP server accepted (headers and text).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import email
import email.policy
import itertools
import os
import secrets
import signal
import socket
import time
from collections import defaultdict, deque
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session
from twilio.request_validator import RequestValidator

DEFAULT_TWILIO_PORT = 8010
DEFAULT_SMTP_PORT = 8025
API = "/2010-04-01/Accounts/{sid}/Messages.json"

MAGIC = {
    "+15005550001": (400, 21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (400, 21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550004": (400, 21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (400, 21614, "'To' number is not a valid mobile number"),
}
ERRORS = {
    429: (429, 20429, "Too Many Requests"),
    500: (500, 20500, "Internal Server Error"),
    503: (503, 20503, "Service Unavailable"),
    21211: (400, 21211, "The 'To' number is not a valid phone number."),
    21610: (400, 21610, "Attempt to send to unsubscribed recipient"),
    21612: (400, 21612, "The 'To' phone number is not currently reachable via SMS."),
    21614: (400, 21614, "'To' number is not a valid mobile number"),
}
STOP = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START = {"START", "YES", "UNSTOP", "OPTIN"}


def _now() -> float:
    return time.time()


def _rfc2822(at: float) -> str:
    return format_datetime(datetime.fromtimestamp(at, UTC), usegmt=True).replace("GMT", "+0000")


class FakeTwilio:
    def __init__(self, *, callback_delay: float = 0.05, hang: float = 30.0) -> None:
        self.callback_delay = callback_delay
        self.hang = hang
        self.requests: list[dict[str, Any]] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.callbacks: list[dict[str, Any]] = []
        self.scripts: dict[str, deque[Any]] = defaultdict(deque)
        self.rates: dict[str, float] = {}
        self.buckets: dict[str, tuple[float, float]] = {}  # sid -> (tokens, at)
        self.opted_out: set[tuple[str, str]] = set()  # (account, number)
        self.tokens: dict[str, str] = {}  # account -> the auth token it used
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        self._seq = itertools.count(1)

    # --- the HTTP app ---------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(API, self.create)
        app.router.add_get(API, self.list)
        app.router.add_post("/_fake/script", self.script)
        app.router.add_post("/_fake/accounts/{sid}", self.account)
        app.router.add_post("/_fake/inbound", self.inbound)
        app.router.add_get("/_fake/requests", self.get_requests)
        app.router.add_get("/_fake/messages", self.get_messages)
        app.router.add_get("/_fake/callbacks", self.get_callbacks)
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, _: web.Application) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._http is not None:
            await self._http.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        return web.json_response(
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            status=status,
        )

    def _auth(self, request: web.Request, sid: str) -> str | None:
        """The auth token of a Basic-authenticated request for account ``sid``."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, token = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return token if user == sid and token else None

    def _within_rate(self, sid: str) -> bool:
        """A token bucket of one second's worth of the account's provisioned rate."""
        rate = self.rates.get(sid)
        if rate is None:
            return True
        now = time.monotonic()
        tokens, at = self.buckets.get(sid, (rate, now))
        tokens = min(rate, tokens + (now - at) * rate)
        if tokens < 1:
            self.buckets[sid] = (tokens, now)
            return False
        self.buckets[sid] = (tokens - 1, now)
        return True

    async def create(self, request: web.Request) -> web.StreamResponse:
        sid = request.match_info["sid"]
        form = {k: str(v) for k, v in (await request.post()).items()}
        to = form.get("To", "")
        record: dict[str, Any] = {
            "at": _now(),
            "account_sid": sid,
            "to": to,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form.get("Body"),
            "status_callback": form.get("StatusCallback"),
        }
        self.requests.append(record)
        token = self._auth(request, sid)
        if token is None:
            record.update(answered=401, code=20003)
            return self._error(401, 20003, "Authenticate")
        self.tokens[sid] = token
        if not to or not (form.get("From") or form.get("MessagingServiceSid")):
            record.update(answered=400, code=21604)
            return self._error(400, 21604, "A 'To' and a 'From' phone number are required.")
        if not self._within_rate(sid):
            record.update(answered=429, code=20429)
            return self._error(*ERRORS[429])
        scripted = self.scripts[to].popleft() if self.scripts.get(to) else None
        if isinstance(scripted, int) and scripted in ERRORS:
            status, code, text = ERRORS[scripted]
            record.update(answered=status, code=code)
            return self._error(status, code, text)
        if scripted is None and to in MAGIC:
            status, code, text = MAGIC[to]
            record.update(answered=status, code=code)
            return self._error(status, code, text)
        if (sid, to) in self.opted_out:
            record.update(answered=400, code=21610)
            return self._error(*ERRORS[21610])
        message = self._accept(sid, form, scripted)
        record.update(answered=201, code=None, sid=message["sid"])
        callback = form.get("StatusCallback")
        if callback and scripted != "lost":
            final = "undelivered" if scripted == "undelivered" else "delivered"
            self._spawn(self._report(message, callback, token, final))
        if scripted in ("timeout", "lost"):
            await asyncio.sleep(self.hang)
        return web.json_response(self._resource(message), status=201)

    def _accept(self, sid: str, form: dict[str, str], scripted: Any) -> dict[str, Any]:
        body = form.get("Body", "")
        message: dict[str, Any] = {
            "sid": "SM" + secrets.token_hex(16),
            "account_sid": sid,
            "to": form.get("To"),
            "from": form.get("From") or "+15005550006",
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": body,
            "status": "queued",
            "error_code": None,
            "created": _now(),
            "seq": next(self._seq),
            "num_segments": str(max(1, -(-len(body) // 153)) if len(body) > 160 else 1),
        }
        self.messages[message["sid"]] = message
        return message

    @staticmethod
    def _resource(message: dict[str, Any]) -> dict[str, Any]:
        created = _rfc2822(message["created"])
        sid, account = message["sid"], message["account_sid"]
        return {
            "sid": sid,
            "account_sid": account,
            "api_version": "2010-04-01",
            "body": message["body"],
            "date_created": created,
            "date_updated": created,
            "date_sent": created if message["status"] in ("sent", "delivered") else None,
            "direction": "outbound-api",
            "error_code": message["error_code"],
            "error_message": None,
            "from": message["from"],
            "messaging_service_sid": message["messaging_service_sid"],
            "num_media": "0",
            "num_segments": message["num_segments"],
            "price": None,
            "price_unit": "USD",
            "status": message["status"],
            "subresource_uris": {},
            "to": message["to"],
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }

    async def _report(self, message: dict[str, Any], url: str, token: str, final: str) -> None:
        """Twilio's status callbacks: ``sent``, then the final status."""
        await asyncio.sleep(self.callback_delay)
        message["status"] = "sent"
        await self._callback(message, url, token)
        await asyncio.sleep(self.callback_delay)
        message["status"] = final
        if final == "undelivered":
            message["error_code"] = 30003
        await self._callback(message, url, token)

    async def _callback(self, message: dict[str, Any], url: str, token: str) -> None:
        params = {
            "AccountSid": message["account_sid"],
            "ApiVersion": "2010-04-01",
            "From": message["from"],
            "MessageSid": message["sid"],
            "MessageStatus": message["status"],
            "SmsSid": message["sid"],
            "SmsStatus": message["status"],
            "To": message["to"],
        }
        if message["error_code"]:
            params["ErrorCode"] = str(message["error_code"])
        signature = RequestValidator(token).compute_signature(url, params)
        await self._post(url, params, signature, {"message_sid": message["sid"]})

    async def _post(
        self, url: str, params: dict[str, str], signature: str, extra: dict[str, Any]
    ) -> dict[str, Any]:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        sent: dict[str, Any] = {"at": _now(), "url": url, "params": params, **extra}
        for attempt in range(3):  # Twilio retries a callback it could not deliver
            try:
                async with self._http.post(
                    url, data=params, headers={"X-Twilio-Signature": signature}
                ) as response:
                    sent.update(answered=response.status, response=await response.text())
                    break
            except (aiohttp.ClientError, TimeoutError) as error:
                sent.update(answered=None, error=repr(error))
                await asyncio.sleep(0.5 * (attempt + 1))
        self.callbacks.append(sent)
        return sent

    async def list(self, request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        if self._auth(request, sid) is None:
            return self._error(401, 20003, "Authenticate")
        to = request.query.get("To")
        found = sorted(
            (
                m
                for m in self.messages.values()
                if m["account_sid"] == sid and (to is None or m["to"] == to)
            ),
            key=lambda m: -m["seq"],
        )
        size = int(request.query.get("PageSize", "50"))
        page = [self._resource(m) for m in found[:size]]
        uri = request.path_qs
        return web.json_response(
            {
                "messages": page,
                "end": max(len(page) - 1, 0),
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            }
        )

    # --- control ---------------------------------------------------------------------------

    async def script(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.scripts[body["to"]].extend(body["responses"])
        return web.json_response({"to": body["to"], "queued": list(self.scripts[body["to"]])})

    async def account(self, request: web.Request) -> web.Response:
        body = await request.json()
        sid = request.match_info["sid"]
        if body.get("mps"):
            self.rates[sid] = float(body["mps"])
            self.buckets.pop(sid, None)
        else:
            self.rates.pop(sid, None)
        return web.json_response({"account_sid": sid, "mps": self.rates.get(sid)})

    async def inbound(self, request: web.Request) -> web.Response:
        body = await request.json()
        account = body.get("account_sid") or "AC00000000000000000000000000000000"
        token = body.get("auth_token") or self.tokens.get(account) or ""
        params = {
            "AccountSid": account,
            "ApiVersion": "2010-04-01",
            "Body": body["body"],
            "From": body["from"],
            "MessageSid": "SM" + secrets.token_hex(16),
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsMessageSid": "",
            "SmsSid": "",
            "SmsStatus": "received",
            "To": body.get("to") or "+15005550006",
        }
        params["SmsSid"] = params["SmsMessageSid"] = params["MessageSid"]
        word = body["body"].strip().strip(".!").upper()
        if word in STOP:
            self.opted_out.add((account, body["from"]))
        elif word in START:
            self.opted_out.discard((account, body["from"]))
        signature = body.get("signature")
        if signature is None:
            signature = RequestValidator(token).compute_signature(body["url"], params)
        sent = await self._post(body["url"], params, signature, {"inbound": True})
        return web.json_response(sent)

    async def get_requests(self, request: web.Request) -> web.Response:
        to = request.query.get("to")
        return web.json_response([r for r in self.requests if to is None or r["to"] == to])

    async def get_messages(self, request: web.Request) -> web.Response:
        to = request.query.get("to")
        return web.json_response(
            [self._resource(m) for m in self.messages.values() if to is None or m["to"] == to]
        )

    async def get_callbacks(self, request: web.Request) -> web.Response:
        sid = request.query.get("message_sid")
        return web.json_response(
            [c for c in self.callbacks if sid is None or c.get("message_sid") == sid]
        )


class Mailbox:
    """The aiosmtpd handler: every accepted mail kept (headers and text) for tests."""

    def __init__(self) -> None:
        self.mails: list[dict[str, Any]] = []
        self.scripts: dict[str, deque[int]] = defaultdict(deque)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        scripted = self.scripts.get(address.lower())
        if scripted:
            code = scripted.popleft()
            if code != 250:
                return f"{code} {'4.3.0 try again later' if code < 500 else '5.1.1 refused'}"
        if address.lower().startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        self.mails.append(
            {
                "at": _now(),
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "from": parsed["From"],
                "to": parsed["To"],
                "reply_to": parsed["Reply-To"],
                "subject": parsed["Subject"],
                "message_id": parsed["Message-ID"],
                "text": body.get_content() if body is not None else "",  # type: ignore[attr-defined]
            }
        )
        return "250 Message accepted for delivery"

    def routes(self, app: web.Application) -> None:
        async def mails(request: web.Request) -> web.Response:
            to = request.query.get("to")
            return web.json_response(
                [m for m in self.mails if to is None or to.lower() in map(str.lower, m["rcpt_tos"])]
            )

        async def script(request: web.Request) -> web.Response:
            body = await request.json()
            self.scripts[body["to"].lower()].extend(int(c) for c in body["responses"])
            return web.json_response({"to": body["to"], "queued": list(self.scripts[body["to"]])})

        app.router.add_get("/_fake/mails", mails)
        app.router.add_post("/_fake/smtp/script", script)


# --- running them --------------------------------------------------------------------------


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def running(
    host: str = "127.0.0.1", twilio_port: int = 0, smtp_port: int = 0, **fake: Any
) -> Any:
    """Both stand-ins on ``host`` (port 0: a free one); yields (twilio base URL, smtp
    port, the fake, the mailbox). Tests may run them in-process with this."""
    twilio = FakeTwilio(**fake)
    mailbox = Mailbox()
    app = twilio.app()
    mailbox.routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, twilio_port or _free_port(host))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(mailbox, hostname="frontdesk.localhost", loop=loop),
        host=host,
        port=smtp_port or _free_port(host),
    )
    bound_smtp = server.sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}", bound_smtp, twilio, mailbox
    finally:
        server.close()
        await server.wait_closed()
        await runner.cleanup()


def settings_lines(base: str, host: str, smtp_port: int) -> list[str]:
    return [
        f"FRONTDESK_TWILIO_API_BASE={base}",
        f"FRONTDESK_SMTP_HOST={host}",
        f"FRONTDESK_SMTP_PORT={smtp_port}",
        f"FRONTDESK_STANDINS_URL={base}",
    ]


async def serve(env_file: Path | None, host: str, twilio_port: int, smtp_port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running(host, twilio_port, smtp_port) as (base, bound_smtp, _, _):
        lines = settings_lines(base, host, bound_smtp)
        if env_file is not None:
            # Written whole, then renamed: a reader never sees half of it.
            partial = env_file.with_name(env_file.name + ".partial")
            partial.write_text("\n".join(lines) + "\n")
            os.replace(partial, env_file)
        print("notifications stand-ins: fake Twilio at", base, "SMTP at", f"{host}:{bound_smtp}")
        print("\n".join(lines), flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--env-file", type=Path, help="write the FRONTDESK_* settings here")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--twilio-port", type=int, default=None)
    parser.add_argument("--smtp-port", type=int, default=None)
    args = parser.parse_args(argv)
    # Fixed ports for `make run` (the service's defaults point at them); free ones when
    # the settings are written to a file for the processes that need them.
    fixed = args.env_file is None
    twilio_port = args.twilio_port or (DEFAULT_TWILIO_PORT if fixed else 0)
    smtp_port = args.smtp_port or (DEFAULT_SMTP_PORT if fixed else 0)
    asyncio.run(serve(args.env_file, args.host, twilio_port, smtp_port))


if __name__ == "__main__":
    main()
