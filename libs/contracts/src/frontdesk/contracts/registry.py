"""The catalogue: every published event, looked up by (type, version)."""

from __future__ import annotations

from frontdesk.contracts import billing, credits, customers, identity, notifications, scheduling
from frontdesk.contracts.base import Envelope, Event

CATALOGUE: tuple[type[Event], ...] = (
    customers.CustomerRegistered,
    customers.CustomerUpdated,
    customers.CustomerStatusChanged,
    customers.CustomerDeleted,
    customers.CustomerErased,
    customers.GuestResolved,
    customers.BulkMessageRequested,
    customers.CustomerMerged,
    customers.CustomerUnmerged,
    customers.HouseholdLinked,
    customers.HouseholdUnlinked,
    customers.AssetChanged,
    credits.PackagePurchased,
    credits.PackageToppedUp,
    credits.BalanceChanged,
    credits.DebitSucceeded,
    credits.DebitRejected,
    credits.CreditsRefunded,
    credits.MembershipAssigned,
    credits.MembershipChanged,
    credits.MembershipExpired,
    credits.LoyaltyPointsChanged,
    credits.LoyaltyVoucherIssued,
    credits.ProgramPurchased,
    credits.ProgramProgressed,
    scheduling.BookingRequested,
    scheduling.BookingConfirmed,
    scheduling.BookingRejected,
    scheduling.BookingCancelled,
    scheduling.BookingRescheduled,
    scheduling.BookingCustomerLinked,
    scheduling.BookingAttended,
    scheduling.BookingNoShow,
    scheduling.BookingWaitlisted,
    scheduling.BookingPromoted,
    scheduling.BookingWaitlistLeft,
    scheduling.SessionCancelled,
    scheduling.SessionChanged,
    notifications.MessageSent,
    notifications.MessageDelivered,
    notifications.MessageFailed,
    notifications.MessageReceived,
    notifications.ConsentChanged,
    billing.InvoiceIssued,
    billing.InvoicePaid,
    billing.InvoiceCancelled,
    billing.PaymentRefunded,
    billing.AccountChanged,
    billing.PaymentRecorded,
    billing.CreditNoteIssued,
    identity.TenantChanged,
    identity.CustomerAccountCreated,
    identity.LoginSucceeded,
    identity.AccountEmailRequested,
)

_BY_KEY: dict[str, type[Event]] = {cls.routing_key(): cls for cls in CATALOGUE}


class UnknownEventError(LookupError):
    pass


def event_class(routing_key: str) -> type[Event]:
    try:
        return _BY_KEY[routing_key]
    except KeyError:
        raise UnknownEventError(f"no contract for {routing_key!r}") from None


def parse(envelope: Envelope) -> Event:
    """Validate the payload against its contract; raises on unknown or invalid events."""
    return event_class(envelope.routing_key).model_validate(envelope.payload)
