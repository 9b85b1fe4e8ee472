"""The console's own rules, without a browser or a stack: the session cookie cannot be read
or forged, a refresh token is presented once however many requests find the access token
stale, the late-cancel consequence, money and local times as shown."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from frontdesk.gateway.console.me import _consequence
from frontdesk.gateway.console.pages import local_time, money, query
from frontdesk.gateway.console.session import Codec, Refreshes, Session


def test_the_session_cookie_is_encrypted_and_tamper_proof() -> None:
    codec = Codec("a-secret-of-the-deployment-that-is-long", "console")
    session = Session()
    session.take_tokens({"access_token": "eyJ.A.B", "refresh_token": "t.r", "expires_in": 900})
    value = codec.dump(session)
    assert "eyJ" not in value and "t.r" not in value
    assert codec.load(value) == session
    # Another area's (or deployment's) key, a changed byte, garbage: no session.
    assert Codec("a-secret-of-the-deployment-that-is-long", "me").load(value) is None
    assert Codec("another-secret-of-another-deployment", "console").load(value) is None
    assert codec.load(value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]) is None
    assert codec.load("not a cookie") is None


async def test_a_refresh_token_is_presented_once_for_concurrent_requests() -> None:
    refreshes = Refreshes()
    presented: list[str] = []

    async def call(token: str) -> dict[str, Any]:
        presented.append(token)
        await asyncio.sleep(0.05)
        return {"access_token": "new", "refresh_token": "next", "expires_in": 900}

    answers = await asyncio.gather(*(refreshes.run("old", call) for _ in range(5)))
    assert presented == ["old"]
    assert all(a["access_token"] == "new" for a in answers)


async def test_a_refused_refresh_is_not_remembered() -> None:
    refreshes = Refreshes()
    calls = 0

    async def refused(_: str) -> None:
        nonlocal calls
        calls += 1

    assert await refreshes.run("ended", refused) is None
    assert await refreshes.run("ended", refused) is None
    assert calls == 2


def booking(hours_ahead: float, method: str = "credits") -> dict[str, Any]:
    starts = datetime.now(UTC) + timedelta(hours=hours_ahead)
    return {
        "starts_at": starts.isoformat(),
        "payment": {"method": method, "credits": 1, "price_minor": 1500, "currency": "EUR"},
    }


def test_the_cancel_consequence_is_stated_by_the_policy() -> None:
    late, text = _consequence(booking(48), free_hours=24)
    assert late is False and "will be refunded" in text
    late, text = _consequence(booking(2), free_hours=24)
    assert late is True and "NOT be refunded" in text and "1 credit(s)" in text
    late, text = _consequence(booking(2, "free"), free_hours=24)
    assert late is False and "costs nothing" in text
    # A customer cannot read the policy: the rule is stated, not a verdict.
    late, text = _consequence(booking(2), free_hours=None)
    assert late is None and "late cancellation keeps 1 credit(s)" in text


def test_money_in_minor_units_and_times_in_the_zone() -> None:
    assert money(9000, "EUR", "de") == "90,00\xa0€"
    assert money(1500, "JPY", "en") == "¥1,500"
    assert money(None, "EUR") == "\u2013"
    # 17:00 UTC on 1 Dec is 18:00 in Berlin.
    assert local_time("2026-12-01T17:00:00Z", "Europe/Berlin") == "Tue 1 Dec 2026, 18:00"
    assert local_time("2026-12-01T18:00:00", "Asia/Tokyo") == "Tue 1 Dec 2026, 18:00"


def test_query_strings_keep_filters_and_drop_blanks() -> None:
    base = {"q": "ada", "status": ["vip", "active"], "tag": [], "view": "table"}
    assert query(base, cursor="c1", view=None) == "q=ada&status=vip&status=active&cursor=c1"
