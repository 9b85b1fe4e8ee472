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
import gc
import inspect
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar, get_type_hints

from fastapi import APIRouter, Depends, FastAPI, Request, params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from pydantic import BaseModel
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import QueryParams
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from frontdesk.contracts import Event
from frontdesk.kit import db, migrations, openapi, pagination, problems, telemetry
from frontdesk.kit.auth import bearer_principal
from frontdesk.kit.consumer import AnyHandler, Consumer
from frontdesk.kit.guard import RequestGuard, RouteTable, close_at_end
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


async def unit_of_work(request: Request) -> UnitOfWork:
    """An open unit of work for one request; the application command it is handed to
    commits (nothing commits on its own, and what was not committed is rolled back once
    the request has been answered).

    Cheap on purpose, since most routes take one: no sub-dependency (the runtime is read
    here), no ``yield`` (the request guard closes it: ``close_at_end``), and a unit that
    only reads through ``uow.reads`` opens no session at all."""
    runtime: Runtime[Any] = request.app.state.runtime
    uow = await runtime.uow().__aenter__()

    async def close() -> None:
        # Shielded, as FastAPI shields a dependency's exit: a request cancelled meanwhile
        # still rolls back and gives its connection back.
        if uow.opened:
            await asyncio.shield(uow.__aexit__(None, None, None))

    close_at_end(request.scope, close)
    return uow


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]


async def reject_unknown_query_params(request: Request) -> None:
    """Unknown filters answer 400 naming them, instead of being silently ignored."""
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    if route is not None and getattr(route, "dependant", None) is not None:
        _check_query(request.scope, route)


def _check_query(scope: Scope, route: Any) -> None:
    """400 naming the query parameters ``route`` does not take."""
    known: frozenset[str] | None = getattr(route, "frontdesk_query_names", None)
    if known is None:  # computed at the route's first request with a query
        known = frozenset(_query_names(route.dependant))
        route.frontdesk_query_names = known
    query = QueryParams(scope["query_string"])
    unknown = sorted(set(query) - known)
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


def _plain(router: APIRouter) -> bool:
    """A router of routes only, whose own settings (prefix, tags, dependencies, answers) its
    routes took when they were declared: nothing it would add when included."""
    return (
        all(type(route) is APIRoute for route in router.routes)
        and not getattr(router, "_low_priority_routes", None)
        and type(router.lifespan_context).__name__ == "_DefaultLifespan"
        and not router.on_startup
        and not router.on_shutdown
        and isinstance(router.default_response_class, DefaultPlaceholder)
        and isinstance(router.generate_unique_id_function, DefaultPlaceholder)
        and isinstance(router.strict_content_type, DefaultPlaceholder)
        and router.max_body_size is None
        and not router.form_limits
    )


