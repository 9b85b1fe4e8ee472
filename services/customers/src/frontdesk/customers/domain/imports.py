"""CSV import rules (C17): what a CSV file is (read in pieces, never whole), the column
mapping, what each row means for the customer it names, and the import's states. Rows go
through the same contact rules as a customer created by staff (``domain.customer``).
No framework code here."""

from __future__ import annotations

import csv
import dataclasses
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from frontdesk.customers.domain.custom_fields import Definition, clean_values
from frontdesk.customers.domain.customer import (
    Customer,
    Status,
    clean_name,
    clean_tags,
    normalise_email,
    normalise_phone,
)
from frontdesk.customers.domain.notes import TEXT_MAX as NOTE_MAX
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import ConflictError, RuleBroken
from frontdesk.kit.types import unprintable

# Fields a column can be mapped to (custom fields: ``cf.<key>``, checked against the
# tenant's definitions by the caller).
FIELDS = ("first_name", "last_name", "email", "phone", "tags", "status", "notes")
CUSTOM_PREFIX = "cf."
# A record (one row, quoted line breaks included) longer than this is refused: an unclosed
# quote would otherwise swallow the rest of the file into one row.
RECORD_MAX_BYTES = 64 * 1024
HEADER_MAX_COLUMNS = 200
# Tags in one cell are separated by any of these.
TAG_SEPARATORS = re.compile(r"[;,|]")
UTF8_BOM = b"\xef\xbb\xbf"


class Phase(StrEnum):
    """Where an import is: receiving its file, then a dry run or the import itself, each
    run in the background a chunk at a time."""

    uploading = "uploading"
    uploaded = "uploaded"
    validating = "validating"  # a dry run is running
    validated = "validated"  # the dry run finished (nothing written)
    importing = "importing"
    imported = "imported"


RUNNING = (Phase.validating.value, Phase.importing.value)


class Existing(StrEnum):
    """What a row does to the customer that already has its email (or, without an email,
    its phone)."""

    skip = "skip"  # left as it is
    update = "update"  # the row's non-empty cells overwrite the fields; tags are added


# -- reading the file ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Record:
    """One CSV record: the physical line it starts on (1 is the first line of the file),
    its cells, and why it cannot be read when it cannot."""

    line: int
    cells: list[str]
    problem: str | None = None


def _lines(text: str) -> list[str]:
    """Lines with their ``\\n`` kept (``\\r\\n`` too), as the csv module wants them; only
    ``\\n`` ends a line (``str.splitlines`` would also split on form feeds and U+2028)."""
    parts = text.split("\n")
    out = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


class CsvStream:
    """Records of a CSV file arriving in pieces of any size (an upload in parts, each read
    in chunks): only the bytes of the record not complete yet are carried from one piece
    to the next (``tail``), so memory stays flat however large the file.

    ``next_line`` is the line the tail starts on; a stream resumed later (the next part)
    is built from the tail and line kept. UTF-8 only (a leading byte order mark is
    dropped); anything else is not a CSV file this service reads."""

    def __init__(self, tail: bytes = b"", next_line: int = 1) -> None:
        self.tail = tail
        self.next_line = next_line

    def feed(self, data: bytes) -> list[Record]:
        """The records completed by ``data``."""
        buffer = self.tail + data
        end = buffer.rfind(b"\n")
        if end < 0:
            self.tail = buffer
            self._check_tail()
            return []
        records, rest = self._parse(buffer[: end + 1], final=False)
        self.tail = rest + buffer[end + 1 :]
        self._check_tail()
        return records

    def finish(self) -> list[Record]:
        """What is left once the file is complete: its last record, when the file does not
        end with a line break (or ends inside a quoted value, which is that row's error)."""
        if not self.tail:
            return []
        records, _ = self._parse(self.tail, final=True)
        self.tail = b""
        return records

    def _check_tail(self) -> None:
        if len(self.tail) > RECORD_MAX_BYTES:
            raise RuleBroken(
                "file",
                f"line {self.next_line}: a row longer than {RECORD_MAX_BYTES // 1024} KiB "
                "(an unclosed quote?)",
            )

    def _decode(self, data: bytes) -> str:
        if self.next_line == 1 and data.startswith(UTF8_BOM):
            data = data[len(UTF8_BOM) :]
        if b"\x00" in data:
            line = self.next_line + data[: data.index(b"\x00")].count(b"\n")
            raise RuleBroken("file", f"line {line}: binary data (NUL); not a CSV text file")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = self.next_line + data[: error.start].count(b"\n")
            raise RuleBroken(
                "file", f"line {line}: not UTF-8 text (save the file as CSV UTF-8)"
            ) from None

    def _parse(self, data: bytes, *, final: bool) -> tuple[list[Record], bytes]:
        """Records of ``data`` (whole lines, or the file's end when ``final``), and the
        bytes of a record the data ends inside (to be completed by the next piece)."""
        lines = _lines(self._decode(data))
        exhausted = False

        def source() -> Iterator[str]:
            nonlocal exhausted
            yield from lines
            exhausted = True

        reader = csv.reader(source(), strict=False)
        records: list[Record] = []
        used = 0  # lines of ``lines`` making up complete records
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                raise RuleBroken("file", f"line {self.next_line + used}: {error}") from None
            line = self.next_line + used
            if exhausted:  # the data ends inside this record's quoted value
                if not final:
                    break
                records.append(Record(line, cells, "the file ends inside a quoted value"))
                used = reader.line_num
                break
            used = reader.line_num
            records.append(Record(line, cells))
        rest = "".join(lines[used:]).encode()
        self.next_line += used
        return records, rest


