"""The customer record (C1, C9): contact rules (names, email, phone, tags), status changes,
erasure and deletion, each recording the event it causes. No framework code here."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from frontdesk.contracts.base import Contact
from frontdesk.contracts.customers import (
    BulkMessageRequested,
    CustomerDeleted,
    CustomerErased,
    CustomerRegistered,
    CustomerStatusChanged,
    CustomerUpdated,
)
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import ConflictError, RuleBroken
from frontdesk.kit.types import unprintable

NAME_MAX = 100
TAG_MAX = 50
SMS_CAPABLE = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
# What an erased record keeps of a name: a placeholder that is no one's.
ERASED_NAME = ("Erased", "Customer")


class Status(StrEnum):
    active = "active"
    inactive = "inactive"
    vip = "vip"
    blocked = "blocked"


# -- contact rules ----------------------------------------------------------------------


def normalise_email(raw: str) -> str:
    """Validated, with the domain lower-cased; the whole address lower-cased for matching."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise RuleBroken("email", str(error)) from None


def normalise_phone(raw: str, default_region: str) -> str:
    """E.164, and it must be able to receive SMS."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as error:
        raise RuleBroken("phone", f"not a phone number: {error}") from None
    if not phonenumbers.is_valid_number(number):
        raise RuleBroken("phone", "not a valid phone number")
    if phonenumbers.number_type(number) not in SMS_CAPABLE:
        raise RuleBroken("phone", "this number cannot receive SMS (use a mobile number)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _text(field: str, value: str, max_length: int) -> str:
    if not value:
        raise RuleBroken(field, "must not be empty")
    problem = unprintable(value)
    if problem:
        raise RuleBroken(field, problem)
    if len(value) > max_length:
        raise RuleBroken(field, f"at most {max_length} characters")
    return value


def clean_name(field: str, raw: str) -> str:
    """Trimmed, inner whitespace collapsed; never empty, at most NAME_MAX characters."""
    return _text(field, " ".join(raw.split()), NAME_MAX)


def clean_tag(raw: str, field: str = "tag") -> str:
    """Tags are compared trimmed, with inner spaces collapsed, lower-cased."""
    return _text(field, " ".join(raw.split()).lower(), TAG_MAX)


def clean_tags(raw: Iterable[str], field: str = "tags") -> list[str]:
    """A set of tags, cleaned and sorted; blank ones are dropped."""
    return sorted({clean_tag(tag, field) for tag in raw if tag.strip()})


def require_contact(email: str | None, phone: str | None) -> None:
    if not email and not phone:
        raise RuleBroken("email", "A customer needs an email address or a phone number.")


def clean_contact(values: Mapping[str, Any], default_region: str) -> dict[str, Any]:
    """Names, email, phone, tags and status as they are stored; a bad one breaks a rule
    naming its field. Only the keys given are returned (a PATCH changes just those); an
    empty email or phone means none."""
    out = dict(values)
    for field in ("first_name", "last_name"):
        if out.get(field) is not None:
            out[field] = clean_name(field, out[field])
    if "email" in out:
        out["email"] = normalise_email(out["email"]) if out["email"] else None
    if "phone" in out:
        out["phone"] = normalise_phone(out["phone"], default_region) if out["phone"] else None
    if out.get("tags") is not None:
        out["tags"] = clean_tags(out["tags"])
    if out.get("status") is not None:
        out["status"] = Status(out["status"]).value
    return out


def guest_contact(guest: Contact, default_region: str) -> dict[str, Any] | None:
    """A booking guest's contact, cleaned; None without a usable email. A name that breaks
    the rules becomes "Guest"; an unusable phone is left out (the email is enough)."""
    if not guest.email:
        return None
    try:
        email = normalise_email(guest.email)
    except RuleBroken:
        return None
    values: dict[str, Any] = {"email": email, "phone": None}
    for field in ("first_name", "last_name"):
        try:
            values[field] = clean_name(field, getattr(guest, field) or "")
        except RuleBroken:
            values[field] = "Guest"
    if guest.phone:
        with contextlib.suppress(RuleBroken):
            values["phone"] = normalise_phone(guest.phone, default_region)
    return values


# -- the aggregate ------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True, eq=False)
class Customer(Aggregate):
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    status: str = Status.active.value
    tags: list[str] = dataclasses.field(default_factory=list)
    source: str = "staff"
    created_at: datetime | None = None
    updated_at: datetime | None = None
    erased_at: datetime | None = None
    merged_into: uuid.UUID | None = None
    merged_at: datetime | None = None
    custom_fields: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def register(cls, tenant_id: uuid.UUID, contact: Mapping[str, Any], *, source: str) -> Customer:
        """A new record from a cleaned contact (``clean_contact``); it needs an email or
        a phone."""
        require_contact(contact.get("email"), contact.get("phone"))
        customer = cls(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            first_name=contact["first_name"],
            last_name=contact["last_name"],
            email=contact.get("email"),
            phone=contact.get("phone"),
            status=contact.get("status") or Status.active.value,
            tags=list(contact.get("tags") or []),
            source=source,
            custom_fields=dict(contact.get("custom_fields") or {}),
        )
        customer.record(
            CustomerRegistered(**customer._contact(), status=customer.status, source=source)
        )
        return customer

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | Any) -> Customer:
        customer = super().from_row(row)
        if isinstance(customer.custom_fields, str):  # jsonb read by the bare driver
            customer.custom_fields = json.loads(customer.custom_fields)
        return customer

    def _contact(self) -> dict[str, Any]:
        """The contact every event about the record's details carries."""
        return {
            "customer_id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "tags": list(self.tags),
        }

    @property
    def erased(self) -> bool:
        return self.erased_at is not None

    @property
    def merged(self) -> bool:
        return self.merged_into is not None

    def ensure_editable(self) -> None:
        if self.erased:
            raise ConflictError("This customer was erased; the record can no longer be edited.")
        if self.merged:
            raise ConflictError(
                f"This customer was merged into {self.merged_into}; edit that record instead."
            )

    # -- merges (C13) ----------------------------------------------------------------------

    def absorb(self, other: Customer) -> tuple[list[str], dict[str, Any]]:
        """Takes ``other``'s tags and the custom field values this record lacks; what it
        gained (so an unmerge takes exactly that away again)."""
        self.ensure_editable()
        tags = sorted(set(other.tags) - set(self.tags))
        values = {k: v for k, v in other.custom_fields.items() if k not in self.custom_fields}
        self._apply(
            {"tags": sorted({*self.tags, *tags}), "custom_fields": {**self.custom_fields, **values}}
        )
        return tags, values

    def give_back(self, tags: list[str], values: Mapping[str, Any]) -> None:
        """An unmerge: the tags and values gained by the merge go (a value changed since
        the merge is the survivor's own now and stays)."""
        kept = {k: v for k, v in self.custom_fields.items() if values.get(k, object()) != v}
        self._apply({"tags": sorted(set(self.tags) - set(tags)), "custom_fields": kept})

    def merge_into(self, survivor_id: uuid.UUID, now: datetime) -> None:
        """Marked merged, never erased: its own fields stay as they were."""
        self.ensure_editable()
        self.change(merged_into=survivor_id, merged_at=now)

    def unmerge(self) -> None:
        self.change(merged_into=None, merged_at=None)

    def edit(self, changes: Mapping[str, Any], *, expected_version: int | None = None) -> None:
        """A cleaned PATCH (``clean_contact``), made against ``expected_version`` when one
        is given; the record keeps an email or a phone."""
        self.ensure_editable()
        self.require_version(expected_version, "customer")
        require_contact(changes.get("email", self.email), changes.get("phone", self.phone))
        self._apply(changes)

    def add_tag(self, tag: str) -> None:
        """``tag`` cleaned (``clean_tag``); adding it twice changes nothing."""
        self.ensure_editable()
        self._apply({"tags": sorted({*self.tags, tag})})

    def remove_tag(self, tag: str) -> None:
        self.ensure_editable()
        self._apply({"tags": sorted(set(self.tags) - {tag})})

    def set_status(self, status: str) -> None:
        self.ensure_editable()
        self._apply({"status": Status(status).value})

    def erase(self, now: datetime) -> None:
        """GDPR erasure: personal data scrubbed; the anonymous record and its numbers stay,
        and it can no longer be edited."""
        self.ensure_editable()
        first, last = ERASED_NAME
        self.change(
            first_name=first,
            last_name=last,
            email=None,
            phone=None,
            tags=[],
            custom_fields={},
            erased_at=now,
        )
        self.record(CustomerErased(customer_id=self.id))

    def delete(self) -> None:
        """The record goes; its deletion is its last version."""
        self.version += 1
        self.record(CustomerDeleted(customer_id=self.id))

    def _apply(self, changes: Mapping[str, Any]) -> None:
        """Change what differs and record the events a single edit, a tag change and a
        bulk action all publish alike."""
        changed = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if not changed:
            return
        old_status = self.status
        self.change(**changed)
        if "status" in changed:
            self.record(
                CustomerStatusChanged(
                    customer_id=self.id,
                    old_status=old_status,  # type: ignore[arg-type]
                    new_status=self.status,  # type: ignore[arg-type]
                )
            )
        others = sorted(set(changed) - {"status"})
        if others:
            self.record(CustomerUpdated(**self._contact(), changed=others))