class ServiceRoute(APIRoute):
    """The class of a service's own routes (``include_flat``), keeping what every request
    pays for to the least:

    - a path is ruled out by the literal text the route's template starts with before its
      pattern is tried (every request is tried against each route declared before its
      own, and most of those start differently);
    - unknown query parameters are refused (400) here, before any dependency runs, rather
      than by ``reject_unknown_query_params`` as a dependency every request resolves;
    - a route that takes nothing but path parameters, the unit of work and the principal,
      and answers a ``Response`` it built (a service's hottest reads), is called directly:
      its path parameters validated as FastAPI validates them, kit's two dependencies
      resolved by kit, without FastAPI's general solver (a third of such a request's CPU).
      Anything else, invalid path parameters and dependency overrides included, goes
      FastAPI's way."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        dependencies: Sequence[params.Depends] | None = None,
        **kwargs: Any,
    ) -> None:
        given = list(dependencies or ())
        own = [d for d in given if d.dependency is not reject_unknown_query_params]
        super().__init__(path, endpoint, dependencies=own, **kwargs)
        self.checks_query = len(own) < len(given)
        self.literal_prefix = self.path_format.split("{", 1)[0]
        self.direct = _direct_call(self)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # (A method the route does not serve answers 405 first, as before.)
        if scope["method"] in (self.methods or ()):
            if self.checks_query and scope.get("query_string"):
                _check_query(scope, self)
            if self.direct is not None and not getattr(
                self.dependency_overrides_provider, "dependency_overrides", None
            ):
                request = Request(scope, receive, send)
                values, errors = request_params_to_args(
                    self.dependant.path_params, request.path_params
                )
                if not errors:
                    solved: dict[Any, Any] = {}  # one of each per request, as FastAPI caches
                    for name, resolve in self.direct:
                        if resolve not in solved:
                            solved[resolve] = await resolve(request)
                        values[name] = solved[resolve]
                    response = await self.endpoint(**values)
                    if not isinstance(response, Response):
                        raise TypeError(f"{self.name} answered {type(response)}, not a Response")
                    await response(scope, receive, send)
                    return
        await super().handle(scope, receive, send)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # (Behind a root path the route's path is not the scope's: no shortcut there.)
        if (
            scope["type"] == "http"
            and not scope.get("root_path")
            and not scope["path"].startswith(self.literal_prefix)
        ):
            return Match.NONE, {}
        return super().matches(scope)


def _direct_call(route: APIRoute) -> tuple[tuple[str, Callable[[Request], Any]], ...] | None:
    """The endpoint's parameters kit resolves itself, by name, when it takes nothing but
    path parameters and kit's request-level dependencies and answers a ``Response``;
    None otherwise (FastAPI calls it)."""
    own: dict[Any, Callable[[Request], Any]] = {
        unit_of_work: unit_of_work,
        bearer_principal: bearer_principal,
    }
    dependant = route.dependant
    if (
        dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.request_param_name
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or not inspect.iscoroutinefunction(route.endpoint)
        or not _answers_response(route.endpoint)
    ):
        return None
    resolved = []
    for sub in dependant.dependencies:
        resolve = own.get(sub.call)
        if resolve is None or sub.name is None:
            return None
        resolved.append((sub.name, resolve))
    return tuple(resolved)


def _answers_response(endpoint: Callable[..., Any]) -> bool:
    try:
        answer = get_type_hints(endpoint).get("return")
    except Exception:
        return False
    return isinstance(answer, type) and issubclass(answer, Response)


def include_flat(app: FastAPI, router: APIRouter) -> None:
    """``app.include_router(router)``, with a plain router's routes added to the app's own
    router as FastAPI used to include them. An included router is matched at request time
    through its own candidates, twice (to select, then to handle): some 300 function calls
    on every request of a service with a few routers. Same routes, order, dependencies and
    OpenAPI document either way."""
    if not _plain(router):
        app.include_router(router)
        return
    for route in router.routes:
        assert isinstance(route, APIRoute)
        app.router.add_api_route(
            route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            route_class_override=ServiceRoute,
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
            form_limits=route.form_limits,
        )


_NO_NATIVE_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


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
        # FastAPI traces and meters every request itself once OTel has providers (kit always
        # installs them): with nowhere to export to, that is CPU spent for nothing.
        telemetry=None if telemetry.exporting() else _NO_NATIVE_TELEMETRY,
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
        include_flat(app, router)
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


def freeze_startup_objects() -> int:
    """Take what startup built (modules, the app and its routes, tables, settings: some
    150,000 objects that live as long as the process) out of the cyclic collector's
    sight. A full collection walked them all: 100-200 ms with the event loop stopped,
    several times a minute in a rush. Returns how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


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

        app = create_app(runtime)
        freeze_startup_objects()
        uvicorn.run(
            app,
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
        freeze_startup_objects()
        asyncio.run(_serve_worker(runtime))
    elif command == "relay":
        freeze_startup_objects()
        asyncio.run(_serve_relay(runtime))
    else:
        raise SystemExit(f"unknown command {command!r}: use api, worker, relay or migrate")