def blank(cells: Sequence[str]) -> bool:
    """An empty line, or one of empty cells only (spreadsheets leave them): not a row."""
    return not any(cell.strip() for cell in cells)


def clean_header(cells: Sequence[str]) -> list[str]:
    """The first record: column names, trimmed."""
    header = [cell.strip() for cell in cells]
    if len(header) > HEADER_MAX_COLUMNS:
        raise RuleBroken("file", f"the header has more than {HEADER_MAX_COLUMNS} columns")
    problem = next((unprintable(name) for name in header if unprintable(name)), None)
    if problem:
        raise RuleBroken("file", f"line 1 (the header): a column name {problem}")
    return header


# -- the mapping --------------------------------------------------------------------------


def clean_mapping(
    raw: Mapping[str, str], header: Sequence[str], custom_keys: Sequence[str] = ()
) -> dict[str, str]:
    """Column name → field, checked against the file's header: every column named exists
    (once), every field is known (``cf.<key>`` only for the tenant's custom fields) and
    taken once, the names are mapped and so is an email or a phone. A column left out of
    the mapping is ignored."""
    mapping: dict[str, str] = {}
    taken: dict[str, str] = {}
    for column, target in raw.items():
        where = f"mapping.{column}"
        field = target.strip()
        if field.startswith(CUSTOM_PREFIX):
            if field[len(CUSTOM_PREFIX) :] not in custom_keys:
                raise RuleBroken(where, f"no custom field {field[len(CUSTOM_PREFIX) :]!r}")
        elif field not in FIELDS:
            raise RuleBroken(where, f"unknown field {field!r} (one of {', '.join(FIELDS)})")
        count = list(header).count(column)
        if count == 0:
            raise RuleBroken(where, "the file has no such column")
        if count > 1:
            raise RuleBroken(where, "the file has this column more than once")
        if field in taken:
            raise RuleBroken(where, f"{field} is already mapped from column {taken[field]!r}")
        taken[field] = column
        mapping[column] = field
    missing = [field for field in ("first_name", "last_name") if field not in taken]
    if missing:
        raise RuleBroken("mapping", "map a column to " + " and ".join(missing))
    if "email" not in taken and "phone" not in taken:
        raise RuleBroken("mapping", "map a column to email or phone (a customer needs one)")
    return mapping


# -- the rows -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RowError:
    field: str
    message: str


@dataclasses.dataclass(frozen=True)
class Row:
    """A row read through the contact rules: the fields it gives (empty cells give none),
    the note to add, and the key it matches an existing customer by."""

    line: int
    values: dict[str, Any]
    note: str | None

    @property
    def key(self) -> str:
        """Its email, or its phone when it has none (``match_key``)."""
        return match_key(self.values.get("email"), self.values.get("phone"))


def match_key(email: str | None, phone: str | None) -> str:
    return f"email:{email}" if email else f"phone:{phone}"


