"""The console's own static files (htmx, the stylesheet, a few lines of script), served
from the package: nothing is loaded from another origin."""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.responses import FileResponse

from frontdesk.gateway.console.pages import HERE
from frontdesk.kit.problems import Problem

router = APIRouter(include_in_schema=False)
STATIC = HERE / "static"
NAME = re.compile(r"[a-z0-9][a-z0-9._-]*\.(js|css|svg|png|ico)")


@router.get("/console/static/{name}")
async def static_file(name: str) -> FileResponse:
    path = (STATIC / name).resolve()
    if not NAME.fullmatch(name) or path.parent != STATIC or not path.is_file():
        raise Problem("No such file.", status=404, title="Not found")
    # Names carry no version: a day's cache, revalidated by Last-Modified after that.
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})
