"""Unit tests of the domain rules (no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from frontdesk.customers.domain.customer import ContactError, clean_tag
from frontdesk.customers.domain.engagement import Engagement, engagement
from frontdesk.customers.domain.export import format_money, neutralise
from frontdesk.customers.domain.notes import can_delete, can_see

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
    with pytest.raises(ContactError):
        clean_tag("   ")
    with pytest.raises(ContactError):
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