# -- bulk actions -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BulkChange:
    """One action on a selection: a status, a tag added or removed, or a message."""

    action: str
    status: str | None = None
    tag: str | None = None
    channel: str | None = None
    subject: str | None = None
    body: str | None = None

    @classmethod
    def of(
        cls,
        action: str,
        *,
        status: str | None = None,
        tag: str | None = None,
        channel: str | None = None,
        subject: str | None = None,
        body: str | None = None,
    ) -> BulkChange:
        """The action with what it needs, or a broken rule naming what is missing."""
        if action == "set_status" and status is None:
            raise RuleBroken("status", "set_status needs a status")
        if action in ("add_tag", "remove_tag"):
            try:
                tag = clean_tag(tag or "")
            except RuleBroken as error:
                raise RuleBroken("tag", f"{action} needs a tag: {error}") from None
        if action == "message":
            if channel is None:
                raise RuleBroken("channel", "message needs a channel (email or sms)")
            if not (body and body.strip()):
                raise RuleBroken("body", "message needs a body")
            if channel == "email" and not (subject and subject.strip()):
                raise RuleBroken("subject", "an email needs a subject")
        return cls(action, status, tag, channel, subject, body)

    @property
    def is_message(self) -> bool:
        return self.action == "message"

    def apply_to(self, customer: Customer) -> None:
        if self.action == "set_status" and self.status is not None:
            customer.set_status(self.status)
        elif self.action == "add_tag" and self.tag is not None:
            customer.add_tag(self.tag)
        elif self.action == "remove_tag" and self.tag is not None:
            customer.remove_tag(self.tag)

    def message(
        self, request_id: uuid.UUID, customer_ids: list[uuid.UUID], requested_by: str
    ) -> BulkMessageRequested:
        """The one request notifications sends the message from."""
        return BulkMessageRequested(
            request_id=request_id,
            customer_ids=customer_ids,
            channel=self.channel,  # type: ignore[arg-type]
            subject=self.subject,
            body=self.body or "",
            requested_by=requested_by,
        )
