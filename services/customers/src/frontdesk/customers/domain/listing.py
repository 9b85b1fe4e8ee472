"""The customer list's vocabulary (C7): its filters, tabs and sort orders. Pure data; the
SQL that reads them is ``adapters.listing``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from frontdesk.kit.errors import RuleBroken

TABS = ("all", "with_credits", "paused_credits", "no_credits", "inactive")
ERASED = ("exclude", "include", "only")
SORTS = (
    "last_activity",
    "revenue",
    "bookings",
    "purchased_credits",
    "last_name",
    "created",
    "relevance",
)
DEFAULT_SORT = "-last_activity"
# A search is ranked best match first unless a sort is asked for; a query shorter than
# a trigram (one or two characters) only filters the list in its usual order.
RELEVANCE = "relevance"
RANKED_FROM = 3


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
    # 0006: custom field filters (C16): ``cf.<key>`` as given, and as the stored values
    # they must equal (the application reads them against the tenant's definitions).
    custom_given: dict[str, str] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)

    @property
    def search_text(self) -> str | None:
        """The query as it is matched: inner whitespace collapsed, lower-cased."""
        text = " ".join((self.q or "").split()).lower()
        return text or None


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
        # Relevance has one direction: the best match first.
        return cls(name, descending or name == RELEVANCE)

    @classmethod
    def of(cls, raw: str | None, filters: Filters) -> Sort:
        """The sort asked for, else relevance for a search of a trigram or more, else the
        list's default; relevance without a search breaks the rule."""
        if raw is None:
            text = filters.search_text
            return cls.parse(RELEVANCE if text and len(text) >= RANKED_FROM else DEFAULT_SORT)
        sort = cls.parse(raw)
        if sort.name == RELEVANCE and filters.search_text is None:
            raise RuleBroken("sort", "relevance ranks a search: give q as well")
        return sort

    @property
    def token(self) -> str:
        return ("-" if self.descending else "") + self.name
