"""Note rules (C8): who sees, adds, pins and deletes notes. No framework code here."""

from __future__ import annotations

from enum import StrEnum

TEXT_MAX = 2000


class Visibility(StrEnum):
    team = "team"  # everyone allowed to see notes
    private = "private"  # the author alone (admins included: not theirs, not shown)


def can_see(*, visibility: str, author_sub: str, viewer_sub: str) -> bool:
    return visibility == Visibility.team or author_sub == viewer_sub


def can_delete(*, author_sub: str, viewer_sub: str) -> bool:
    return author_sub == viewer_sub
