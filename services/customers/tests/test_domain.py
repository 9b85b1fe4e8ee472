"""Unit tests of the domain rules (no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from frontdesk.customers.domain.customer import clean_tag
from frontdesk.customers.domain.engagement import Engagement, engagement
from frontdesk.customers.domain.export import format_money, neutralise
from frontdesk.customers.domain.notes import can_delete, can_see
from frontdesk.kit.errors import RuleBroken

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
RECENT = NOW - timedelta(days=10)
OLD = NOW - timedelta(days=120)


@pytest.mark.parametrize(
    ("count", "last", "expected"),
    [
        (0, None, Engagement.none),
        (1, RECENT, Engagement.active),
        (2, RECENT, Engagement.active),
        (3, RECENT, Engagement.growing),
        (4, RECENT, Engagement.growing),
        (5, RECENT, Engagement.regular),
        (40, RECENT, Engagement.regular),
        (1, OLD, Engagement.lapsed),
        (12, OLD, Engagement.lapsed),
        (1, NOW - timedelta(days=90), Engagement.lapsed),
        (1, NOW - timedelta(days=89, hours=23), Engagement.active),
        (2, NOW + timedelta(days=3), Engagement.active),  # next booking in the future
    ],
)
def test_engagement_rule(count, last, expected):
    assert engagement(count, last, NOW) is expected


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ada", "Ada"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_formula_cells_are_neutralised(raw, safe):
    assert neutralise(raw) == safe


def test_money_is_formatted_from_minor_units():
    assert format_money(123456, "EUR") == "1234.56"
    assert format_money(5, "EUR") == "0.05"
    assert format_money(-150, "GBP") == "-1.50"
    assert format_money(1500, "JPY") == "1500"


def test_tags_are_trimmed_and_lower_cased():
    assert clean_tag("  Pre/Postnatal  ") == "pre/postnatal"
    assert clean_tag("Knee   Injury") == "knee injury"
    with pytest.raises(RuleBroken):
        clean_tag("   ")
    with pytest.raises(RuleBroken):
        clean_tag("x" * 51)


def test_private_notes_are_the_authors_alone():
    assert can_see(visibility="team", author_sub="a", viewer_sub="b")
    assert can_see(visibility="private", author_sub="a", viewer_sub="a")
    assert not can_see(visibility="private", author_sub="a", viewer_sub="b")
    assert can_delete(author_sub="a", viewer_sub="a")
    assert not can_delete(author_sub="a", viewer_sub="b")


def test_export_keeps_e164_phones_but_guards_phone_shaped_formulas():
    from frontdesk.customers.domain.export import cells

    row = {
        "first_name": "Ada",
        "last_name": "L",
        "email": None,
        "status": "active",
        "tags": [],
        "bookings_count": 0,
        "lifetime_spend_minor": 0,
        "currency": None,
        "first_booking_at": None,
        "last_booking_at": None,
        "credits_available": 0,
    }
    assert cells({**row, "phone": "+447911123456"})[3] == "+447911123456"
    assert cells({**row, "phone": "+1+cmd|' /C calc'!A0"})[3] == "'+1+cmd|' /C calc'!A0"


# -- issue 9: formulas behind invisible characters or fullwidth forms ----------------------


@pytest.mark.parametrize(
    "raw",
    [
        '\u200b=HYPERLINK("http://x")',  # zero-width space first
        "\u202e=1+1",  # a bidi override first
        "\ufeff\u200d@SUM(A1)",
        '\uff1dHYPERLINK("http://x")',  # fullwidth equals sign
        "\uff0b1+2",  # fullwidth plus
        "\uff0d2",  # fullwidth minus
        "\uff20SUM(A1)",  # fullwidth commercial at
        "\u200b\uff1d1",
    ],
)
def test_formulas_hidden_behind_invisible_or_fullwidth_characters_are_neutralised(raw):
    assert neutralise(raw) == "'" + raw


def test_text_that_only_looks_odd_is_left_alone():
    assert neutralise("\u200bAda") == "\u200bAda"
    assert neutralise("Ada\uff1d") == "Ada\uff1d"


# -- the customer aggregate -----------------------------------------------------------------

import uuid  # noqa: E402

from frontdesk.contracts.base import Contact  # noqa: E402
from frontdesk.contracts.credits import PackagePurchased  # noqa: E402
from frontdesk.contracts.customers import (  # noqa: E402
    CustomerDeleted,
    CustomerErased,
    CustomerRegistered,
    CustomerStatusChanged,
    CustomerUpdated,
)
from frontdesk.customers.domain.customer import (  # noqa: E402
    BulkChange,
    Customer,
    clean_contact,
    guest_contact,
)
from frontdesk.customers.domain.notes import Note  # noqa: E402
from frontdesk.kit.errors import ConflictError, StaleVersion  # noqa: E402

TENANT = uuid.uuid4()
ADA = {"first_name": " Ada ", "last_name": "Lovelace", "email": "Ada@Example.com"}


def ada(**extra):
    customer = Customer.register(TENANT, clean_contact({**ADA, **extra}, "GB"), source="staff")
    customer.collect_events()
    return customer


def test_registering_cleans_the_contact_and_records_the_event():
    contact = clean_contact({**ADA, "phone": "07911 123456", "tags": [" VIP ", "vip", " "]}, "GB")
    customer = Customer.register(TENANT, contact, source="staff")
    assert (customer.first_name, customer.email, customer.phone, customer.tags) == (
        "Ada",
        "ada@example.com",
        "+447911123456",
        ["vip"],
    )
    [event] = customer.collect_events()
    assert isinstance(event, CustomerRegistered) and event.customer_id == customer.id


def test_a_customer_needs_an_email_or_a_phone():
    with pytest.raises(RuleBroken) as broken:
        Customer.register(TENANT, {"first_name": "A", "last_name": "B"}, source="staff")
    assert broken.value.field == "email"
    customer = ada()
    with pytest.raises(RuleBroken):
        customer.edit({"email": None})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "Ada\u202eecalevoL"),  # bidi override
        ("last_name", "Love\u200blace"),  # zero-width space
        ("first_name", "A\x00"),
        ("email", "not-an-email"),
        ("phone", "12"),
    ],
)
def test_contact_rules_name_the_field(field, value):
    with pytest.raises(RuleBroken) as broken:
        clean_contact({**ADA, field: value}, "GB")
    assert broken.value.field == field


def test_tags_with_invisible_characters_are_refused():
    with pytest.raises(RuleBroken) as broken:
        clean_contact({**ADA, "tags": ["v\u200bip"]}, "GB")
    assert broken.value.field == "tags"
    with pytest.raises(RuleBroken):
        clean_tag("\u202evip")


def test_an_edit_records_what_changed_and_nothing_for_no_change():
    customer = ada()
    customer.edit({"first_name": "Ada"})
    assert not customer.changed and customer.collect_events() == []
    customer.edit({"status": "vip", "last_name": "King", "email": "ada@example.com"})
    assert customer.changed == {"status", "last_name"}
    status, updated = customer.collect_events()
    assert isinstance(status, CustomerStatusChanged)
    assert (status.old_status, status.new_status) == ("active", "vip")
    assert isinstance(updated, CustomerUpdated) and updated.changed == ["last_name"]


def test_an_edit_against_another_version_is_stale():
    customer = ada()
    customer.version = 3
    with pytest.raises(StaleVersion) as stale:
        customer.edit({"first_name": "Augusta"}, expected_version=2)
    assert stale.value.status == 412 and stale.value.headers == {"ETag": '"3"'}
    customer.edit({"first_name": "Augusta"}, expected_version=3)
    assert customer.first_name == "Augusta"


def test_tagging_twice_changes_nothing():
    customer = ada()
    customer.add_tag("injury")
    assert customer.tags == ["injury"] and len(customer.collect_events()) == 1
    customer.add_tag("injury")
    assert customer.collect_events() == []
    customer.remove_tag("injury")
    assert customer.tags == []


def test_an_erased_customer_is_anonymous_and_no_longer_editable():
    customer = ada(phone="07911 123456", tags=["vip"])
    customer.erase(NOW)
    assert (customer.first_name, customer.last_name, customer.email, customer.phone) == (
        "Erased",
        "Customer",
        None,
        None,
    )
    assert customer.tags == [] and customer.erased
    assert [type(e) for e in customer.collect_events()] == [CustomerErased]
    for change in (
        lambda: customer.edit({"first_name": "Ada"}),
        lambda: customer.add_tag("x"),
        lambda: customer.set_status("vip"),
        lambda: customer.erase(NOW),
    ):
        with pytest.raises(ConflictError):
            change()


def test_deletion_is_the_records_last_version():
    customer = ada()
    customer.delete()
    assert customer.version == 2
    assert [type(e) for e in customer.collect_events()] == [CustomerDeleted]


@pytest.mark.parametrize(
    ("action", "given", "field"),
    [
        ("set_status", {}, "status"),
        ("add_tag", {}, "tag"),
        ("remove_tag", {"tag": "  "}, "tag"),
        ("message", {"body": "Hi"}, "channel"),
        ("message", {"channel": "sms"}, "body"),
        ("message", {"channel": "email", "body": "Hi"}, "subject"),
    ],
)
def test_a_bulk_action_needs_what_it_acts_with(action, given, field):
    with pytest.raises(RuleBroken) as broken:
        BulkChange.of(action, **given)
    assert broken.value.field == field


def test_a_bulk_tag_is_cleaned_and_applied_like_a_single_one():
    change = BulkChange.of("add_tag", tag=" Spring  Promo ")
    customer = ada()
    change.apply_to(customer)
    assert customer.tags == ["spring promo"] and not change.is_message


def test_a_note_is_trimmed_and_never_blank():
    with pytest.raises(RuleBroken) as broken:
        Note.write(
            tenant_id=TENANT, customer_id=uuid.uuid4(), author_sub="a", author_name=None, text=" "
        )
    assert broken.value.field == "text"
    note = Note.write(
        tenant_id=TENANT,
        customer_id=uuid.uuid4(),
        author_sub="a",
        author_name=None,
        text=" knee \n",
        visibility="private",
    )
    assert note.text == "knee"
    assert note.visible_to("a") and not note.visible_to("b")
    assert note.deletable_by("a") and not note.deletable_by("b")


def test_a_guest_contact_keeps_what_is_usable():
    guest = Contact(first_name="\u200bEve", last_name="Adams", email="EVE@x.org", phone="12")
    assert guest_contact(guest, "GB") == {
        "email": "eve@x.org",
        "phone": None,
        "first_name": "Guest",
        "last_name": "Adams",
    }
    assert guest_contact(Contact(first_name="A", last_name="B", email="nope"), "GB") is None


def test_only_priced_credits_are_the_customers_activity():
    from frontdesk.customers.domain.summary import credits_bought

    def package(price):
        return PackagePurchased(
            package_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            name="Ten",
            credits=10,
            price_minor=price,
            purchased_by="staff-1",
        )

    assert credits_bought(package(100)) and not credits_bought(package(0))
