"""Backward-compatibility check between a committed JSON Schema snapshot and the model.

Within one version a contract may only gain optional fields. Anything else
(removing or retyping a field, making one required) needs a new ``.vN``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from frontdesk.contracts.base import Event

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"


def schema_of(cls: type[Event]) -> dict[str, Any]:
    return cls.model_json_schema(mode="serialization")


def snapshot_path(cls: type[Event], schema_dir: Path = SCHEMA_DIR) -> Path:
    return schema_dir / f"{cls.routing_key()}.json"


def incompatibilities(old: dict[str, Any], new: dict[str, Any], where: str = "") -> list[str]:
    """What in ``new`` breaks a consumer written against ``old``."""
    problems: list[str] = []
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for name, old_field in old_props.items():
        if name not in new_props:
            problems.append(f"{where}{name}: removed")
            continue
        if _shape(old_field) != _shape(new_props[name]):
            problems.append(f"{where}{name}: type changed")
    added_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(added_required):
        problems.append(f"{where}{name}: now required")
    for def_name, old_def in old.get("$defs", {}).items():
        new_def = new.get("$defs", {}).get(def_name)
        if new_def is None:
            problems.append(f"{where}$defs.{def_name}: removed")
        else:
            problems.extend(incompatibilities(old_def, new_def, f"{where}{def_name}."))
    return problems


def _shape(field: dict[str, Any]) -> Any:
    """The parts of a property schema that decide what values are valid."""
    keys = ("type", "$ref", "anyOf", "items", "enum", "const", "format")
    return json.dumps({k: field.get(k) for k in keys}, sort_keys=True)


def write_snapshots(schema_dir: Path = SCHEMA_DIR) -> list[Path]:
    """Write a snapshot for every contract that has none yet (never overwrite one)."""
    from frontdesk.contracts.registry import CATALOGUE

    schema_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for cls in CATALOGUE:
        path = snapshot_path(cls, schema_dir)
        if not path.exists():
            path.write_text(json.dumps(schema_of(cls), indent=2, sort_keys=True) + "\n")
            written.append(path)
    return written
