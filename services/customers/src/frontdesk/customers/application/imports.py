"""CSV imports (C17): receive the file in parts (streamed into a staging table, never held
whole), start a dry run or the import, and the worker's chunks that run them: each chunk
a transaction that commits its rows' customers, their events (outbox) and the position
reached, so a crash resumes at the last chunk committed."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from frontdesk.customers.adapters.custom_fields import DefinitionRepository
from frontdesk.customers.adapters.imports import (
    ImportedCustomers,
    ImportRepository,
    claim_running,
)
from frontdesk.customers.application import tenants
from frontdesk.customers.domain.custom_fields import Definition
from frontdesk.customers.domain.customer import Customer
from frontdesk.customers.domain.export import neutralise
from frontdesk.customers.domain.imports import (
    Columns,
    CsvStream,
    CustomerImport,
    Existing,
    Record,
    Row,
    RowError,
    apply_row,
    blank,
    clean_header,
    new_customer,
    read_row,
    reason,
)
from frontdesk.customers.domain.notes import Note
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.uow import UnitOfWork

# Rows staged with one COPY while a part is read.
STAGE_BATCH = 2000
RECENT = 50
REPORT_PAGE = 1000


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0


# -- the file -----------------------------------------------------------------------------


async def upload(
    uow: UnitOfWork,
    principal: Principal,
    body: AsyncIterator[bytes],
    *,
    complete: bool,
    filename: str | None,
) -> CustomerImport:
    """A new import with the file (or its first part, when ``complete`` is false)."""
    job = CustomerImport.begin(principal.tenant_id, principal.sub, filename)
    repo = ImportRepository(uow.session, principal.tenant_id)
    await _receive(repo, job, body, complete=complete)
    await repo.add(job)
    await uow.commit()
    return job


async def append(
    uow: UnitOfWork,
    principal: Principal,
    import_id: uuid.UUID,
    body: AsyncIterator[bytes],
    *,
    offset: int,
    complete: bool,
) -> CustomerImport:
    """The next part of the file, which must start where the received bytes end (a part
    sent twice is refused, never kept twice)."""
    repo = ImportRepository(uow.session, principal.tenant_id)
    job = await repo.require(import_id, for_update=True)
    job.check_offset(offset)
    await _receive(repo, job, body, complete=complete)
    await repo.save(job)
    await uow.commit()
    return job


async def _receive(
    repo: ImportRepository, job: CustomerImport, body: AsyncIterator[bytes], *, complete: bool
) -> None:
    """Reads ``body`` as it arrives; its complete records are staged in batches."""
    stream = CsvStream(job.tail, job.next_line)
    header = job.header
    pending: list[Record] = []
    staged = 0
    size = 0

    async def take(records: Sequence[Record]) -> None:
        nonlocal header, staged, pending
        for record in records:
            if blank(record.cells):
                continue
            if header is None:
                header = clean_header(record.cells)
                continue
            pending.append(record)
        if len(pending) >= STAGE_BATCH:
            await repo.stage(job.id, job.rows_total + staged + 1, pending)
            staged += len(pending)
            pending = []

    async for piece in body:
        size += len(piece)
        await take(stream.feed(piece))
    if complete:
        await take(stream.finish())
    await repo.stage(job.id, job.rows_total + staged + 1, pending)
    job.received(size, stream, staged + len(pending), header if job.header is None else None)
    if complete:
        job.complete()


# -- runs ---------------------------------------------------------------------------------


async def start(
    uow: UnitOfWork,
    principal: Principal,
    import_id: uuid.UUID,
    *,
    dry_run: bool,
    mapping: Mapping[str, str] | None,
    existing: str | None,
) -> CustomerImport:
    """Starts a dry run (nothing is written) or the import; the worker runs it."""
    repo = ImportRepository(uow.session, principal.tenant_id)
    job = await repo.require(import_id, for_update=True)
    definitions = await DefinitionRepository(uow.session, principal.tenant_id).by_key()
    job.start(
        dry_run=dry_run,
        mapping=mapping,
        existing=existing,
        custom_keys=list(definitions),
        now=datetime.now(UTC),
    )
    await repo.clear_run(job.id)
    await repo.save(job)
    await uow.commit()
    return job


async def get(uow: UnitOfWork, principal: Principal, import_id: uuid.UUID) -> CustomerImport:
    return await ImportRepository(uow.session, principal.tenant_id).require(import_id)


async def recent(uow: UnitOfWork, principal: Principal) -> list[CustomerImport]:
    return await ImportRepository(uow.session, principal.tenant_id).recent(RECENT)


async def remove(uow: UnitOfWork, principal: Principal, import_id: uuid.UUID) -> None:
    """The import with its file and report (the customers it made stay)."""
    repo = ImportRepository(uow.session, principal.tenant_id)
    job = await repo.require(import_id, for_update=True)
    job.ensure_removable()
    await repo.remove(job.id)
    await uow.commit()


async def error_report(
    units: Callable[[], UnitOfWork], principal: Principal, job: CustomerImport
) -> AsyncIterator[bytes]:
    """The rows the last run found wrong as CSV: line, reason and the row's own cells under
    the file's header, a page at a time (in a unit of work of its own: the answer streams
    after the request's ends). Cells are neutralised as in the export."""
    header = ["line", "reason", *(job.header or [])]
    yield _csv_line(header)
    after = 0
    async with units() as uow:
        repo = ImportRepository(uow.session, principal.tenant_id)
        while True:
            page = await repo.errors(job.id, after, REPORT_PAGE)
            if not page:
                return
            out = io.StringIO()
            writer = csv.writer(out)
            for _, line, why, cells in page:
                writer.writerow([str(line), neutralise(why), *(neutralise(x) for x in cells)])
            yield out.getvalue().encode()
            after = page[-1][0]


