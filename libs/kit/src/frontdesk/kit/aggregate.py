"""The base of every domain aggregate: its identity, tenant and version, and the events
its state changes record (published by the application layer when it saves).

Pure Python: no FastAPI, SQLAlchemy or aio-pika, so domain rules unit-test without a
database. A repository (``kit.db.AggregateRepository``) loads it from a row and saves the
fields it changed with the version bump.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any, Self

from frontdesk.contracts import Event
from frontdesk.kit.errors import StaleVersion

_COLUMNS: dict[type, tuple[str, ...]] = {}


@dataclasses.dataclass(kw_only=True, eq=False)
class Aggregate:
    id: uuid.UUID
    tenant_id: uuid.UUID
    version: int = 1
    _events: list[Event] = dataclasses.field(default_factory=list, init=False, repr=False)
    _changed: set[str] = dataclasses.field(default_factory=set, init=False, repr=False)

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        # Once per class: every load, change and save asks.
        found = _COLUMNS.get(cls)
        if found is None:
            found = _COLUMNS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.init)
        return found

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | Any) -> Self:
        return cls(**{name: row[name] for name in cls.columns() if name in row})

    def to_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.columns()}

    def change(self, **values: Any) -> None:
        """Set fields and remember them, so a save writes only what changed."""
        for name, value in values.items():
            if name not in self.columns():
                raise AttributeError(f"{type(self).__name__} has no field {name!r}")
            setattr(self, name, value)
            self._changed.add(name)

    def require_version(self, expected: int | None, what: str) -> None:
        """An edit made against ``expected`` (from ``If-Match``; None: any version) applies
        only while the aggregate is still at that version (else ``StaleVersion``, 412)."""
        if expected is not None and expected != self.version:
            raise StaleVersion(what, self.version)

    @property
    def changed(self) -> frozenset[str]:
        return frozenset(self._changed)

    def record(self, event: Event) -> None:
        """An event this change causes; published with the version the save gives."""
        self._events.append(event)

    def collect_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def saved(self, row: Mapping[str, Any] | Any) -> None:
        """Take what the database wrote (the new version, defaults, timestamps)."""
        for name in self.columns():
            if name in row:
                setattr(self, name, row[name])
        self._changed.clear()
