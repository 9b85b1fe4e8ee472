"""The ``frontdesk`` command: dev tokens, parked messages, migrations."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import typer
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.kit import bus, db
from frontdesk.kit.auth import Permission, Role, issue_token
from frontdesk.kit.settings import Settings

SERVICES = ("customers", "credits", "scheduling", "notifications", "billing", "gateway")
DEMO_TENANT = uuid.UUID("00000000-0000-4000-8000-000000000001")

app = typer.Typer(help="Frontdesk developer and operator commands.", no_args_is_help=True)
parked = typer.Typer(help="Messages that failed for good (dead-lettered).", no_args_is_help=True)
app.add_typer(parked, name="parked")


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="tenant id (UUID) or 'demo'")] = "demo",
    role: Annotated[Role, typer.Option()] = Role.admin,
    permission: Annotated[list[Permission] | None, typer.Option()] = None,
    sub: Annotated[
        str | None, typer.Option(help="subject; a customer's id for role customer")
    ] = None,
    name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Print a development access token (signed with the development key, which every
    service trusts outside production; in production, log in through the gateway)."""
    tenant_id = DEMO_TENANT if tenant == "demo" else uuid.UUID(tenant)
    try:
        token = issue_token(
            Settings(),
            tenant_id=tenant_id,
            role=role,
            permissions=permission or [],
            sub=sub,
            name=name,
        )
    except RuntimeError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    typer.echo(token)


@app.command()
def migrate(
    service: Annotated[list[str] | None, typer.Option(help="only these services")] = None,
) -> None:
    """Create (if missing) and migrate every installed service's database."""
    from frontdesk.kit.migrations import upgrade

    for spec in installed_specs(service):
        settings = spec.settings()
        upgrade(spec.migrations_dir, settings.resolved_direct_database_url())
        typer.echo(f"{spec.name}: migrated")


@app.command()
def info(tenant: Annotated[str, typer.Option(help="tenant id (UUID) or 'demo'")] = "demo") -> None:
    """Print each installed service's URL and an admin token for the tenant."""
    tenant_id = DEMO_TENANT if tenant == "demo" else uuid.UUID(tenant)
    settings = Settings()
    typer.echo("Frontdesk services:")
    for spec in installed_specs():
        typer.echo(
            f"  {spec.name:<14} http://{settings.host}:{spec.port}  "
            f"(docs: http://{settings.host}:{spec.port}/docs)"
        )
    processes = 2 * len(installed_specs())  # an API and a worker each
    per_process = settings.db_pool_size + settings.db_max_overflow + 1  # + the API's listener
    typer.echo(
        f"\nDatabase connections: at most {processes} processes x {per_process} = "
        f"{processes * per_process} (PostgreSQL allows 100 here; size with FRONTDESK_DB_POOL_SIZE"
        " and FRONTDESK_DB_MAX_OVERFLOW; production puts PgBouncer in transaction mode in front,"
        " see deploy/)"
    )
    if not settings.development_key_allowed:
        typer.echo("\nNo development tokens here: log in through the gateway.\n")
        return
    token = issue_token(
        settings, tenant_id=tenant_id, role=Role.admin, sub="demo-admin", name="Demo Admin"
    )
    typer.echo(f"\nAdmin token for tenant {tenant_id}:\n  export TOKEN={token}\n")


def installed_specs(only: list[str] | None = None) -> list[Any]:
    specs = []
    for name in only or SERVICES:
        try:
            module = importlib.import_module(f"frontdesk.{name}.app")
        except ModuleNotFoundError:
            continue
        specs.append(module.SPEC)
    return specs


async def _parked_messages(service: str, settings: Settings) -> list[dict[str, Any]]:
    """Read every parked message without removing it (closing the channel requeues them)."""
    topology = bus.Topology.from_settings(settings)
    connection = await bus.connect(settings)
    out: list[dict[str, Any]] = []
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(topology.parking_queue(service), passive=True)
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            headers = dict(message.headers or {})
            out.append(
                {
                    "id": message.message_id,
                    "service": service,
                    "routing_key": bus.header_str(headers, bus.ROUTING_KEY_HEADER),
                    "error": bus.header_str(headers, bus.ERROR_HEADER),
                    "attempts": bus.header_int(headers, bus.ATTEMPT_HEADER),
                    "parked_at": bus.header_str(headers, bus.PARKED_AT_HEADER),
                    "body": message.body.decode(errors="replace"),
                }
            )
        await channel.close()
    except Exception as error:
        if "NOT_FOUND" not in repr(error):
            raise
    finally:
        await connection.close()
    return out


