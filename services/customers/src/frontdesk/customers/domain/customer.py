"""Customer rules: names, contacts, status. No framework code here."""

from __future__ import annotations

import unicodedata
from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from frontdesk.kit.problems import FieldError, InvalidInput

NAME_MAX = 100
SMS_CAPABLE = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


class Status(StrEnum):
    active = "active"
    inactive = "inactive"
    vip = "vip"
    blocked = "blocked"


class ContactError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normalise_email(raw: str) -> str:
    """Validated, with the domain lower-cased; the whole address lower-cased for matching."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ContactError("email", str(error)) from None


def normalise_phone(raw: str, default_region: str) -> str:
    """E.164, and it must be able to receive SMS."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as error:
        raise ContactError("phone", f"not a phone number: {error}") from None
    if not phonenumbers.is_valid_number(number):
        raise ContactError("phone", "not a valid phone number")
    if phonenumbers.number_type(number) not in SMS_CAPABLE:
        raise ContactError("phone", "this number cannot receive SMS (use a mobile number)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def unprintable(raw: str, *, multiline: bool = False) -> bool:
    """Control characters (NUL among them, which PostgreSQL text cannot hold); free text
    may keep line breaks and tabs."""
    allowed = "\n\r\t" if multiline else ""
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in raw)


def clean_name(field: str, raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise ContactError(field, "must not be empty")
    if unprintable(name):
        raise ContactError(field, "must not contain control characters")
    if len(name) > NAME_MAX:
        raise ContactError(field, f"at most {NAME_MAX} characters")
    return name


TAG_MAX = 50


def clean_tag(raw: str) -> str:
    """Tags are compared trimmed, with inner spaces collapsed, lower-cased."""
    tag = " ".join(raw.split()).lower()
    if not tag:
        raise ContactError("tag", "must not be empty")
    if unprintable(tag):
        raise ContactError("tag", "must not contain control characters")
    if len(tag) > TAG_MAX:
        raise ContactError("tag", f"at most {TAG_MAX} characters")
    return tag


def require_contact(email: str | None, phone: str | None) -> None:
    if not email and not phone:
        raise InvalidInput(
            "A customer needs an email address or a phone number.",
            errors=[
                FieldError(field="email", message="email or phone is required"),
                FieldError(field="phone", message="email or phone is required"),
            ],
        )
