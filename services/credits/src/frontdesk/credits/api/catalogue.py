"""What the two catalogues share, credit products and membership plans: create, page,
read, edit with If-Match and retire, each answering the entry's ETag. Customers see
only active entries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import Response, status
from pydantic import BaseModel
from sqlalchemy import RowMapping, Table

from frontdesk.credits.adapters.repository import CatalogueRepository, Page
from frontdesk.credits.api.common import created_after, created_cursor
from frontdesk.kit.auth import Principal
from frontdesk.kit.etags import check_if_match, etag
from frontdesk.kit.pagination import split_page
from frontdesk.kit.problems import NotFound, patch_changes
from frontdesk.kit.service import Runtime
from frontdesk.kit.uow import UnitOfWork


@dataclass(frozen=True)
class Catalogue:
    table: Table
    path: str  # the collection's URL path (for Location)
    missing: str  # the 404's detail
    not_null: tuple[str, ...]  # fields a PATCH cannot clear

    def _repo(self, uow: UnitOfWork, principal: Principal) -> CatalogueRepository:
        return CatalogueRepository(uow.session, principal.tenant_id, self.table)

    async def add(
        self, rt: Runtime, principal: Principal, body: BaseModel, response: Response
    ) -> RowMapping:
        async with rt.uow() as uow:
            row = await self._repo(uow, principal).add({"id": uuid.uuid4(), **body.model_dump()})
            await uow.commit()
        response.headers["ETag"] = etag(row["version"])
        response.headers["Location"] = f"{self.path}/{row['id']}"
        return row

    async def page(
        self,
        rt: Runtime,
        principal: Principal,
        active: bool | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[RowMapping], str | None]:
        if principal.is_customer:
            active = True
        async with rt.uow() as uow:
            rows = await self._repo(uow, principal).list(
                Page(limit + 1, created_cursor(cursor)), active=active
            )
        return split_page(rows, limit, created_after)

    async def get(
        self, rt: Runtime, principal: Principal, entry_id: uuid.UUID, response: Response
    ) -> RowMapping:
        async with rt.uow() as uow:
            row = await self._repo(uow, principal).get(entry_id)
        if row is None or (principal.is_customer and not row["active"]):
            raise NotFound(self.missing)
        response.headers["ETag"] = etag(row["version"])
        return row

    async def patch(
        self,
        rt: Runtime,
        principal: Principal,
        entry_id: uuid.UUID,
        body: BaseModel,
        if_match: str | None,
        response: Response,
    ) -> RowMapping:
        changes = patch_changes(body, self.not_null)
        async with rt.uow() as uow:
            repo = self._repo(uow, principal)
            current = await repo.get(entry_id, for_update=True)
            if current is None:
                raise NotFound(self.missing)
            check_if_match(if_match, current["version"])
            row = await repo.update(entry_id, changes) if changes else current
            await uow.commit()
        response.headers["ETag"] = etag(row["version"])
        return row

    async def retire(self, rt: Runtime, principal: Principal, entry_id: uuid.UUID) -> Response:
        async with rt.uow() as uow:
            repo = self._repo(uow, principal)
            if await repo.get(entry_id, for_update=True) is None:
                raise NotFound(self.missing)
            await repo.update(entry_id, {"active": False})
            await uow.commit()
        return Response(status_code=status.HTTP_204_NO_CONTENT)