@dataclasses.dataclass(frozen=True)
class Columns:
    """Where each mapped field is in a row (its index in the header)."""

    index: dict[str, int]
    width: int

    @classmethod
    def of(cls, header: Sequence[str], mapping: Mapping[str, str]) -> Columns:
        return cls({field: list(header).index(col) for col, field in mapping.items()}, len(header))


def read_row(
    record: Record,
    columns: Columns,
    region: str,
    definitions: Mapping[str, Definition] | None = None,
) -> Row | list[RowError]:
    """The row's fields cleaned by the rules a customer created by staff follows, or every
    error it has (each naming its field). A ``cf.<key>`` cell is read as its custom field
    reads a filter's text (a number, yes/no, a date, one of the choices)."""
    if record.problem:
        return [RowError("row", record.problem)]
    if len(record.cells) > columns.width:
        return [
            RowError(
                "row",
                f"{len(record.cells)} cells but the header has {columns.width} "
                "(a comma in an unquoted value?)",
            )
        ]
    errors: list[RowError] = []
    values: dict[str, Any] = {}
    custom_values: dict[str, Any] = {}
    note: str | None = None

    def cell(field: str) -> str:
        i = columns.index.get(field)
        return record.cells[i].strip() if i is not None and i < len(record.cells) else ""

    for field in columns.index:
        raw = cell(field)
        try:
            if field in ("first_name", "last_name"):
                values[field] = clean_name(field, raw)  # required: empty breaks the rule
            elif not raw:
                continue
            elif field == "email":
                values["email"] = normalise_email(raw)
            elif field == "phone":
                values["phone"] = normalise_phone(raw, region)
            elif field == "tags":
                values["tags"] = clean_tags(TAG_SEPARATORS.split(raw))
            elif field == "status":
                values["status"] = _status(raw)
            elif field == "notes":
                note = _note(raw)
            elif field.startswith(CUSTOM_PREFIX):
                key = field[len(CUSTOM_PREFIX) :]
                definition = (definitions or {}).get(key)
                if definition is None:
                    raise RuleBroken(field, "no such custom field (deleted since?)")
                custom_values[key] = definition.filter_value(raw)
        except RuleBroken as error:
            errors.append(RowError(error.field or field, error.message))
    if not values.get("email") and not values.get("phone") and not errors:
        errors.append(RowError("email", "a customer needs an email address or a phone number"))
    if errors:
        return errors
    if custom_values:
        values["custom_fields"] = custom_values
    return Row(record.line, values, note)


def _status(raw: str) -> str:
    try:
        return Status(raw.lower()).value
    except ValueError:
        raise RuleBroken(
            "status", f"unknown status {raw!r} (one of {', '.join(s.value for s in Status)})"
        ) from None


def _note(raw: str) -> str:
    problem = unprintable(raw, multiline=True)
    if problem:
        raise RuleBroken("notes", problem)
    if len(raw) > NOTE_MAX:
        raise RuleBroken("notes", f"at most {NOTE_MAX} characters")
    return raw


def new_customer(
    tenant_id: uuid.UUID, row: Row, definitions: Mapping[str, Definition] | None = None
) -> Customer:
    """A customer made from a row, as staff would create it (source "import"; a required
    custom field the row has no value for breaks the rule)."""
    values = dict(row.values)
    values["custom_fields"] = clean_values(
        definitions or {}, row.values.get("custom_fields") or {}, None
    )
    return Customer.register(tenant_id, values, source="import")


def apply_row(
    customer: Customer,
    row: Row,
    rule: Existing,
    definitions: Mapping[str, Definition] | None = None,
) -> bool:
    """What a row does to the customer that already has its key: nothing under ``skip``;
    under ``update`` the fields it gives overwrite the record's (an empty cell clears
    nothing), its tags are added to the record's, custom values merged. Whether the
    record changed."""
    if rule is Existing.skip:
        return False
    changes = {k: v for k, v in row.values.items() if k not in ("tags", "custom_fields")}
    if "tags" in row.values:
        changes["tags"] = sorted({*customer.tags, *row.values["tags"]})
    if "custom_fields" in row.values:
        changes["custom_fields"] = clean_values(
            definitions or {}, row.values["custom_fields"], customer.custom_fields
        )
    before = customer.to_row()
    try:
        customer.edit(changes)
    except ConflictError:  # erased or merged: such a record is never edited
        return False
    return customer.to_row() != before


