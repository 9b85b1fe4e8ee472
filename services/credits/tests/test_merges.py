"""Merges (C13): ``customers.customer.merged`` moves packages, ledger entries, booking
debits, memberships, programs and loyalty to the survivor; ``…unmerged`` moves exactly
those back. Through the real broker."""

import uuid

from sqlalchemy import select

from frontdesk.contracts.customers import CustomerMerged, CustomerUnmerged
from frontdesk.contracts.scheduling import BookingCancelled, BookingRequested
from frontdesk.credits.adapters.tables import customer_merges
from frontdesk.credits.application import loyalty
from frontdesk.credits.domain.loyalty import Redemption
from frontdesk.kit.testing import wait_for

from .helpers import ADMIN, acting, grant, make_plan
from .test_household_programs import booking, make_program_product, programs_of
from .test_loyalty import paid, set_rule
from .test_saga import balance, outcome


async def merge_status(runtime, merge_id):
    async with runtime.engine.connect() as conn:
        return (
            await conn.execute(
                select(customer_merges.c.status).where(customer_merges.c.merge_id == merge_id)
            )
        ).scalar()


async def merge_state(runtime, merge_id, status):
    async def reached():
        return await merge_status(runtime, merge_id) == status

    await wait_for(reached)


async def packages_of(client, tokens, customer):
    r = await client.get(f"/v1/credit-packages?customer_id={customer}", headers=tokens.headers())
    return sorted(p["id"] for p in r.json()["items"])


async def history_of(client, tokens, customer):
    r = await client.get(f"/v1/credit-history?customer_id={customer}", headers=tokens.headers())
    return [h["id"] for h in r.json()["items"]]


async def memberships_of(client, tokens, customer):
    r = await client.get(f"/v1/memberships?customer_id={customer}", headers=tokens.headers())
    return {m["id"]: m["status"] for m in r.json()["items"]}


async def points(client, tokens, customer):
    r = await client.get(f"/v1/loyalty/accounts/{customer}", headers=tokens.headers())
    return r.json()["balance"]


