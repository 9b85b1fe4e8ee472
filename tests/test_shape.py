"""One shape for every service (docs/architecture.md): the same rooms with the same
names, and each room keeps to what it is for. A service that drifts fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Every service with an app (one being built has none yet).
SERVICES = sorted(
    p.name
    for p in (ROOT / "services").iterdir()
    if (p / "src" / "frontdesk" / p.name / "app.py").exists()
)
ROOMS = {"domain", "application", "adapters", "api", "consumers"}
FILES = {"__init__.py", "__main__.py", "app.py", "settings.py"}
# A service whose outside providers have development stand-ins (a fake Twilio, a local
# mail server) keeps them beside its app.
OPTIONAL = {"standins.py"}
# The gateway also serves the browser's pages (issue 13), a room of their own.
EXTRA = {"gateway": {"console"}}
WEB = ("fastapi", "starlette")
STORAGE = ("sqlalchemy", "asyncpg", "aio_pika", "aiormq")


def package(service: str) -> Path:
    return ROOT / "services" / service / "src" / "frontdesk" / service


def modules(service: str, room: str) -> list[Path]:
    return sorted((package(service) / room).rglob("*.py"))


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def calls(path: Path) -> set[str]:
    return {
        node.func.attr
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }


def offending(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(name for name in imports(path) if any(name.split(".")[0] == f for f in forbidden))


def test_there_are_services() -> None:
    assert {"customers", "credits", "scheduling"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_exactly_the_same_rooms(service: str) -> None:
    entries = {p.name for p in package(service).iterdir() if p.name != "__pycache__"}
    assert entries - OPTIONAL - EXTRA.get(service, set()) == ROOMS | FILES


@pytest.mark.parametrize("service", SERVICES)
def test_domain_knows_no_web_no_storage_and_no_other_room(service: str) -> None:
    own = f"frontdesk.{service}."
    for path in modules(service, "domain"):
        assert not offending(path, WEB + STORAGE), path
        rooms = {n for n in imports(path) if n.startswith(own) and n.split(".")[2] != "domain"}
        assert not rooms, f"{path} imports {rooms}"


@pytest.mark.parametrize("service", SERVICES)
def test_application_speaks_no_http(service: str) -> None:
    for path in modules(service, "application"):
        assert not offending(path, WEB), path
        assert not any(n.startswith(f"frontdesk.{service}.api") for n in imports(path)), path


@pytest.mark.parametrize("service", SERVICES)
def test_routes_neither_publish_nor_query(service: str) -> None:
    """Routes parse, authorize, call application and shape the answer."""
    for path in modules(service, "api"):
        assert not {"publish", "publish_recorded", "execute"} & calls(path), path
        assert not any(n.startswith(f"frontdesk.{service}.adapters") for n in imports(path)), path
        assert not offending(path, STORAGE[1:]), path


@pytest.mark.parametrize("service", SERVICES)
def test_handlers_are_typed_calls_into_application(service: str) -> None:
    init = package(service) / "consumers" / "__init__.py"
    source = init.read_text()
    assert "Handlers()" in source and "@handlers.on(" in source
    assert "assert isinstance" not in source and "event: Any" not in source
    assert not any(n.startswith(f"frontdesk.{service}.adapters") for n in imports(init))


@pytest.mark.parametrize("service", SERVICES)
def test_domain_errors_are_the_kits(service: str) -> None:
    """One error family: no service defines exception classes of its own."""
    for room in ROOMS:
        for path in modules(service, room):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef):
                    bases = {ast.unparse(b) for b in node.bases}
                    assert not bases & {"Exception", "ValueError", "LookupError"}, (
                        f"{path}: {node.name}"
                    )


def test_the_gateway_declares_the_owner_of_every_path_the_services_serve():
    """A path the gateway's table lacked answered 404 until the gateway had read its
    service's OpenAPI document, and 404 rather than 503 while that service was down."""
    from frontdesk.gateway.settings import DECLARED_ROUTES

    missing = {
        (segment, service)
        for service in SERVICES
        if service != "gateway"
        for path in modules(service, "api")
        for segment in re.findall(r'"/v1/([a-z-]+)', path.read_text())
        if DECLARED_ROUTES.get(segment) != service
    }
    assert not missing, f"add to DECLARED_ROUTES in the gateway's settings: {sorted(missing)}"


@pytest.mark.parametrize("service", SERVICES)
def test_upserts_are_the_kits_cached_ones(service: str) -> None:
    # sqlalchemy.dialects.postgresql.insert is compiled again on every call
    # (sqlalchemy#10445); kit.upsert.insert renders the same SQL from the cache.
    for path in modules(service, "adapters") + modules(service, "application"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy.dialects.postgresql":
                assert "insert" not in {a.name for a in node.names}, f"{path}: use kit.upsert"
