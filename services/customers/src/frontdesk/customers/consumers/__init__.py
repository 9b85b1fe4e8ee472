"""Handlers of other services' events, keyed by contract class."""

from __future__ import annotations

from frontdesk.kit.consumer import Handlers


def handlers() -> Handlers:
    return {}
