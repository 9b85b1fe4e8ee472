"""Two customers merged into one (customers' ``customer.merged``) and the merge undone
(``customer.unmerged``). The merged customer's messages (the log) and bookings move to
the survivor, each remembered under the merge so the unmerge moves exactly those back;
the merged contact points at the survivor meanwhile (a message still addressed to it
goes to the survivor's details).

Consent: the stricter wins. A channel the merged customer had turned off is off for
the survivor too (an opt-out on either record holds); the unmerge turns back on only
what the merge turned off, and only if nobody turned it on since. Numbers that replied
STOP stay opted out whoever has them.

One row per merge makes both events idempotent and order-proof: a merge already known
moves nothing again, and an unmerge that arrives first is remembered so the late merge
moves nothing."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Literal

from frontdesk.notifications.domain.contacts import Contact
from frontdesk.notifications.domain.messages import CHANNELS, Channel

MergeState = Literal["merged", "unmerged"]
Step = Literal["move", "move_back", "nothing"]


@dataclasses.dataclass
class CustomerMerge:
    merge_id: uuid.UUID
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    state: MergeState
    consent_turned_off: list[Channel] = dataclasses.field(default_factory=list)


def on_merged(known: CustomerMerge | None) -> Step:
    return "move" if known is None else "nothing"


def on_unmerged(known: CustomerMerge | None) -> Step:
    return "move_back" if known is not None and known.state == "merged" else "nothing"


def stricter_consent(survivor: Contact, merged: Contact | None) -> list[Channel]:
    """Turn off on the survivor what the merged customer refused; answers the channels
    this turned off (the unmerge turns those back on)."""
    if merged is None:
        return []
    turned_off: list[Channel] = []
    for channel in CHANNELS:
        if survivor.consents(channel) and not merged.consents(channel):
            survivor.set_consent(channel, False, "staff")
            turned_off.append(channel)
    return turned_off


def restore_consent(survivor: Contact, merge: CustomerMerge) -> None:
    """On the unmerge: what the merge turned off comes back on (if still off)."""
    for channel in merge.consent_turned_off:
        if not survivor.consents(channel):
            survivor.set_consent(channel, True, "staff")
