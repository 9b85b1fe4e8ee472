"""The customer list's vocabulary (C7): its filters, tabs and sort orders. Pure data; the
SQL that reads them is ``adapters.listing``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from frontdesk.kit.errors import RuleBroken

TABS = ("all", "with_credits", "paused_credits", "no_credits", "inactive")
ERASED = ("exclude", "include", "only")
SORTS = ("last_activity", "revenue", "bookings", "purchased_credits", "last_name")
DEFAULT_SORT = "-last_activity"


@dataclass
class Filters:
    q: str | None = None
    status: list[str] = field(default_factory=list)
    credits_min: int | None = None
    credits_max: int | None = None
    has_credits: bool | None = None
    last_activity_within_days: int | None = None
    inactive_for_days: int | None = None
    registered_from: date | None = None
    registered_to: date | None = None
    bookings_min: int | None = None
    bookings_max: int | None = None
    tags: list[str] = field(default_factory=list)
    engagement: str | None = None
    tab: str = "all"
    ids: list[uuid.UUID] | None = None
    # Erased (anonymised) records are left out unless asked for: they are no one any more.
    erased: str = "exclude"


@dataclass(frozen=True)
class Sort:
    """A sort order: each is a (key, id) pair with a direction."""

    name: str
    descending: bool

    @classmethod
    def parse(cls, raw: str) -> Sort:
        descending = raw.startswith("-")
        name = raw.lstrip("-+")
        if name not in SORTS:
            raise RuleBroken(
                "sort",
                f"unknown sort {raw!r}; use one of {', '.join(SORTS)}, "
                "with a leading '-' for descending",
            )
        return cls(name, descending)

    @property
    def token(self) -> str:
        return ("-" if self.descending else "") + self.name
