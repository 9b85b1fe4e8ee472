"""CSV import rules (C17) without a database: reading a file that arrives in pieces, the
column mapping, each row through the contact rules, and what a row does to an existing
customer."""

import csv
import io
import itertools
import uuid
from datetime import UTC, datetime

import pytest

from frontdesk.customers.domain.customer import Customer
from frontdesk.customers.domain.imports import (
    Columns,
    CsvStream,
    CustomerImport,
    Existing,
    Record,
    Row,
    apply_row,
    clean_mapping,
    new_customer,
    read_row,
)
from frontdesk.kit.errors import ConflictError, RuleBroken

NOW = datetime.now(UTC)
HEADER = ["First", "Last", "E-mail", "Mobile", "Tags", "Status", "Notes"]
MAPPING = {
    "First": "first_name",
    "Last": "last_name",
    "E-mail": "email",
    "Mobile": "phone",
    "Tags": "tags",
    "Status": "status",
    "Notes": "notes",
}
# Quoted commas, a quoted line break, doubled quotes, CRLF and LF endings, non-ASCII text
# (multi-byte UTF-8), a blank line and a file that does not end with a line break.
TEXT = (
    "\ufeffFirst,Last,E-mail,Mobile,Tags,Status,Notes\r\n"
    'Zoë,"Lovelace, Countess",ada@example.com,07911 123456,"yoga; vip",VIP,"likes ""hot"" yoga"\r\n'
    "\r\n"
    'Grace,Hopper,grace@example.com,,,,"line one\nline two"\n'
    "Émile,Zola,emile@example.com,,,,"
)
EXPECTED = [
    (1, HEADER),
    (
        2,
        [
            "Zoë",
            "Lovelace, Countess",
            "ada@example.com",
            "07911 123456",
            "yoga; vip",
            "VIP",
            'likes "hot" yoga',
        ],
    ),
    (3, []),
    (4, ["Grace", "Hopper", "grace@example.com", "", "", "", "line one\nline two"]),
    (6, ["Émile", "Zola", "emile@example.com", "", "", "", ""]),
]


def read_in_pieces(data: bytes, cuts: list[int]) -> list[tuple[int, list[str]]]:
    stream = CsvStream()
    records: list[Record] = []
    edges = [0, *cuts, len(data)]
    for start, end in itertools.pairwise(edges):
        records += stream.feed(data[start:end])
        # A part ends here: the stream is rebuilt from what the import row keeps.
        stream = CsvStream(stream.tail, stream.next_line)
    records += stream.finish()
    return [(r.line, r.cells) for r in records]


def test_a_file_read_whole_or_cut_anywhere_gives_the_same_rows_and_lines():
    data = TEXT.encode()
    assert read_in_pieces(data, []) == EXPECTED
    for cut in range(1, len(data)):  # inside quotes, inside a UTF-8 character, in CRLF
        assert read_in_pieces(data, [cut]) == EXPECTED, cut
    assert read_in_pieces(data, list(range(1, len(data)))) == EXPECTED  # a byte at a time


def test_only_the_unfinished_record_is_carried_between_pieces():
    stream = CsvStream()
    stream.feed(b"a,b\n1,2\n3,4\n5,")
    assert stream.tail == b"5,"
    assert stream.next_line == 4
    stream.feed(b'6\n"7\n')
    assert stream.tail == b'"7\n'  # inside a quoted value: not a record yet


def test_what_is_not_a_utf8_csv_file_names_the_file_and_line():
    with pytest.raises(RuleBroken) as latin1:
        CsvStream().feed("a,b\nZoë,x\n".encode("latin-1"))
    assert latin1.value.field == "file"
    assert "line 2" in latin1.value.message and "UTF-8" in latin1.value.message
    with pytest.raises(RuleBroken) as binary:
        CsvStream().feed(b"PK\x03\x04\x00\x00zip\n")
    assert "binary" in binary.value.message


def test_an_unclosed_quote_is_that_rows_error_or_refused_when_too_long():
    stream = CsvStream()
    assert stream.feed(b'a,b\n1,"never closed\n') == [Record(1, ["a", "b"])]
    (last,) = stream.finish()
    assert last.line == 2 and last.problem == "the file ends inside a quoted value"
    with pytest.raises(RuleBroken) as long:
        CsvStream().feed(b'a,b\n1,"' + b"x" * 70_000 + b"\n")
    assert "line 2" in long.value.message and "unclosed quote" in long.value.message