def _csv_line(cells: Sequence[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerow([neutralise(cell) for cell in cells])
    return out.getvalue().encode()


# -- the worker ---------------------------------------------------------------------------


async def work(
    units: Callable[[], UnitOfWork], *, chunk_rows: int, fallback_region: str | None = None
) -> int:
    """Runs chunks of running imports until none is left; how many chunks it ran."""
    chunks = 0
    while await work_chunk(units, chunk_rows=chunk_rows, fallback_region=fallback_region):
        chunks += 1
    return chunks


async def work_chunk(
    units: Callable[[], UnitOfWork], *, chunk_rows: int, fallback_region: str | None = None
) -> bool:
    """One chunk of a running import no other worker holds, in one transaction with the
    position it reached; False when there is none."""
    async with units() as uow:
        job = await claim_running(uow.session)
        if job is None:
            return False
        repo = ImportRepository(uow.session, job.tenant_id)
        rows = await repo.rows(job.id, job.position, chunk_rows)
        region = await tenants.phone_region(uow, job.tenant_id, fallback_region)
        definitions = await DefinitionRepository(uow.session, job.tenant_id).by_key()
        columns = Columns.of(job.header or [], job.mapping or {})
        read: list[tuple[int, Record, Row | list[RowError]]] = [
            (n, record, read_row(record, columns, region, definitions)) for n, record in rows
        ]
        run = _dry_run if job.dry_run else _import
        counts, errors = await run(uow, job, read, definitions)
        await repo.add_errors(job.id, errors)
        job.advance(
            rows[-1][0] if rows else job.rows_total,
            created=counts.created,
            updated=counts.updated,
            skipped=counts.skipped,
            failed=counts.failed,
            now=datetime.now(UTC),
        )
        await repo.save(job)
        await uow.commit()
    return True


Read = Sequence[tuple[int, Record, Row | list[RowError]]]
Errors = list[tuple[int, int, str]]


def _split(read: Read) -> tuple[list[Row], Errors]:
    valid: list[Row] = []
    errors: Errors = []
    for n, record, row in read:
        if isinstance(row, Row):
            valid.append(row)
        else:
            errors.append((n, record.line, reason(row)))
    return valid, errors


def _keys(valid: Sequence[Row]) -> tuple[list[str], list[str]]:
    """The emails and phones (of rows without an email) the rows are matched by."""
    emails = sorted({row.values["email"] for row in valid if row.values.get("email")})
    phones = sorted({row.values["phone"] for row in valid if not row.values.get("email")})
    return emails, phones


async def _matching(
    found: ImportedCustomers, valid: Sequence[Row], *, for_update: bool
) -> dict[str, Customer]:
    """The customers the rows' keys name (locked for the import)."""
    matched = await found.matching(*_keys(valid))
    loaded = await found.load(sorted(set(matched.values())), for_update=for_update)
    survivors = sorted({x.merged_into for x in loaded.values() if x.merged_into is not None})
    loaded.update(await found.load(survivors, for_update=for_update))
    by_key: dict[str, Customer] = {}
    for key, customer_id in matched.items():
        customer = loaded[customer_id]
        # Only a merged record has the key: its survivor is the customer now.
        if customer.merged_into is not None and customer.merged_into in loaded:
            customer = loaded[customer.merged_into]
        by_key[key] = customer
    return by_key


def _numbers(read: Read) -> dict[int, int]:
    """Each valid row's number by its line."""
    return {record.line: n for n, record, row in read if isinstance(row, Row)}


async def _dry_run(
    uow: UnitOfWork, job: CustomerImport, read: Read, definitions: Mapping[str, Definition]
) -> tuple[Counts, Errors]:
    """What the import would do with these rows, without writing any customer: the same
    rules and matches, on records read but never saved. A row whose key an earlier row
    of the file has counts as matching that row's customer."""
    counts = Counts()
    valid, errors = _split(read)
    numbers = _numbers(read)
    rule = Existing(job.existing)
    found = ImportedCustomers(uow.session, job.tenant_id)
    firsts: dict[str, int] = {}
    for row in valid:
        firsts.setdefault(row.key, row.line)
    earlier = await ImportRepository(uow.session, job.tenant_id).seen_keys(job.id, firsts)
    by_key = await _matching(found, valid, for_update=False)
    for row in valid:
        try:
            if row.key in earlier:
                counts.updated += rule is Existing.update
                counts.skipped += rule is Existing.skip
                continue
            customer = by_key.get(row.key)
            if customer is None:
                by_key[row.key] = new_customer(job.tenant_id, row, definitions)
                counts.created += 1
            elif apply_row(customer, row, rule, definitions):
                counts.updated += 1
            else:
                counts.skipped += 1
        except RuleBroken as error:
            errors.append((numbers[row.line], row.line, reason([_row_error(error)])))
    counts.failed = len(errors)
    return counts, errors


async def _import(
    uow: UnitOfWork, job: CustomerImport, read: Read, definitions: Mapping[str, Definition]
) -> tuple[Counts, Errors]:
    """The rows' customers created (with their notes), or updated or skipped by the
    import's rule, and their events, all in the chunk's transaction. The rows' emails and
    phones are locked first, as find-or-create locks an email, so nobody creates the same
    customer meanwhile."""
    counts = Counts()
    valid, errors = _split(read)
    numbers = _numbers(read)
    rule = Existing(job.existing)
    found = ImportedCustomers(uow.session, job.tenant_id)
    await found.lock_keys(*_keys(valid))
    by_key = await _matching(found, valid, for_update=True)
    created: list[Customer] = []
    changed: dict[uuid.UUID, Customer] = {}
    written: list[Note] = []
    for row in valid:
        try:
            customer = by_key.get(row.key)
            if customer is None:
                customer = new_customer(job.tenant_id, row, definitions)
                by_key[row.key] = customer
                created.append(customer)
                uow.publish_recorded(customer)  # registered, at version 1
                if row.note:
                    written.append(_note(job, customer, row.note))
                counts.created += 1
            elif apply_row(customer, row, rule, definitions):
                changed[customer.id] = customer
                counts.updated += 1
            else:
                counts.skipped += 1
        except RuleBroken as error:
            errors.append((numbers[row.line], row.line, reason([_row_error(error)])))
    await found.insert(created)
    await found.add_notes(written)
    # Also one created above and changed by a later row: one statement for them all.
    await found.save(list(changed.values()))
    for customer in changed.values():
        uow.publish_recorded(customer)
    counts.failed = len(errors)
    return counts, errors


def _note(job: CustomerImport, customer: Customer, text: str) -> Note:
    return Note.write(
        tenant_id=job.tenant_id,
        customer_id=customer.id,
        author_sub=job.created_by,
        author_name=None,
        text=text,
    )


def _row_error(error: RuleBroken) -> RowError:
    return RowError(error.field or "row", error.message)
