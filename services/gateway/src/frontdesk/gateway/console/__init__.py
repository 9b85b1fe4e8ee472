"""The staff console (``/console/``) and customer self-service (``/me/``) in the browser:
server-rendered Jinja2 pages with htmx, served by the gateway and talking only to the
public API (``/v1/...``) with the signed-in user's token. See the gateway's README."""

from __future__ import annotations

from fastapi import APIRouter

from frontdesk.gateway.console import assets, me, staff


def routers() -> list[APIRouter]:
    return [assets.router, staff.router, me.router]
