"""What a service is made of, and the one wiring every service shares.

A service declares a ``ServiceSpec`` (its name, port, tables, migrations,
routers and event handlers); ``Runtime`` builds the engine, the unit of work,
the relay and the consumer from it; ``create_app`` builds the FastAPI app;
``main`` is the service's command line: ``api``, ``worker``, ``relay``,
``migrate``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from pydantic import BaseModel
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from frontdesk.contracts import Event
from frontdesk.kit import db, migrations, openapi, pagination, problems, telemetry
from frontdesk.kit.consumer import AnyHandler, Consumer
from frontdesk.kit.guard import RequestGuard, RouteTable
from frontdesk.kit.notices import Notices
from frontdesk.kit.relay import Relay
from frontdesk.kit.settings import Settings
from frontdesk.kit.uow import UnitOfWork

log = logging.getLogger(__name__)


S = TypeVar("S", bound=Settings)


@dataclass(frozen=True)
class ServiceSpec(Generic[S]):
    """Generic in the service's settings class, so ``runtime.settings`` is typed."""

    name: str
    port: int
    metadata: MetaData
    tables: db.MessagingTables
    migrations_dir: Path
    settings_class: type[S] = Settings  # type: ignore[assignment]
    routers: Callable[[], Sequence[APIRouter]] = lambda: ()
    handlers: Callable[[], Mapping[type[Event], AnyHandler]] = dict
    # Periodic jobs run by the worker (expiry sweeps, saga timeouts): (seconds, job).
    periodic: Callable[[], Sequence[tuple[float, Callable[[Runtime[S]], Any]]]] = lambda: ()
    description: str = ""
    # Regexes of URL paths never traced: paths that carry a secret (a feed URL).
    untraced_paths: tuple[str, ...] = ()
    # Regexes of URL paths served without a token (besides health and docs); a path whose
    # URL is its secret (a feed) is untraced and public.
    public_paths: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def settings(self, **overrides: Any) -> S:
        overrides.setdefault("service", self.name)
        if "FRONTDESK_PORT" not in os.environ:  # explicit init values would beat the env
            overrides.setdefault("port", self.port)
        return self.settings_class(**overrides)


class Runtime(Generic[S]):
    """The live parts of one service process."""

    def __init__(self, spec: ServiceSpec[S], settings: S | None = None) -> None:
        self.spec = spec
        self.settings: S = settings or spec.settings()
        pagination.configure(self.settings.jwt_secret)
        self.engine: AsyncEngine = db.engine_for(self.settings)
        self.sessions = db.sessionmaker(self.engine)
        self.relay = Relay(self.settings, self.engine, spec.tables)
        self._tasks: list[asyncio.Task[Any]] = []
        self.consumer: Consumer | None = None
        # One listening connection per process for every request that waits (Prefer: wait).
        self.notices = Notices(self.settings.resolved_direct_database_url())

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.spec.tables, on_commit=self.relay.wake)

    def build_consumer(self) -> Consumer:
        return Consumer(self.settings, self.spec.name, self.spec.handlers(), self.uow)

    async def start_relay(self) -> None:
        await self.relay.start()
        self._tasks.append(asyncio.create_task(self.relay.run(), name="relay"))

    async def start_consumer(self) -> Consumer:
        self.consumer = self.build_consumer()
        await self.consumer.start()
        return self.consumer

    def start_periodic(self) -> None:
        for every, job in self.spec.periodic():
            self._tasks.append(asyncio.create_task(self._repeat(every, job)))

    async def _repeat(self, every: float, job: Callable[[Runtime[S]], Any]) -> None:
        while True:
            try:
                await job(self)
            except Exception:
                log.exception("periodic job %s failed", getattr(job, "__name__", job))
            await asyncio.sleep(every)

    async def ready(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:
            checks["database"] = f"error: {error.__class__.__name__}"
        connection = self.relay.connection
        checks["broker"] = (
            "ok"
            if connection is not None and connection.connected.is_set()
            else "error: not connected"
        )
        return checks

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.consumer is not None:
            await self.consumer.close()
        await self.relay.close()
        await self.notices.close()
        await self.engine.dispose()


def current_runtime(request: Request) -> Runtime[Any]:
    """The running service, for route handlers (a service narrows it to its own settings:
    ``Annotated[Runtime[CreditsSettings], Depends(runtime_dependency)]``)."""
    runtime: Runtime[Any] = request.app.state.runtime
    return runtime


async def runtime_dependency(request: Request) -> Runtime[Any]:
    """``current_runtime`` as a dependency. Async, so FastAPI does not hand it to a worker
    thread on every request (a sync dependency costs a thread hop)."""
    runtime: Runtime[Any] = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime[Any], Depends(runtime_dependency)]


