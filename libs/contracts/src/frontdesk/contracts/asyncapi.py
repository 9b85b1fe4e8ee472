"""AsyncAPI 3 document generated from the catalogue (``make contracts``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from frontdesk.contracts.base import Envelope
from frontdesk.contracts.compat import schema_of, write_snapshots
from frontdesk.contracts.registry import CATALOGUE

EXCHANGE = "frontdesk.events"


def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for cls in CATALOGUE:
        key = cls.routing_key()
        name = key.replace(".", "_")
        messages[name] = {
            "name": key,
            "title": cls.__name__,
            "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else key,
            "contentType": "application/json",
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/Envelope"},
                    {"type": "object", "properties": {"payload": schema_of(cls)}},
                ]
            },
        }
        channels[name] = {
            "address": key,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {
                "amqp": {"is": "routingKey", "exchange": {"name": EXCHANGE, "type": "topic"}}
            },
        }
        operations[f"publish_{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
            "x-producer": key.split(".")[0],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Frontdesk domain events",
            "version": "1.0.0",
            "description": "Every event the Frontdesk services publish on the "
            f"'{EXCHANGE}' topic exchange. Routing key: <service>.<aggregate>.<event>.v<N>.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {"Envelope": Envelope.model_json_schema()},
        },
    }


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("libs/contracts/asyncapi.json")
    out.write_text(json.dumps(document(), indent=2) + "\n")
    for path in write_snapshots():
        print(f"new snapshot {path}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