def test_mapping_needs_names_and_a_contact_and_knows_its_fields():
    assert clean_mapping(MAPPING, HEADER) == MAPPING
    cases = [
        ({**MAPPING, "Tags": "nickname"}, "mapping.Tags", "unknown field"),
        ({**MAPPING, "Age": "notes"}, "mapping.Age", "no such column"),
        ({"First": "first_name", "E-mail": "email"}, "mapping", "last_name"),
        ({"First": "first_name", "Last": "last_name"}, "mapping", "email or phone"),
        ({**MAPPING, "Notes": "email"}, "mapping.Notes", "already mapped"),
        ({**MAPPING, "Notes": "cf.shoe_size"}, "mapping.Notes", "no custom field"),
    ]
    for mapping, field, words in cases:
        with pytest.raises(RuleBroken) as broken:
            clean_mapping(mapping, HEADER)
        assert broken.value.field == field and words in broken.value.message, mapping
    assert clean_mapping({**MAPPING, "Notes": "cf.shoe_size"}, HEADER, ["shoe_size"])
    with pytest.raises(RuleBroken, match="more than once"):
        clean_mapping(MAPPING, [*HEADER, "Tags"])


COLUMNS = Columns.of(HEADER, MAPPING)


def test_a_row_follows_the_contact_rules_and_reports_every_error():
    row = read_row(
        Record(2, [" Ada ", "Lovelace", "ADA@Example.com", "07911 123456", "Yoga, vip", "vip", ""]),
        COLUMNS,
        "GB",
    )
    assert isinstance(row, Row)
    assert row.values == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+447911123456",
        "tags": ["vip", "yoga"],
        "status": "vip",
    }
    assert row.key == "email:ada@example.com" and row.note is None
    errors = read_row(Record(7, ["", "X", "not-an-email", "12", "", "gold", ""]), COLUMNS, "GB")
    assert {(e.field, e.message.split(" ")[0]) for e in errors} >= {
        ("first_name", "must"),
        ("email", "An"),
        ("phone", "not"),
        ("status", "unknown"),
    }
    assert [
        e.field for e in read_row(Record(3, ["A", "B", "", "", "", "", ""]), COLUMNS, "GB")
    ] == ["email"]
    (too_wide,) = read_row(Record(4, ["A", "B", "a@b.example", "", "", "", "", "x"]), COLUMNS, "GB")
    assert "8 cells but the header has 7" in too_wide.message
    phone_only = read_row(Record(5, ["A", "B", "", "07911 123456"]), COLUMNS, "GB")
    assert isinstance(phone_only, Row) and phone_only.key == "phone:+447911123456"


def test_an_existing_customer_is_skipped_or_updated_by_the_rule():
    tenant = uuid.uuid4()
    row = read_row(
        Record(2, ["Ada", "King", "ada@example.com", "", "new", "", "a note"]), COLUMNS, "GB"
    )
    assert isinstance(row, Row)
    customer = new_customer(tenant, row)
    assert customer.source == "import" and customer.last_name == "King"
    assert [e.source for e in customer.collect_events()] == ["import"]
    existing = Customer(
        id=uuid.uuid4(),
        tenant_id=tenant,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone="+447911123456",
        tags=["old"],
    )
    assert not apply_row(existing, row, Existing.skip)
    assert existing.last_name == "Lovelace"
    assert apply_row(existing, row, Existing.update)
    # Given cells overwrite; an empty cell (the phone) clears nothing; tags are added.
    assert (existing.last_name, existing.phone, existing.tags) == (
        "King",
        "+447911123456",
        ["new", "old"],
    )
    assert not apply_row(existing, row, Existing.update)  # the same row again: no change


def test_an_import_runs_only_once_its_file_is_whole_and_one_run_at_a_time():
    job = CustomerImport.begin(uuid.uuid4(), "staff-1")
    with pytest.raises(ConflictError):
        job.start(dry_run=True, mapping=MAPPING, existing=None, custom_keys=[], now=NOW)
    with pytest.raises(ConflictError):
        job.check_offset(5)  # nothing received yet
    with pytest.raises(RuleBroken, match="empty"):
        job.complete()
    job.header = HEADER
    job.rows_total = 3
    job.complete()
    job.start(dry_run=True, mapping=MAPPING, existing="update", custom_keys=[], now=NOW)
    assert job.dry_run and job.existing == "update"
    with pytest.raises(ConflictError):
        job.start(dry_run=False, mapping=None, existing=None, custom_keys=[], now=NOW)
    job.advance(3, created=2, updated=0, skipped=0, failed=1, now=NOW)
    assert job.phase == "validated"
    job.start(dry_run=False, mapping=None, existing=None, custom_keys=[], now=NOW)
    assert (job.mapping, job.existing, job.created) == (MAPPING, "update", 0)
    job.advance(3, created=2, updated=0, skipped=0, failed=1, now=NOW)
    assert job.phase == "imported"
    with pytest.raises(ConflictError, match="imported already"):
        job.start(dry_run=True, mapping=None, existing=None, custom_keys=[], now=NOW)


def test_the_csv_module_agrees_with_the_expected_rows():
    # The expectations above are what Python's csv module reads from the whole text.
    rows = list(csv.reader(io.StringIO(TEXT.removeprefix("\ufeff"), newline="")))
    assert [cells for _, cells in EXPECTED] == rows