@contextlib.asynccontextmanager
async def _outbox_of(service: str) -> AsyncIterator[tuple[AsyncConnection, Table] | None]:
    """A service's outbox on its database, or None where that database does not exist."""
    settings = Settings(service=service)
    engine = db.create_engine(settings.resolved_direct_database_url(), pool_size=1)
    outbox = db.messaging_tables(db.new_metadata()).outbox
    try:
        try:
            conn = await engine.connect()
        except Exception as error:
            if "does not exist" not in str(error):
                raise
            yield None
            return
        try:
            async with conn.begin():
                yield conn, outbox
        finally:
            await conn.close()
    finally:
        await engine.dispose()


async def _parked_outbox_rows(service: str) -> list[dict[str, Any]]:
    """Outbox rows the relay parked: events it can never publish, or the broker refused."""
    parked_from = Settings().relay_max_attempts
    async with _outbox_of(service) as found:
        if found is None:
            return []
        conn, outbox = found
        rows = await conn.execute(
            select(outbox).where(outbox.c.published_at.is_(None), outbox.c.attempts >= parked_from)
        )
        return [
            {
                "id": str(row.id),
                "service": f"{service} (outbox)",
                "routing_key": row.routing_key,
                "error": row.last_error,
                "attempts": row.attempts,
                "parked_at": None,
                "body": json.dumps(row.envelope),
            }
            for row in rows
        ]


async def list_parked(services: list[str] | None = None) -> list[dict[str, Any]]:
    """Messages a consumer parked (its parking queue) and events a relay parked (its outbox)."""
    settings = Settings()
    found: list[dict[str, Any]] = []
    for service in services or SERVICES:
        found.extend(await _parked_messages(service, settings))
        found.extend(await _parked_outbox_rows(service))
    return found


async def replay_parked_outbox_row(
    message_id: str, services: list[str] | None = None
) -> str | None:
    """Give a parked outbox row back to its relay (a fresh count of attempts)."""
    try:
        row_id = uuid.UUID(message_id)
    except ValueError:
        return None
    for service in services or SERVICES:
        async with _outbox_of(service) as found:
            if found is None:
                continue
            conn, outbox = found
            result = await conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id, outbox.c.published_at.is_(None))
                .values(attempts=0, last_error=None)
            )
            if result.rowcount:
                return f"{service} (outbox)"
    return None


async def replay_parked(message_id: str, services: list[str] | None = None) -> str | None:
    """Send one parked message back to its service's queue with a fresh attempt count."""
    settings = Settings()
    topology = bus.Topology.from_settings(settings)
    connection = await bus.connect(settings)
    try:
        for service in services or SERVICES:
            # Confirms and returns: the parked copy is acked away only once the service's
            # queue holds the replayed one.
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            try:
                queue = await channel.declare_queue(topology.parking_queue(service), passive=True)
            except Exception as error:
                if "NOT_FOUND" not in repr(error):
                    raise
                continue  # this service has parked nothing yet
            while (message := await queue.get(no_ack=False, fail=False)) is not None:
                if message.message_id != message_id:
                    continue
                headers = {
                    k: v
                    for k, v in dict(message.headers or {}).items()
                    if k not in (bus.ATTEMPT_HEADER, bus.ERROR_HEADER, bus.PARKED_AT_HEADER)
                }
                copy = bus.build_message(
                    message.body,
                    message_id=message_id,
                    routing_key=bus.header_str(headers, bus.ROUTING_KEY_HEADER) or "",
                    headers=headers,
                )
                await channel.default_exchange.publish(
                    copy, routing_key=topology.queue(service), mandatory=True
                )
                await message.ack()
                await channel.close()
                return service
            await channel.close()  # releases (requeues) the others
    finally:
        await connection.close()
    return None


@parked.command("list")
def parked_list(service: Annotated[list[str] | None, typer.Option()] = None) -> None:
    """List parked messages: id, service, routing key, attempts, error."""
    messages = asyncio.run(list_parked(service))
    if not messages:
        typer.echo("no parked messages")
    for m in messages:
        typer.echo(
            f"{m['id']}  {m['service']:<13} {m['routing_key']}  "
            f"attempts={m['attempts']}  {(m['error'] or '')[:120]}"
        )


@parked.command("show")
def parked_show(
    message_id: str, service: Annotated[list[str] | None, typer.Option()] = None
) -> None:
    """Show one parked message with its error and body."""
    for m in asyncio.run(list_parked(service)):
        if m["id"] == message_id:
            body = m.pop("body")
            typer.echo(json.dumps(m, indent=2))
            try:
                typer.echo(json.dumps(json.loads(body), indent=2))
            except ValueError:
                typer.echo(body)
            return
    typer.echo(f"no parked message {message_id}", err=True)
    raise typer.Exit(1)


@parked.command("replay")
def parked_replay(
    message_id: str, service: Annotated[list[str] | None, typer.Option()] = None
) -> None:
    """Re-deliver one parked message to the service that parked it."""
    where = asyncio.run(replay_parked(message_id, service)) or asyncio.run(
        replay_parked_outbox_row(message_id, service)
    )
    if where is None:
        typer.echo(f"no parked message {message_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"replayed {message_id} to {where}")


def main() -> None:
    app()
