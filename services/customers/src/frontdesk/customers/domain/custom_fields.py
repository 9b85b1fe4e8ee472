"""Custom fields per tenant (C16): their definitions, and the values a customer holds,
validated against them (a bad one names ``custom_fields.<key>``). No framework code here.

Values are stored as JSON: text and choice as strings, number as a number, date as an
ISO date string, yes-no as true/false.
"""

from __future__ import annotations

import dataclasses
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import ConflictError, RuleBroken
from frontdesk.kit.types import unprintable

KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
LABEL_MAX = 100
TEXT_MAX = 500
CHOICE_MAX = 100
CHOICES_MAX = 100
DEFINITIONS_MAX = 100
# Numbers stay within what a double carries exactly as an integer.
NUMBER_MAX = 2**53


class FieldType(StrEnum):
    text = "text"
    number = "number"
    date = "date"
    choice = "choice"
    yes_no = "yes_no"


def _clean_text(field: str, raw: str, max_length: int) -> str:
    value = " ".join(raw.split())
    if not value:
        raise RuleBroken(field, "must not be empty")
    problem = unprintable(value)
    if problem:
        raise RuleBroken(field, problem)
    if len(value) > max_length:
        raise RuleBroken(field, f"at most {max_length} characters")
    return value


def clean_key(raw: str) -> str:
    if not KEY.fullmatch(raw):
        raise RuleBroken(
            "key", "lower-case letters, digits and '_', starting with a letter, at most 40"
        )
    return raw


def clean_choices(raw: Iterable[str], field_type: str) -> list[str]:
    choices = [_clean_text("choices", c, CHOICE_MAX) for c in raw]
    if field_type != FieldType.choice:
        if choices:
            raise RuleBroken("choices", "only a choice field has choices")
        return []
    if not choices:
        raise RuleBroken("choices", "a choice field needs at least one choice")
    if len(choices) > CHOICES_MAX:
        raise RuleBroken("choices", f"at most {CHOICES_MAX} choices")
    if len(set(choices)) != len(choices):
        raise RuleBroken("choices", "each choice once")
    return choices


@dataclasses.dataclass(kw_only=True, eq=False)
class Definition(Aggregate):
    key: str
    label: str
    type: str
    required: bool = False
    choices: list[str] = dataclasses.field(default_factory=list)
    position: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def define(
        cls,
        tenant_id: uuid.UUID,
        *,
        key: str,
        label: str,
        type: str,
        required: bool,
        choices: Iterable[str],
        position: int,
        existing: int,
    ) -> Definition:
        if existing >= DEFINITIONS_MAX:
            raise ConflictError(f"A tenant has at most {DEFINITIONS_MAX} custom fields.")
        field_type = FieldType(type).value
        return cls(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            key=clean_key(key),
            label=_clean_text("label", label, LABEL_MAX),
            type=field_type,
            required=required,
            choices=clean_choices(choices, field_type),
            position=position,
        )

    def edit(self, changes: Mapping[str, Any], *, expected_version: int | None = None) -> None:
        """Label, required, choices and position; a field's key and type never change
        (values already written were checked against them)."""
        self.require_version(expected_version, "custom field")
        out: dict[str, Any] = {}
        if changes.get("label") is not None:
            out["label"] = _clean_text("label", changes["label"], LABEL_MAX)
        if changes.get("required") is not None:
            out["required"] = changes["required"]
        if changes.get("choices") is not None:
            out["choices"] = clean_choices(changes["choices"], self.type)
        if changes.get("position") is not None:
            out["position"] = changes["position"]
        changed = {k: v for k, v in out.items() if getattr(self, k) != v}
        if changed:
            self.change(**changed)

    # -- values --------------------------------------------------------------------------

    def clean_value(self, raw: Any) -> Any:
        """The value as stored, or a broken rule naming ``custom_fields.<key>``."""
        field = f"custom_fields.{self.key}"
        if self.type == FieldType.text:
            if not isinstance(raw, str):
                raise RuleBroken(field, "must be text")
            return _clean_text(field, raw, TEXT_MAX)
        if self.type == FieldType.number:
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise RuleBroken(field, "must be a number")
            if not math.isfinite(raw) or abs(raw) > NUMBER_MAX:
                raise RuleBroken(field, "must be a finite number within ±2^53")
            return raw
        if self.type == FieldType.date:
            if not isinstance(raw, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                raise RuleBroken(field, "must be a date (YYYY-MM-DD)")
            try:
                return date.fromisoformat(raw).isoformat()
            except ValueError:
                raise RuleBroken(field, "not a calendar date") from None
        if self.type == FieldType.choice:
            if not isinstance(raw, str) or raw not in self.choices:
                raise RuleBroken(field, "must be one of: " + ", ".join(self.choices))
            return raw
        if not isinstance(raw, bool):
            raise RuleBroken(field, "must be true or false")
        return raw

    def filter_value(self, raw: str) -> Any:
        """A list filter's text (``cf.<key>=...``) as the stored value it must equal."""
        field = f"cf.{self.key}"
        if self.type == FieldType.number:
            try:
                number = float(raw)
            except ValueError:
                raise RuleBroken(field, "must be a number") from None
            if not math.isfinite(number):
                raise RuleBroken(field, "must be a finite number")
            return int(number) if number.is_integer() else number
        if self.type == FieldType.yes_no:
            flags = {"true": True, "yes": True, "false": False, "no": False}
            if raw.lower() not in flags:
                raise RuleBroken(field, "must be true or false")
            return flags[raw.lower()]
        try:
            return self.clean_value(raw)
        except RuleBroken as error:
            raise RuleBroken(field, error.message) from None


def clean_values(
    definitions: Mapping[str, Definition],
    given: Mapping[str, Any],
    current: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The record's values after writing ``given`` over ``current`` (None: a new record);
    a null removes a value. Unknown keys and missing required values break the rule naming
    ``custom_fields.<key>``. Values of fields deleted since are dropped."""
    values = {k: v for k, v in (current or {}).items() if k in definitions}
    for key, raw in given.items():
        definition = definitions.get(key)
        if definition is None:
            raise RuleBroken(f"custom_fields.{key}", "no such custom field")
        if raw is None:
            values.pop(key, None)
        else:
            values[key] = definition.clean_value(raw)
    for key, definition in definitions.items():
        # Required: on a new record, and whenever its value is written (or removed).
        checked = current is None or key in given
        if definition.required and checked and key not in values:
            raise RuleBroken(f"custom_fields.{key}", "required")
    return values
