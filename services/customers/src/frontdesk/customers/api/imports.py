"""/v1/imports: CSV imports of customers (C17). The file is sent as the body (``text/csv``)
of ``POST /v1/imports``, in parts when it is larger than a request may be (each part
appended with ``Upload-Offset``; the last one says ``Upload-Complete: ?1``); then a dry
run and the import, which run in the background, with their progress and error report."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from frontdesk.customers.api.common import CustomersRuntime, Editor, answer
from frontdesk.customers.application import imports
from frontdesk.customers.domain.imports import CustomerImport
from frontdesk.kit.problems import Problem
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.kit.types import Line

router = APIRouter(prefix="/v1/imports", tags=["imports"])

# What a CSV file is sent as (spreadsheets and browsers differ).
CSV_TYPES = {"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"}
CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
    }
}
UploadComplete = Annotated[
    str | None,
    Header(
        alias="Upload-Complete",
        description="?1 (the default): this is the file's last part; ?0: more parts follow",
    ),
]


class ImportOut(BaseModel):
    """An import and its progress: ``rows_done`` of ``rows_total`` by the current run (a
    dry run while ``phase`` is ``validating``/``validated``: nothing was written)."""

    id: uuid.UUID
    phase: Literal["uploading", "uploaded", "validating", "validated", "importing", "imported"]
    dry_run: bool
    filename: str | None
    columns: list[str] | None = Field(description="The file's header")
    received_bytes: int = Field(description="The offset the next part starts at")
    rows_total: int
    rows_done: int
    created: int
    updated: int
    skipped: int
    errors: int
    mapping: dict[str, str] | None
    existing: Literal["skip", "update"]
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    error_report: str

    @classmethod
    def of(cls, job: CustomerImport) -> ImportOut:
        return cls(
            id=job.id,
            phase=job.phase,  # type: ignore[arg-type]
            dry_run=job.dry_run,
            filename=job.filename,
            columns=job.header,
            received_bytes=job.received_bytes,
            rows_total=job.rows_total,
            rows_done=job.position,
            created=job.created,
            updated=job.updated,
            skipped=job.skipped,
            errors=job.failed,
            mapping=job.mapping,
            existing=job.existing,  # type: ignore[arg-type]
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            error_report=f"/v1/imports/{job.id}/errors.csv",
        )


class ImportList(BaseModel):
    items: list[ImportOut]


class RunIn(BaseModel):
    """Which column holds which field (``first_name``, ``last_name``, ``email``,
    ``phone``, ``tags``, ``status``, ``notes``, ``cf.<key>``), and what a row does to the
    customer that already has its email (``skip`` or ``update``). The import may leave
    both out to use the dry run's."""

    model_config = ConfigDict(extra="forbid")

    mapping: dict[Line, Line] | None = Field(default=None, max_length=200)
    existing: Literal["skip", "update"] | None = None


def _answer(job: CustomerImport, *, status_code: int = 200) -> Response:
    headers = {
        "Upload-Offset": str(job.received_bytes),
        "Location": f"/v1/imports/{job.id}",
    }
    return answer(ImportOut.of(job), status_code=status_code, headers=headers)


def _csv(request: Request) -> AsyncIterator[bytes]:
    """The body as it arrives; 415 unless it is sent as CSV."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in CSV_TYPES:
        raise Problem.for_field(
            "Content-Type",
            "send the file as text/csv (UTF-8)",
            status=415,
            title="Unsupported media type",
        )
    return request.stream()


def _complete(value: str | None) -> bool:
    """``Upload-Complete`` (a structured-field boolean)."""
    if value is None or value.strip() == "?1":
        return True
    if value.strip() == "?0":
        return False
    raise Problem.for_field("Upload-Complete", "?1 or ?0")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportOut,
    openapi_extra=CSV_BODY,
    responses={415: {"description": "Not sent as CSV"}},
)
async def upload(
    request: Request,
    uow: UnitOfWorkDep,
    principal: Editor,
    upload_complete: UploadComplete = None,
    filename: Annotated[Line | None, Query(max_length=200)] = None,
) -> Response:
    """A new import with the CSV file (UTF-8, a header line first), or its first part."""
    complete = _complete(upload_complete)
    job = await imports.upload(uow, principal, _csv(request), complete=complete, filename=filename)
    return _answer(job, status_code=status.HTTP_201_CREATED)


@router.get("", response_model=ImportList)
async def list_imports(uow: UnitOfWorkDep, principal: Editor) -> Response:
    """The tenant's latest imports, newest first."""
    jobs = await imports.recent(uow, principal)
    return answer(ImportList(items=[ImportOut.of(job) for job in jobs]))


@router.post(
    "/{import_id}/parts",
    response_model=ImportOut,
    openapi_extra=CSV_BODY,
    responses={409: {"description": "The part does not start where the file ends"}},
)
async def append_part(
    import_id: uuid.UUID,
    request: Request,
    uow: UnitOfWorkDep,
    principal: Editor,
    upload_offset: Annotated[int, Header(alias="Upload-Offset", ge=0)],
    upload_complete: UploadComplete = None,
) -> Response:
    """The file's next part, starting at ``Upload-Offset`` (the bytes received so far)."""
    job = await imports.append(
        uow,
        principal,
        import_id,
        _csv(request),
        offset=upload_offset,
        complete=_complete(upload_complete),
    )
    return _answer(job)


@router.get("/{import_id}", response_model=ImportOut)
async def get_import(import_id: uuid.UUID, uow: UnitOfWorkDep, principal: Editor) -> Response:
    """The import's progress."""
    return _answer(await imports.get(uow, principal, import_id))


@router.post("/{import_id}/dry-run", status_code=status.HTTP_202_ACCEPTED, response_model=ImportOut)
async def dry_run(
    import_id: uuid.UUID, body: RunIn, uow: UnitOfWorkDep, principal: Editor
) -> Response:
    """Checks every row as the import would, writing nothing; the errors land in the
    error report, the counts show what the import would do."""
    job = await imports.start(
        uow, principal, import_id, dry_run=True, mapping=body.mapping, existing=body.existing
    )
    return _answer(job, status_code=status.HTTP_202_ACCEPTED)


@router.post("/{import_id}/run", status_code=status.HTTP_202_ACCEPTED, response_model=ImportOut)
async def run_import(
    import_id: uuid.UUID, body: RunIn, uow: UnitOfWorkDep, principal: Editor
) -> Response:
    """Imports the rows (in the background, a chunk at a time)."""
    job = await imports.start(
        uow, principal, import_id, dry_run=False, mapping=body.mapping, existing=body.existing
    )
    return _answer(job, status_code=status.HTTP_202_ACCEPTED)


@router.get(
    "/{import_id}/errors.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The failed rows"}},
)
async def error_report(
    import_id: uuid.UUID, rt: CustomersRuntime, uow: UnitOfWorkDep, principal: Editor
) -> StreamingResponse:
    """The rows the last run (dry run or import) found wrong: line, reason and the row."""
    job = await imports.get(uow, principal, import_id)
    return StreamingResponse(
        imports.error_report(rt.uow, principal, job),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job.id}-errors.csv"'},
    )


@router.delete("/{import_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_import(import_id: uuid.UUID, uow: UnitOfWorkDep, principal: Editor) -> Response:
    """The import, its file and its report (the customers it made stay)."""
    await imports.remove(uow, principal, import_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
