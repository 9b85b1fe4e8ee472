"""The password rule: long enough to resist guessing, bounded so hashing stays cheap to
refuse, and not the account's own email. (Hashing is argon2, in ``adapters.passwords``.)"""

from __future__ import annotations

from frontdesk.kit.errors import RuleBroken

MIN_LENGTH = 10
MAX_LENGTH = 200
COMMON = frozenset(
    {
        "1234567890",
        "12345678910",
        "0123456789",
        "password12",
        "password123",
        "password1234",
        "qwertyuiop",
        "iloveyou12",
        "letmein123",
        "frontdesk1",
    }
)


def check_password(password: str, email: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise RuleBroken(field, f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise RuleBroken(field, f"must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in COMMON or len(set(password)) < 4:
        raise RuleBroken(field, "is too easy to guess")
    if lowered == email.lower() or lowered == email.lower().split("@")[0]:
        raise RuleBroken(field, "must not be the email address")