async def test_merge_moves_everything_and_unmerge_moves_exactly_that_back(
    client, tokens, runtime, bus
):
    survivor, merged = uuid.uuid4(), uuid.uuid4()
    await grant(client, tokens, survivor, 3)
    merged_packages = sorted([(await grant(client, tokens, merged, 5))["id"]])
    plan = await make_plan(client, tokens)
    kept = {}
    for customer in (survivor, merged):
        r = await client.post(
            "/v1/memberships",
            json={"customer_id": str(customer), "plan_id": plan["id"]},
            headers=tokens.headers(ADMIN),
        )
        assert r.status_code == 201, r.text
        kept[customer] = r.json()["id"]
    product = await make_program_product(client, tokens)
    r = await client.post(
        "/v1/programs",
        json={"customer_id": str(merged), "product_id": product["id"]},
        headers=tokens.headers(ADMIN),
    )
    program_id = r.json()["id"]
    await set_rule(client, tokens)
    invoice = uuid.uuid4()
    await bus.publish(paid(merged, invoice, 5000), invoice)

    async def earned():
        return await points(client, tokens, merged) == 50

    await wait_for(earned)
    # A booking the merged customer paid before the merge.
    old_booking, old_facts = booking(merged, credits=2)
    await bus.publish(BookingRequested(**old_facts), old_booking)
    assert (await outcome(bus, old_booking))["type"] == "credits.debit.succeeded"

    merged_history = await history_of(client, tokens, merged)  # the grant and the debit
    assert len(merged_history) == 2
    merge_id = uuid.uuid4()
    event = CustomerMerged(
        merge_id=merge_id, survivor_id=survivor, merged_id=merged, merged_by="desk"
    )
    await bus.publish(event, survivor)
    await merge_state(runtime, merge_id, "merged")
    await bus.publish(event, survivor)  # the same merge again (another message): no change

    assert await packages_of(client, tokens, merged) == []
    assert set(merged_packages) <= set(await packages_of(client, tokens, survivor))
    assert set(merged_history) <= set(await history_of(client, tokens, survivor))
    assert await history_of(client, tokens, merged) == []
    assert (await balance(client, tokens, survivor))["available"] == 3 + 3
    assert (await balance(client, tokens, merged))["available"] == 0
    assert (await balance(client, tokens, survivor))["purchased_total"] == 8
    assert (await points(client, tokens, survivor), await points(client, tokens, merged)) == (50, 0)
    # Both had a current membership: the merged one's is set aside while merged.
    assert await memberships_of(client, tokens, survivor) == {
        kept[survivor]: "active",
        kept[merged]: "cancelled",
    }
    assert [p["id"] for p in await programs_of(client, tokens, survivor)] == [program_id]

    # Cancelling the booking paid before the merge refunds to the survivor, who holds the
    # packages now; the survivor then spends, and earns points of their own.
    await bus.publish(BookingCancelled(**old_facts, refund=True), old_booking, version=3)

    async def refunded():
        return (await balance(client, tokens, survivor))["available"] == 8

    await wait_for(refunded)
    spend, spend_facts = booking(survivor, credits=4)
    await bus.publish(BookingRequested(**spend_facts), spend)
    assert (await outcome(bus, spend))["type"] == "credits.debit.succeeded"
    async with runtime.uow() as uow:
        await loyalty.redeem(uow, acting(tokens), Redemption(survivor, "discount", points=30))
    survivor_history = await history_of(client, tokens, survivor)

    unmerge = CustomerUnmerged(
        merge_id=merge_id, survivor_id=survivor, merged_id=merged, unmerged_by="desk"
    )
    await bus.publish(unmerge, survivor)
    await merge_state(runtime, merge_id, "unmerged")
    await bus.publish(unmerge, survivor)  # again: nothing more moves

    assert await packages_of(client, tokens, merged) == merged_packages
    moved_back = set(await history_of(client, tokens, merged))
    assert moved_back == set(merged_history)  # exactly what the merge moved
    assert set(await history_of(client, tokens, survivor)) == set(survivor_history) - moved_back
    # Credits: each account counts the packages it holds again (the survivor spent 4,
    # earliest expiry first, from both).
    survivor_balance = await balance(client, tokens, survivor)
    merged_balance = await balance(client, tokens, merged)
    assert survivor_balance["available"] + merged_balance["available"] == 4
    assert (survivor_balance["purchased_total"], merged_balance["purchased_total"]) == (3, 5)
    # Points: what the merge brought, less what the survivor spent of them.
    assert (await points(client, tokens, survivor), await points(client, tokens, merged)) == (0, 20)
    assert await memberships_of(client, tokens, merged) == {kept[merged]: "active"}
    assert await memberships_of(client, tokens, survivor) == {kept[survivor]: "active"}
    assert [p["id"] for p in await programs_of(client, tokens, merged)] == [program_id]


async def test_an_unmerge_that_arrives_first_leaves_a_tombstone(client, tokens, runtime, bus):
    survivor, merged = uuid.uuid4(), uuid.uuid4()
    await grant(client, tokens, merged, 5)
    merge_id = uuid.uuid4()
    await bus.publish(
        CustomerUnmerged(
            merge_id=merge_id, survivor_id=survivor, merged_id=merged, unmerged_by="desk"
        ),
        survivor,
    )
    await merge_state(runtime, merge_id, "unmerged")
    await bus.publish(
        CustomerMerged(merge_id=merge_id, survivor_id=survivor, merged_id=merged, merged_by="d"),
        survivor,
    )

    async def handled():
        from .helpers import row_counts

        return (await row_counts(runtime, tokens.tenant_id, ("inbox",)))["inbox"] == 2

    await wait_for(handled)
    assert (await balance(client, tokens, merged))["available"] == 5
    assert await packages_of(client, tokens, survivor) == []