def reason(errors: Sequence[RowError]) -> str:
    """The errors of a row as one cell of the error report."""
    return "; ".join(f"{e.field}: {e.message}" for e in errors)


# -- the import ---------------------------------------------------------------------------


@dataclasses.dataclass(kw_only=True, eq=False)
class CustomerImport(Aggregate):
    """One file and what was done with it. The file is received in parts (each appended at
    the offset the client names, so a part sent twice is refused, never kept twice); then
    dry runs (nothing written) and the import run in the background, a chunk of rows per
    transaction, each chunk committed with its position, so a crash resumes where it
    stopped."""

    created_by: str
    filename: str | None = None
    phase: str = Phase.uploading.value
    header: list[str] | None = None
    received_bytes: int = 0
    tail: bytes = b""
    next_line: int = 1
    rows_total: int = 0
    mapping: dict[str, str] | None = None
    existing: str = Existing.skip.value
    position: int = 0  # rows of the current run done (rows are numbered from 1)
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @classmethod
    def begin(
        cls, tenant_id: uuid.UUID, created_by: str, filename: str | None = None
    ) -> CustomerImport:
        return cls(id=uuid.uuid4(), tenant_id=tenant_id, created_by=created_by, filename=filename)

    @property
    def dry_run(self) -> bool:
        return self.phase in (Phase.validating, Phase.validated)

    @property
    def running(self) -> bool:
        return self.phase in RUNNING

    def check_offset(self, offset: int) -> None:
        """A part is appended where the file received so far ends."""
        if self.phase != Phase.uploading:
            raise ConflictError("The file of this import is complete; no more parts.")
        if offset != self.received_bytes:
            raise ConflictError(
                f"This part starts at byte {offset} but {self.received_bytes} bytes were "
                "received: send from there.",
                field="Upload-Offset",
            )

    def received(self, size: int, stream: CsvStream, rows: int, header: list[str] | None) -> None:
        self.change(
            received_bytes=self.received_bytes + size,
            tail=stream.tail,
            next_line=stream.next_line,
            rows_total=self.rows_total + rows,
        )
        if header is not None:
            self.change(header=header)

    def complete(self) -> None:
        """The last part arrived: the file is whole."""
        if self.header is None:
            raise RuleBroken("file", "the file is empty: a header line and rows are expected")
        self.change(phase=Phase.uploaded.value, tail=b"")

    def start(
        self,
        *,
        dry_run: bool,
        mapping: Mapping[str, str] | None,
        existing: str | None,
        custom_keys: Sequence[str],
        now: datetime,
    ) -> None:
        """A dry run, or the import, from the first row; either may follow a dry run, whose
        mapping and rule the import takes when it names none."""
        if self.phase == Phase.uploading:
            raise ConflictError("The file is not complete yet (send its last part first).")
        if self.running:
            raise ConflictError(f"This import is {self.phase}; wait until it finishes.")
        if self.phase == Phase.imported:
            raise ConflictError("This file was imported already (upload it again to re-run).")
        raw = mapping if mapping is not None else self.mapping
        if raw is None:
            raise RuleBroken("mapping", "map the file's columns to fields")
        try:
            rule = Existing(existing or self.existing)
        except ValueError:
            raise RuleBroken("existing", "one of skip, update") from None
        self.change(
            phase=(Phase.validating if dry_run else Phase.importing).value,
            mapping=clean_mapping(raw, self.header or [], custom_keys),
            existing=rule.value,
            position=0,
            created=0,
            updated=0,
            skipped=0,
            failed=0,
            started_at=now,
            finished_at=None,
        )

    def advance(
        self, position: int, *, created: int, updated: int, skipped: int, failed: int, now: datetime
    ) -> None:
        """A chunk done up to row ``position``; the run finishes with the last row."""
        self.change(
            position=position,
            created=self.created + created,
            updated=self.updated + updated,
            skipped=self.skipped + skipped,
            failed=self.failed + failed,
        )
        if position >= self.rows_total:
            done = Phase.validated if self.phase == Phase.validating else Phase.imported
            self.change(phase=done.value, finished_at=now)

    def ensure_removable(self) -> None:
        if self.phase == Phase.importing:
            raise ConflictError("This import is running; it can be removed once it finished.")
