"""Recurring classes and appointments: an RFC 5545 RRULE, expanded by python-dateutil
into real sessions or appointments (each one bookable, editable and cancellable alone).

The rule runs on the location's wall clock: the first start is local time there and
every occurrence keeps that local time, whatever the UTC offset on its day (a weekly
18:00 class in Europe/Berlin stays at 18:00 across the March and October changes). An
occurrence the clocks skip in spring is placed as RFC 5545 says, with the offset before
the gap (02:30 becomes 03:30); a repeated autumn time is its first occurrence.

A rule with COUNT or UNTIL is expanded whole (at most ``MAX_OCCURRENCES`` occurrences
within ``MAX_SPAN`` of the first). A rule with neither ("every Tuesday") is open-ended:
its occurrences exist ``OPEN_WINDOW`` ahead, and the worker grows the series as time
passes (made like its last occurrence, so an edit of "this and all following" carries
on), until "this and all following" is cancelled.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

from frontdesk.kit.errors import RuleBroken
from frontdesk.scheduling.domain import time as tz

MAX_OCCURRENCES = 366
MAX_SPAN = timedelta(days=3 * 366)
# How far ahead an open-ended series exists as real sessions, and when it is grown again.
OPEN_WINDOW = timedelta(days=182)
GROW_WHEN_LEFT = timedelta(days=175)
# Sub-daily rules would stack occurrences of one trainer on top of each other.
FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
RULE_EXAMPLE = "e.g. FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10 or FREQ=WEEKLY;UNTIL=20270101T000000Z"

SeriesKind = Literal["session", "appointment"]
# What an edit or a cancel of an occurrence reaches: it alone, or it and every later one.
Scope = Literal["this", "following"]


def _parts(rule: str, field: str) -> tuple[str, dict[str, str]]:
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if not text or any(c in text for c in "\r\n:"):
        raise RuleBroken(field, f"one RRULE value, {RULE_EXAMPLE}")
    parts: dict[str, str] = {}
    for part in text.split(";"):
        name, _, value = part.partition("=")
        if not name or not value:
            raise RuleBroken(field, f"{part!r} is not NAME=VALUE ({RULE_EXAMPLE})")
        parts[name.strip().upper()] = value.strip()
    return text, parts


def _open_ended(parts: dict[str, str]) -> bool:
    """The rule has no end (neither COUNT nor UNTIL)."""
    return not {"COUNT", "UNTIL"} & parts.keys()


def occurrences(
    rule: str,
    first: datetime,
    zone: ZoneInfo,
    *,
    field: str = "rrule",
    until: datetime | None = None,
    after: datetime | None = None,
) -> list[datetime]:
    """The UTC starts of the occurrences of ``rule`` from ``first`` (local wall-clock
    time in ``zone``, or with its offset; a skipped time is refused naming
    ``starts_at``): every one, or for an open-ended rule those up to ``until``; only
    those after ``after`` when given. 422 naming ``field`` for a rule that does not
    parse, is sub-daily, or too long."""
    text, parts = _parts(rule, field)
    if parts.get("FREQ") not in FREQUENCIES:
        raise RuleBroken(field, f"FREQ must be one of {', '.join(sorted(FREQUENCIES))}")
    unbounded = _open_ended(parts)
    if unbounded and until is None:
        raise RuleBroken(field, "a rule without COUNT or UNTIL needs a window to expand")
    start = tz.to_utc(first, zone).astimezone(zone)  # the wall clock the rule keeps
    horizon = until.astimezone(zone) if unbounded and until else start + MAX_SPAN
    too_long = RuleBroken(field, f"a series spans at most {MAX_SPAN.days} days")
    try:
        rule_ = rrulestr(text, dtstart=start)
        count = int(parts["COUNT"]) if "COUNT" in parts else None
    except (ValueError, TypeError, OverflowError) as error:
        hint = " (UNTIL must be in UTC, ending in Z)" if "UNTIL" in str(error) else ""
        raise RuleBroken(field, f"not an RFC 5545 rule: {error}{hint}") from None
    if rule_._until is not None and rule_._until > horizon:
        raise too_long
    # Never past the horizon, whatever COUNT says. (A rule that matches no day at all is
    # still searched by dateutil up to the year 9999: a couple of seconds of CPU at worst,
    # which is why the application expands rules off the event loop.)
    bounded = rule_.replace(count=None, until=rule_._until or horizon)
    stream = iter(bounded)
    if after is not None:
        stream = itertools.dropwhile(lambda at: at <= after, stream)
    wanted = MAX_OCCURRENCES + 1 if count is None else min(count, MAX_OCCURRENCES + 1)
    expanded = list(itertools.islice(stream, max(wanted, 0)))
    if len(expanded) > MAX_OCCURRENCES:
        raise RuleBroken(field, f"at most {MAX_OCCURRENCES} occurrences")
    if count is not None and len(expanded) < count and after is None:
        raise too_long  # the horizon cut it short
    if not expanded and after is None:
        raise RuleBroken(field, "the rule gives no occurrence")
    return [at.replace(tzinfo=zone).astimezone(UTC) for at in expanded]


def local_shift(before: datetime, after: datetime, zone: ZoneInfo) -> timedelta:
    """How far one occurrence moved on the wall clock (18:00 Tuesday to 19:00 Wednesday
    is a day and an hour, whatever the offsets)."""
    return _wall(after, zone) - _wall(before, zone)


def shifted(at: datetime, shift: timedelta, zone: ZoneInfo) -> datetime:
    """``at`` moved by ``shift`` on the wall clock of ``zone``, as an aware local time
    (a skipped result takes the offset before the gap, as an occurrence does)."""
    return (_wall(at, zone) + shift).replace(tzinfo=zone)


def _wall(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(tzinfo=None)


@dataclasses.dataclass(frozen=True)
class Series:
    """A rule and where it runs; its occurrences are sessions or appointments. An
    open-ended one has occurrences up to ``made_until`` and grows until ``ended_from``
    (the nominal start of the first occurrence of a "cancel this and following")."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    kind: SeriesKind
    rrule: str
    timezone: str
    first_starts_at: datetime
    occurrences: int
    open_ended: bool = False
    made_until: datetime | None = None
    ended_from: datetime | None = None

    @classmethod
    def plan(
        cls,
        *,
        tenant_id: uuid.UUID,
        kind: SeriesKind,
        rule: str,
        first: datetime,
        zone: ZoneInfo,
        now: datetime,
    ) -> tuple[Series, list[datetime]]:
        """A new series and the UTC starts of its occurrences (for an open-ended rule,
        those within ``OPEN_WINDOW`` of now or of the first, whichever is later)."""
        window = max(now, tz.to_utc(first, zone)) + OPEN_WINDOW
        starts = occurrences(rule, first, zone, until=window)
        text, parts = _parts(rule, "rrule")
        unbounded = _open_ended(parts)
        series = cls(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            kind=kind,
            rrule=text.upper(),
            timezone=zone.key,
            first_starts_at=starts[0],
            occurrences=len(starts),
            open_ended=unbounded,
            made_until=window if unbounded else None,
        )
        return series, starts

    def due_to_grow(self, now: datetime) -> bool:
        return (
            self.open_ended
            and self.ended_from is None
            and self.made_until is not None
            and self.made_until < now + GROW_WHEN_LEFT
        )

    def grown(self, now: datetime, last: datetime) -> tuple[Series, list[datetime]]:
        """The series' window moved ``OPEN_WINDOW`` ahead of ``now``, and the UTC nominal
        starts the rule gives in it after ``last`` (the last occurrence's)."""
        window = now + OPEN_WINDOW
        starts = occurrences(
            self.rrule, self.first_starts_at, ZoneInfo(self.timezone), until=window, after=last
        )
        return dataclasses.replace(self, made_until=window), starts

    def made(self, count: int) -> Series:
        """``count`` more occurrences exist (some of what the rule gave may be left out)."""
        return dataclasses.replace(self, occurrences=self.occurrences + count)

    def ended(self, recurrence_at: datetime) -> Series:
        """ "This and all following" cancelled from ``recurrence_at``: it grows no more."""
        if self.ended_from is not None and self.ended_from <= recurrence_at:
            return self
        return dataclasses.replace(self, ended_from=recurrence_at)

    def columns(self) -> dict[str, object]:
        return dataclasses.asdict(self)
