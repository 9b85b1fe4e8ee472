"""The shared input types: bad input is one 422 naming its field, never a 500 deeper down."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel, ValidationError

from frontdesk.kit.types import (
    AwareDatetime,
    BoundedDate,
    BoundedDatetime,
    Count,
    Line,
    MinorUnits,
    Multiline,
    Name,
    PositiveCount,
    StrictBool,
    StrictInt,
    TimeZoneName,
    in_bounds,
)


class Form(BaseModel):
    line: Line = "ok"
    note: Multiline = "ok"
    name: Name = "ok"
    number: StrictInt = 0
    flag: StrictBool = False
    count: Count = 0
    positive: PositiveCount = 1
    amount: MinorUnits = 0
    at: BoundedDatetime = datetime(2026, 1, 1)
    aware: AwareDatetime = datetime(2026, 1, 1, tzinfo=UTC)
    day: BoundedDate = date(2026, 1, 1)
    zone: TimeZoneName = "UTC"


def refused(**fields: object) -> list[str]:
    """The fields a form with ``fields`` is refused for (validated as JSON would be)."""
    with pytest.raises(ValidationError) as caught:
        Form.model_validate(fields)
    return sorted({".".join(str(p) for p in e["loc"]) for e in caught.value.errors()})


def refused_json(raw: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Form.model_validate_json(raw)
    return sorted({".".join(str(p) for p in e["loc"]) for e in caught.value.errors()})


# --- text -------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["line", "note", "name"])
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("a\x00b", id="NUL"),
        pytest.param("evil\u202etxt.exe", id="RLO"),
        pytest.param("ad\u200bmin", id="zero-width-space"),
        pytest.param("\ufeffBOM", id="BOM"),
        pytest.param("bell\x07", id="BEL"),
        pytest.param("x\u2066y", id="LRI"),
    ],
)
def test_text_refuses_control_invisible_and_bidi_characters_naming_the_field(field, bad):
    assert refused(**{field: bad}) == [field]


@pytest.mark.parametrize("field", ["line", "name"])
@pytest.mark.parametrize("bad", ["one\ntwo", "one\rtwo", "tab\there"])
def test_single_line_text_refuses_line_breaks_and_tabs(field, bad):
    assert refused(**{field: bad}) == [field]


def test_multiline_keeps_line_breaks_and_tabs_and_all_text_keeps_real_letters():
    form = Form(note="first\r\nsecond\n\tindented", line="Zoë Ærøskøbing 山田 🙂", name="José")
    assert form.note == "first\r\nsecond\n\tindented"
    assert form.line == "Zoë Ærøskøbing 山田 🙂"
    assert form.name == "José"


def test_nul_in_json_is_refused_naming_the_field():
    assert refused_json('{"line": "a\\u0000b"}') == ["line"]
    assert refused_json('{"name": "\\u202eevil"}') == ["name"]


def test_name_is_trimmed_with_inner_whitespace_collapsed_and_never_empty():
    assert Form(name="  Ada \u2003  Lovelace\u00a0 ").name == "Ada Lovelace"
    assert Form(name="Ada").name == "Ada"
    for blank in ["", "   ", "\u00a0\u2003"]:
        assert refused(name=blank) == ["name"]
    # Line keeps what it was given
    assert Form(line="  two  spaces ").line == "  two  spaces "


# --- numbers and booleans ---------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [True, False, "1", 100.0, 1.5, 2**63, -(2**63) - 1, None, [1]],
    ids=repr,
)
def test_strict_int_refuses_what_is_not_a_json_integer_within_bigint(bad):
    assert refused(number=bad) == ["number"]


def test_strict_int_takes_integers_within_bigint():
    assert Form(number=2**63 - 1).number == 2**63 - 1
    assert Form(number=-(2**63)).number == -(2**63)
    assert Form.model_validate_json('{"number": -7}').number == -7
    assert refused_json('{"number": 1.0}') == ["number"]
    assert refused_json('{"number": "1"}') == ["number"]
    assert refused_json('{"number": true}') == ["number"]
    assert refused_json('{"number": 9223372036854775808}') == ["number"]


@pytest.mark.parametrize("bad", [1, 0, "true", "yes", None], ids=repr)
def test_strict_bool_takes_only_json_booleans(bad):
    assert refused(flag=bad) == ["flag"]
    assert Form(flag=True).flag is True


def test_counts_and_minor_units_stay_within_their_columns():
    assert refused(count=-1) == ["count"]
    assert refused(count=2**31) == ["count"]
    assert refused(count=True) == ["count"]
    assert Form(count=0).count == 0 and Form(count=2**31 - 1).count == 2**31 - 1
    assert refused(positive=0) == ["positive"]
    assert Form(positive=1).positive == 1
    assert refused(amount=-1) == ["amount"]
    assert refused(amount=2**63) == ["amount"]
    assert refused(amount=10.0) == ["amount"]
    assert Form(amount=1999).amount == 1999


# --- dates and times --------------------------------------------------------------------


@pytest.mark.parametrize("field", ["at", "aware"])
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("9999-12-31T23:59:59-14:00", id="year-9999-minus-14h"),
        pytest.param("0001-01-01T00:00:00+14:00", id="year-1-plus-14h"),
        pytest.param("1899-12-31T23:59:59+00:00", id="before-1900"),
        pytest.param("2200-01-01T00:00:01+00:00", id="after-2200"),
        pytest.param(0, id="zero"),
        pytest.param(1_700_000_000, id="epoch-int"),
        pytest.param(1.7e9, id="epoch-float"),
        pytest.param("0.5", id="numeric-string"),
        pytest.param("1700000000", id="epoch-string"),
        pytest.param(" -12 ", id="signed-numeric-string"),
        pytest.param("1e9", id="exponent-string"),
        pytest.param(True, id="true"),
        pytest.param("not a date", id="text"),
    ],
)
def test_bounded_datetimes_refuse_numbers_and_instants_out_of_range(field, bad):
    assert refused(**{field: bad}) == [field]


def test_bounded_datetime_takes_iso_text_naive_or_aware_and_aware_requires_an_offset():
    form = Form(at="2027-01-31T18:00:00", aware="2027-01-31T18:00:00+01:00")
    assert form.at == datetime(2027, 1, 31, 18, 0)
    assert form.aware == datetime(2027, 1, 31, 18, 0, tzinfo=timezone(timedelta(hours=1)))
    assert refused(aware="2027-01-31T18:00:00") == ["aware"]
    assert refused(aware=datetime(2027, 1, 31)) == ["aware"]
    # the edges themselves are in
    assert Form(at="1900-01-01T00:00:00Z").at.year == 1900
    assert Form(aware="2200-01-01T00:00:00+00:00").aware.year == 2200


def test_json_numbers_are_not_read_as_epochs():
    assert refused_json('{"at": 1700000000}') == ["at"]
    assert refused_json('{"aware": "0.5"}') == ["aware"]
    assert refused_json('{"day": 19000}') == ["day"]


@pytest.mark.parametrize("bad", ["9999-12-31", "0001-01-01", "1899-12-31", 20000, "20000"])
def test_bounded_date_refuses_numbers_and_days_out_of_range(bad):
    assert refused(day=bad) == ["day"]
    assert Form(day="2026-02-28").day == date(2026, 2, 28)


def test_in_bounds_tells_whether_a_computed_instant_is_storable():
    assert in_bounds(datetime(2026, 1, 1, tzinfo=UTC))
    assert in_bounds(datetime(2026, 1, 1))  # naive: read as UTC
    assert not in_bounds(datetime(2199, 12, 31, tzinfo=UTC) + timedelta(days=2))
    assert not in_bounds(datetime(1899, 12, 31, 23, tzinfo=UTC))
    assert not in_bounds(datetime(9999, 12, 31, tzinfo=timezone(timedelta(hours=-14))))
    assert not in_bounds(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))


# --- time zones -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    ["localtime", "Factory", "posixrules", "US/Eastern", "EST", "GMT+5", "", "Mars/Olympus", 1],
)
def test_time_zone_refuses_non_canonical_names(bad):
    assert refused(zone=bad) == ["zone"]


@pytest.mark.parametrize(
    "good", ["Europe/Berlin", "UTC", "America/New_York", "America/Argentina/Buenos_Aires"]
)
def test_time_zone_accepts_canonical_iana_names(good):
    assert Form(zone=good).zone == good


LEGACY_IN_AN_AREA = ["Asia/Calcutta", "Europe/Kiev", "America/Buenos_Aires", "Asia/Saigon"]


def test_time_zone_refuses_legacy_aliases_inside_an_area():
    present = [name for name in LEGACY_IN_AN_AREA if name in zoneinfo.available_timezones()]
    if not present:
        pytest.skip("this machine's time zone database has no backward links")
    for name in present:
        assert refused(zone=name) == ["zone"], name
