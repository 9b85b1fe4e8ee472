"""Request and response bodies (never rows on the wire).

Every request field uses the kit's input types (text without control, NUL, bidi or
zero-width characters; strict integers and booleans) and ``extra="forbid"``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from frontdesk.kit.types import Line, Multiline, Name, StrictBool
from frontdesk.notifications.domain.messages import Kind, Message, Status
from frontdesk.notifications.domain.senders import SenderSettings
from frontdesk.notifications.domain.templates import MAX_EMAIL_BODY, VARIABLES, Template

Channel = Literal["sms", "email"]
Body = Annotated[Multiline, Field(min_length=1, max_length=MAX_EMAIL_BODY)]
Subject = Annotated[Line, Field(min_length=1, max_length=500)]
Short = Annotated[Line, Field(min_length=1, max_length=200)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PageOut(BaseModel):
    next_cursor: str | None = None


# --- messages ---------------------------------------------------------------------------


class MessageOut(BaseModel):
    id: uuid.UUID
    kind: Kind
    channel: Channel
    direction: Literal["outbound", "inbound"]
    status: Status
    customer_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    bulk_id: uuid.UUID | None
    due_at: datetime
    recipient: str | None
    sender: str | None
    reply_to: str | None
    subject: str | None
    body: str | None = Field(description="the words as sent (null until rendered, or erased)")
    segments: int | None = Field(description="SMS segments billed")
    attempts: int
    provider_id: str | None = Field(description="Twilio's message SID, or the email's Message-ID")
    error_code: str | None
    error_message: str | None
    outcome_unknown: bool = Field(
        description="the provider may have the message; it is looked up, never resent blindly"
    )
    sent_at: datetime | None
    delivered_at: datetime | None
    created_by: str | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, message: Message) -> Self:
        body = message.body if message.body is not None else message.written_body
        return cls.model_validate(
            {**{k: getattr(message, k) for k in cls.model_fields if k != "body"}, "body": body}
        )


class MessagePage(PageOut):
    items: list[MessageOut]


class DirectMessageIn(_In):
    customer_id: uuid.UUID
    channel: Channel
    subject: Subject | None = Field(default=None, description="email only (required there)")
    body: Body = Field(
        description="may use {{ first_name }}, {{ last_name }}, {{ venue_name }}, "
        "{{ venue_phone }}, {{ venue_email }}, {{ link }}"
    )
    reply_to: EmailStr | None = Field(
        default=None, description="email only: the staff member's address answers go to"
    )


class BulkProgressOut(BaseModel):
    id: uuid.UUID
    channel: Channel
    total: int
    requested_by: str
    counts: dict[str, int]
    done: bool


# --- sender settings --------------------------------------------------------------------


class SenderSettingsIn(_In):
    twilio_account_sid: Annotated[Line, Field(max_length=34)] | None = None
    twilio_auth_token: Annotated[Line, Field(min_length=8, max_length=200)] | None = Field(
        default=None,
        description="write-only; left out, the stored token stays while the account does",
    )
    twilio_messaging_service_sid: Annotated[Line, Field(max_length=34)] | None = None
    twilio_from: Annotated[Line, Field(max_length=20)] | None = None
    sms_per_second: float | None = Field(
        default=None, gt=0, le=1000, strict=True, description="provisioned messages per second"
    )
    email_from: Annotated[Line, Field(max_length=320)] | None = None
    email_reply_to: EmailStr | None = None
    venue_name: Name | None = Field(default=None, max_length=200)
    venue_phone: Annotated[Line, Field(max_length=40)] | None = None
    venue_email: EmailStr | None = None
    link: Annotated[Line, Field(max_length=500)] | None = None
    language: Annotated[Line, Field(pattern=r"^[a-z]{2,3}([_-][A-Za-z]{2,4})?$")] | None = None


class SenderSettingsOut(BaseModel):
    twilio_account_sid: str | None
    twilio_auth_token_set: bool
    twilio_messaging_service_sid: str | None
    twilio_from: str | None
    sms_per_second: float | None
    email_from: str | None
    email_reply_to: str | None
    venue_name: str | None
    venue_phone: str | None
    venue_email: str | None
    link: str | None
    language: str | None
    version: int

    @classmethod
    def of(cls, found: SenderSettings) -> Self:
        values: dict[str, Any] = {
            k: getattr(found, k) for k in cls.model_fields if k != "twilio_auth_token_set"
        }
        return cls.model_validate(
            {**values, "twilio_auth_token_set": bool(found.twilio_auth_token)}
        )


# --- preferences ------------------------------------------------------------------------


class PreferencesOut(BaseModel):
    customer_id: uuid.UUID
    sms: bool
    email: bool
    sms_number_opted_out: bool = Field(
        description="the number replied STOP (or Twilio reported it unsubscribed); a START "
        "reply lifts it"
    )
    version: int


class PreferencesPatch(_In):
    sms: StrictBool | None = None
    email: StrictBool | None = None


# --- templates --------------------------------------------------------------------------


class TemplateOut(BaseModel):
    kind: Kind
    channel: Channel
    subject: str | None
    body: str
    version: int = Field(description="0: the default shipped")
    is_default: bool
    variables: list[str]
    updated_by: str | None
    updated_at: datetime | None

    @classmethod
    def of(cls, template: Template) -> Self:
        return cls(
            kind=template.kind,
            channel=template.channel,
            subject=template.subject,
            body=template.body,
            version=template.version,
            is_default=template.version == 0,
            variables=sorted(VARIABLES[template.kind]),
            updated_by=template.updated_by,
            updated_at=template.updated_at,
        )


class TemplateIn(_In):
    subject: Subject | None = Field(default=None, description="email only (required there)")
    body: Body


class PreviewIn(_In):
    kind: Kind
    channel: Channel
    subject: Subject | None = None
    body: Body | None = Field(default=None, description="a draft; without it the saved template")
    customer_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None


class SmsInfoOut(BaseModel):
    encoding: str
    length: int
    segments: int


class PreviewOut(BaseModel):
    subject: str | None
    body: str
    length: int
    sms: SmsInfoOut | None
    variables: list[str]