async def unit_of_work(runtime: RuntimeDep) -> AsyncIterator[UnitOfWork]:
    """An open unit of work for one request; the application command it is handed to
    commits (nothing commits on its own, and what was not committed is rolled back)."""
    async with runtime.uow() as uow:
        yield uow


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]


async def reject_unknown_query_params(request: Request) -> None:
    """Unknown filters answer 400 naming them, instead of being silently ignored."""
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if route is None or dependant is None:
        return
    known: frozenset[str] | None = getattr(route, "frontdesk_query_names", None)
    if known is None:  # computed at the route's first request with a query
        known = frozenset(_query_names(dependant))
        route.frontdesk_query_names = known  # type: ignore[attr-defined]
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise problems.Problem(
            "Unknown query parameter(s): " + ", ".join(unknown),
            errors=[
                problems.FieldError(field=name, message="unknown parameter") for name in unknown
            ],
            title="Unknown query parameter",
        )


def _query_names(dependant: Dependant) -> set[str]:
    """Every query parameter a route accepts, through its dependencies and query models."""
    names: set[str] = set()
    for param in dependant.query_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(f.alias or n for n, f in annotation.model_fields.items())
        else:
            names.add(param.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def create_app(runtime: Runtime[Any], *, start_relay: bool = True) -> FastAPI:
    spec = runtime.spec

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if start_relay:
            await runtime.start_relay()
        yield
        await runtime.close()

    app = FastAPI(
        title=f"Frontdesk {spec.name}",
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query_params)],
        responses=problems.PROBLEM_RESPONSES,
    )
    app.state.runtime = runtime
    problems.install(app)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": spec.name}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        checks = await runtime.ready()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks},
            status_code=200 if ok else 503,
        )

    for router in spec.routers():
        app.include_router(router)
    app.state.route_table = RouteTable(app)
    app.add_middleware(
        RequestGuard,
        settings=runtime.settings,
        routes=app.state.route_table,
        public_paths=(*spec.public_paths, *spec.untraced_paths),
    )
    app.openapi = lambda: openapi.document(app)  # type: ignore[method-assign]
    if telemetry.exporting():
        FastAPIInstrumentor.instrument_app(
            app, excluded_urls=",".join(("healthz", "readyz", *spec.untraced_paths))
        )
    return app


def _instrument(runtime: Runtime[Any]) -> None:
    telemetry.configure(
        runtime.spec.name,
        otlp_endpoint=runtime.settings.otlp_endpoint,
        log_level=runtime.settings.log_level,
    )
    if telemetry.exporting():
        SQLAlchemyInstrumentor().instrument(engine=runtime.engine.sync_engine)


async def _serve_worker(runtime: Runtime[Any]) -> None:
    """Consumer, relay and periodic jobs in one process, until SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start_relay()
    if runtime.spec.handlers():
        await runtime.start_consumer()
    runtime.start_periodic()
    log.info("%s worker running", runtime.spec.name)
    await stop.wait()
    await runtime.close()


async def _serve_relay(runtime: Runtime[Any]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start_relay()
    await stop.wait()
    await runtime.close()


def main(spec: ServiceSpec[Any], argv: Sequence[str] | None = None) -> None:
    """``python -m frontdesk.<service> api|worker|relay|migrate``."""
    args = list(argv if argv is not None else sys.argv[1:])
    command = args[0] if args else "api"
    settings = spec.settings()
    if command == "migrate":
        url = settings.resolved_direct_database_url()
        migrations.upgrade(spec.migrations_dir, url)
        print(f"{spec.name}: migrated {url}")
        return
    runtime = Runtime(spec, settings)
    _instrument(runtime)
    if command == "api":
        import uvicorn

        uvicorn.run(
            create_app(runtime),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            server_header=False,
            # Longer than a load balancer's idle timeout (60 s is common), so the proxy never
            # reuses a connection the server is closing.
            timeout_keep_alive=65,
        )
    elif command == "worker":
        asyncio.run(_serve_worker(runtime))
    elif command == "relay":
        asyncio.run(_serve_relay(runtime))
    else:
        raise SystemExit(f"unknown command {command!r}: use api, worker, relay or migrate")
