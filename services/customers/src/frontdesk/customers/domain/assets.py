"""Customer assets (C15): vehicles for a repair shop, with their plate (normalised, unique
in the tenant) and VIN (validated). No framework code here."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from frontdesk.contracts.customers import AssetChanged
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.types import unprintable


class Kind(StrEnum):
    vehicle = "vehicle"


TEXT_MAX = 100
PLATE_MAX = 20
FIRST_CAR_YEAR = 1886
# VIN: 17 characters, never I, O or Q (mistaken for 1 and 0).
VIN_CHARS = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
# Regions whose VINs carry a check digit in position 9 (North America, 49 CFR 565).
CHECK_DIGIT_REGIONS = frozenset({"US", "CA"})
_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    total = sum(_TRANSLITERATION[ch] * w for ch, w in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def clean_vin(raw: str, region: str) -> str:
    """Upper-cased, spaces removed; 17 characters without I, O or Q; with a valid check
    digit where the region's VINs have one."""
    vin = re.sub(r"\s+", "", raw).upper()
    if len(vin) != 17:
        raise RuleBroken("vin", "A VIN has 17 characters.")
    if not VIN_CHARS.fullmatch(vin):
        raise RuleBroken("vin", "A VIN has letters (never I, O or Q) and digits only.")
    if region.upper() in CHECK_DIGIT_REGIONS and vin[8] != vin_check_digit(vin):
        raise RuleBroken("vin", "The VIN's check digit (9th character) does not match.")
    return vin


def plate_key(raw: str) -> str:
    """What identifies a plate: its letters and digits, upper-cased ("ab-12 cde" and
    "AB12CDE" are one plate)."""
    return re.sub(r"[^0-9A-Z]", "", raw.upper())


def clean_plate(raw: str) -> tuple[str, str]:
    """The plate as shown (upper case, single spaces) and its key."""
    shown = " ".join(raw.split()).upper()
    problem = unprintable(shown)
    if problem:
        raise RuleBroken("plate", problem)
    key = plate_key(shown)
    if not 2 <= len(key) <= 12 or len(shown) > PLATE_MAX:
        raise RuleBroken("plate", "A plate has 2 to 12 letters or digits.")
    return shown, key


def _text(field: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    value = " ".join(raw.split())
    if not value:
        return None
    problem = unprintable(value)
    if problem:
        raise RuleBroken(field, problem)
    if len(value) > TEXT_MAX:
        raise RuleBroken(field, f"at most {TEXT_MAX} characters")
    return value


def clean_asset(values: Mapping[str, Any], region: str, now: datetime) -> dict[str, Any]:
    """The fields given, as they are stored (a PATCH gives some); bad ones name their field.
    An empty plate or VIN means none."""
    out: dict[str, Any] = {}
    for field in ("make", "model"):
        if field in values:
            out[field] = _text(field, values[field])
    if "year" in values:
        year = values["year"]
        if year is not None and not FIRST_CAR_YEAR <= year <= now.year + 1:
            raise RuleBroken("year", f"between {FIRST_CAR_YEAR} and {now.year + 1}")
        out["year"] = year
    if "plate" in values:
        raw = values["plate"]
        out["plate"], out["plate_key"] = clean_plate(raw) if raw and raw.strip() else (None, None)
    if "vin" in values:
        raw = values["vin"]
        out["vin"] = clean_vin(raw, region) if raw and raw.strip() else None
    return out


@dataclasses.dataclass(kw_only=True, eq=False)
class Asset(Aggregate):
    customer_id: uuid.UUID
    kind: str = Kind.vehicle.value
    make: str | None = None
    model: str | None = None
    year: int | None = None
    plate: str | None = None
    plate_key: str | None = None
    vin: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def add(
        cls, tenant_id: uuid.UUID, customer_id: uuid.UUID, kind: str, cleaned: Mapping[str, Any]
    ) -> Asset:
        """A vehicle needs a plate or a VIN (how the shop tells it from the others)."""
        asset = cls(id=uuid.uuid4(), tenant_id=tenant_id, customer_id=customer_id, kind=kind)
        asset.change(**cleaned)
        asset._identified()
        asset._changed.clear()
        asset.record(asset.event())
        return asset

    def _identified(self) -> None:
        if self.kind == Kind.vehicle and not (self.plate or self.vin):
            raise RuleBroken("plate", "A vehicle needs a plate or a VIN.")

    def edit(self, cleaned: Mapping[str, Any], *, expected_version: int | None = None) -> None:
        self.require_version(expected_version, "asset")
        changed = {k: v for k, v in cleaned.items() if getattr(self, k) != v}
        if not changed:
            return
        self.change(**changed)
        self._identified()
        self.record(self.event())

    def move_to(self, customer_id: uuid.UUID) -> None:
        """A merge (or its undo) gives the asset to another record."""
        self.change(customer_id=customer_id)
        self.record(self.event())

    def remove(self) -> None:
        self.version += 1
        self.record(self.event(removed=True))

    @property
    def label(self) -> str:
        """What an appointment shows: "Ford Focus (AB12 CDE)"."""
        name = " ".join(p for p in (self.make, self.model) if p) or self.kind.capitalize()
        ident = self.plate or self.vin
        return f"{name} ({ident})" if ident else name

    def event(self, *, removed: bool = False) -> AssetChanged:
        return AssetChanged(
            asset_id=self.id,
            customer_id=self.customer_id,
            kind=self.kind,
            label=self.label,
            removed=removed,
        )
