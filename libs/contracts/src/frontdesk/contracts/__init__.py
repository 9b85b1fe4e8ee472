"""Frontdesk event contracts: the envelope and every service's events."""

from frontdesk.contracts.base import Contact, Envelope, Event, Money
from frontdesk.contracts.registry import CATALOGUE, UnknownEventError, event_class, parse

__all__ = [
    "CATALOGUE",
    "Contact",
    "Envelope",
    "Event",
    "Money",
    "UnknownEventError",
    "event_class",
    "parse",
]
