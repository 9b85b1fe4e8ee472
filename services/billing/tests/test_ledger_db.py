"""What the database itself refuses, whatever code runs: a journal entry whose postings
do not sum to zero (at commit), changes to the journal, edits to issued documents."""

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from .helpers import issued, pay


async def _entry(conn, tenant_id: uuid.UUID, amounts: list[int], currency: str = "EUR") -> None:
    entry_id = uuid.uuid4()
    customer = uuid.uuid4()
    await conn.execute(
        text(
            "INSERT INTO journal_entries (id, tenant_id, kind, reference, customer_id, "
            "document_id, currency) VALUES (:id, :t, 'payment', 'X-1', :c, :id, :cur)"
        ),
        {"id": entry_id, "t": tenant_id, "c": customer, "cur": currency},
    )
    for i, amount in enumerate(amounts):
        await conn.execute(
            text(
                "INSERT INTO postings (tenant_id, entry_id, account, customer_id, method, "
                "amount_minor, currency) VALUES (:t, :e, :account, :c, :m, :a, :cur)"
            ),
            {
                "t": tenant_id,
                "e": entry_id,
                "account": "cash" if i == 0 else "customer_credit",
                "c": customer,
                "m": "cash" if i == 0 else None,
                "a": amount,
                "cur": currency,
            },
        )


async def _count(runtime, table: str, tenant_id: uuid.UUID) -> int:
    async with runtime.engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": tenant_id}
                )
            ).scalar()
        )


@pytest.mark.parametrize(
    "amounts",
    [[100, -99], [100], [100, -100, 1]],
    ids=["unbalanced", "one posting", "three unbalanced"],
)
async def test_an_unbalanced_entry_cannot_be_committed(runtime, tenant_id, amounts):
    with pytest.raises(DBAPIError) as caught:
        async with runtime.engine.begin() as conn:
            await _entry(conn, tenant_id, amounts)
            # every statement went through: the check waits for the commit
    assert "journal entry" in str(caught.value)
    assert getattr(caught.value.orig, "sqlstate", None) == "23514"
    assert await _count(runtime, "journal_entries", tenant_id) == 0
    assert await _count(runtime, "postings", tenant_id) == 0


async def test_a_balanced_entry_commits_and_is_append_only(runtime, tenant_id):
    async with runtime.engine.begin() as conn:
        await _entry(conn, tenant_id, [100, -100])
    assert await _count(runtime, "postings", tenant_id) == 2
    for statement in (
        "UPDATE postings SET amount_minor = amount_minor * 2 WHERE tenant_id = :t",
        "DELETE FROM postings WHERE tenant_id = :t",
        "UPDATE journal_entries SET reference = 'Y' WHERE tenant_id = :t",
        "DELETE FROM journal_entries WHERE tenant_id = :t",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with runtime.engine.begin() as conn:
                await conn.execute(text(statement), {"t": tenant_id})


async def test_an_entry_in_two_currencies_cannot_be_committed(runtime, tenant_id):
    with pytest.raises(DBAPIError, match="mixes currencies"):
        async with runtime.engine.begin() as conn:
            await _entry(conn, tenant_id, [100, -100])
            await conn.execute(
                text(
                    "INSERT INTO postings (tenant_id, entry_id, account, customer_id, method, "
                    "amount_minor, currency) SELECT tenant_id, entry_id, 'cash', customer_id, "
                    "'card', 5, 'USD' FROM postings WHERE tenant_id = :t LIMIT 1"
                ),
                {"t": tenant_id},
            )
            await conn.execute(
                text(
                    "INSERT INTO postings (tenant_id, entry_id, account, customer_id, "
                    "amount_minor, currency) SELECT tenant_id, entry_id, 'customer_credit', "
                    "customer_id, -5, 'USD' FROM postings WHERE tenant_id = :t LIMIT 1"
                ),
                {"t": tenant_id},
            )


async def test_issued_documents_are_immutable_in_the_database(client, tokens, runtime):
    invoice = await issued(client, tokens)
    await pay(client, tokens, invoice["id"], 1_000)
    for statement in (
        "UPDATE invoices SET total_minor = 1, net_minor = 1, tax_minor = 0 WHERE id = :id",
        "UPDATE invoices SET number = '2027-999999' WHERE id = :id",
        "UPDATE invoices SET lines = '[]'::jsonb WHERE id = :id",
        "DELETE FROM invoices WHERE id = :id",
        "UPDATE payments SET amount_minor = 1 WHERE invoice_id = :id",
        "DELETE FROM payments WHERE invoice_id = :id",
    ):
        with pytest.raises(DBAPIError, match="issued"):
            async with runtime.engine.begin() as conn:
                await conn.execute(text(statement), {"id": uuid.UUID(invoice["id"])})
