"""Issue 14 from customers' side: merges (and unmerges) move bookings between records,
a household's payer books for its members, an appointment names the customer's asset,
and booking events carry the payer, the leading staff member and the asset."""

import uuid
from typing import Any

from frontdesk.contracts.customers import (
    AssetChanged,
    CustomerMerged,
    CustomerUnmerged,
    HouseholdLinked,
    HouseholdUnlinked,
)
from frontdesk.kit.testing import wait_for

PAY = {"method": "pay_per_session", "price_minor": 1500, "currency": "EUR"}


async def bookings_of(studio, customer: uuid.UUID, **params: Any) -> list[dict[str, Any]]:
    r = await studio.client.get(
        "/v1/bookings", params={"customer_id": str(customer), **params}, headers=studio.admin
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def until(check) -> Any:
    return await wait_for(check, timeout=10)


# merge ------------------------------------------------------------------------------------
async def test_a_merge_moves_the_merged_records_bookings_and_an_unmerge_moves_them_back(
    studio,
):
    survivor, merged = uuid.uuid4(), uuid.uuid4()
    both = await studio.session(payment=PAY)
    own = await studio.book(both, survivor)
    twin = await studio.book(both, merged)  # both records booked one class
    moving = [await studio.book(await studio.session(payment=PAY), merged) for _ in range(2)]
    r = await studio.client.post(
        "/v1/appointments",
        json={
            "location_id": studio.location["id"],
            "staff_id": studio.trainer["id"],
            "customer_id": str(merged),
            "title": "Check-up",
            "starts_at": "2031-05-05T10:00",
            "duration_minutes": 30,
        },
        headers=studio.admin,
    )
    assert r.status_code == 201, r.text
    appointment = r.json()

    merge_id = uuid.uuid4()
    merge = CustomerMerged(
        merge_id=merge_id, survivor_id=survivor, merged_id=merged, merged_by="staff:1"
    )
    await studio.publish(merge, survivor, version=5)

    async def moved() -> list[dict[str, Any]] | None:
        found = await bookings_of(studio, survivor)
        return found if len(found) == 3 else None

    after = await until(moved)
    assert {b["id"] for b in after} == {own["id"], *(b["id"] for b in moving)}
    # One booking per customer and class: the merged record's twin stays where it was.
    assert [b["id"] for b in await bookings_of(studio, merged)] == [twin["id"]]
    r = await studio.client.get(f"/v1/appointments/{appointment['id']}", headers=studio.admin)
    assert r.json()["customer_id"] == str(survivor)

    # A redelivered merge (a new message, the same merge) changes nothing; the survivor
    # books on meanwhile.
    await studio.publish(merge, survivor, version=5)
    gained = await studio.book(await studio.session(payment=PAY), survivor)

    await studio.publish(
        CustomerUnmerged(
            merge_id=merge_id, survivor_id=survivor, merged_id=merged, unmerged_by="staff:1"
        ),
        survivor,
        version=6,
    )

    async def back() -> list[dict[str, Any]] | None:
        found = await bookings_of(studio, merged)
        return found if len(found) == 3 else None

    restored = await until(back)
    assert {b["id"] for b in restored} == {twin["id"], *(b["id"] for b in moving)}
    assert {b["id"] for b in await bookings_of(studio, survivor)} == {own["id"], gained["id"]}
    r = await studio.client.get(f"/v1/appointments/{appointment['id']}", headers=studio.admin)
    assert r.json()["customer_id"] == str(merged)


async def test_an_unmerge_arriving_before_its_merge_leaves_everything_in_place(studio):
    survivor, merged = uuid.uuid4(), uuid.uuid4()
    booking = await studio.book(await studio.session(payment=PAY), merged)
    merge_id = uuid.uuid4()
    await studio.publish(
        CustomerUnmerged(
            merge_id=merge_id, survivor_id=survivor, merged_id=merged, unmerged_by="s"
        ),
        survivor,
        version=6,
    )
    await studio.publish(
        CustomerMerged(merge_id=merge_id, survivor_id=survivor, merged_id=merged, merged_by="s"),
        survivor,
        version=5,
    )
    marker = await studio.session(payment=PAY)
    # Wait until both were handled: a later merge of another pair shows through.
    other_s, other_m = uuid.uuid4(), uuid.uuid4()
    probe = await studio.book(marker, other_m)
    await studio.publish(
        CustomerMerged(
            merge_id=uuid.uuid4(), survivor_id=other_s, merged_id=other_m, merged_by="s"
        ),
        other_s,
    )

    async def probe_moved() -> bool | None:
        return True if await bookings_of(studio, other_s) else None

    await until(probe_moved)
    assert [b["id"] for b in await bookings_of(studio, merged)] == [booking["id"]]
    assert probe["customer_id"] == str(other_m)


# households ----------------------------------------------------------------------------
async def linked(studio, payer: uuid.UUID, member: uuid.UUID, version: int = 1) -> None:
    await studio.publish(HouseholdLinked(payer_id=payer, member_id=member), member, version)


async def test_a_payer_books_for_a_member_and_sees_it_on_its_record(studio, tokens):
    payer, member, stranger = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    session = await studio.session()  # paid by credits: the payer's
    as_payer = tokens.headers("customer", sub=payer)
    await linked(studio, payer, member)

    async def booked() -> dict[str, Any] | None:
        r = await studio.client.post(
            "/v1/bookings",
            json={"session_id": session["id"], "customer_id": str(member)},
            headers=as_payer,
        )
        return r.json() if r.status_code == 202 else None

    booking = await until(booked)
    assert booking["customer_id"] == str(member)
    assert booking["payer_customer_id"] == str(payer)
    requested = await studio.published("scheduling.booking.requested.v1")
    assert requested[-1]["payer_customer_id"] == str(payer)
    assert requested[-1]["customer_id"] == str(member)
    assert requested[-1]["staff_id"] == studio.trainer["id"]

    # Not a member: as unknown as any customer it cannot see.
    r = await studio.client.post(
        "/v1/bookings",
        json={"session_id": session["id"], "customer_id": str(stranger)},
        headers=as_payer,
    )
    assert r.status_code == 404
    # The member's booking shows on the payer's record, asked by staff or by the payer.
    assert await bookings_of(studio, payer) == []
    household = await bookings_of(studio, payer, include_household="true")
    assert [b["id"] for b in household] == [booking["id"]]
    r = await studio.client.get(
        "/v1/bookings", params={"include_household": "true"}, headers=as_payer
    )
    assert [b["id"] for b in r.json()["items"]] == [booking["id"]]
    r = await studio.client.get(f"/v1/bookings/{booking['id']}", headers=as_payer)
    assert r.status_code == 200
    # The member's own token sees it too (it is the member's booking).
    r = await studio.client.get(
        f"/v1/bookings/{booking['id']}", headers=tokens.headers("customer", sub=member)
    )
    assert r.status_code == 200

    # Unlinked: no more booking for the member.
    await studio.publish(HouseholdUnlinked(payer_id=payer, member_id=member), member, 2)
    other = await studio.session()

    async def refused() -> bool | None:
        r = await studio.client.post(
            "/v1/bookings",
            json={"session_id": other["id"], "customer_id": str(member)},
            headers=as_payer,
        )
        return True if r.status_code == 404 else None

    await until(refused)


async def test_staff_name_the_payer_only_of_a_linked_member(studio):
    payer, member, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await linked(studio, payer, member)
    session = await studio.session()

    async def booked() -> dict[str, Any] | None:
        r = await studio.client.post(
            "/v1/bookings",
            json={
                "session_id": session["id"],
                "customer_id": str(member),
                "payer_customer_id": str(payer),
            },
            headers=studio.admin,
        )
        return r.json() if r.status_code == 202 else None

    booking = await until(booked)
    assert booking["payer_customer_id"] == str(payer)
    r = await studio.client.post(
        "/v1/bookings",
        json={
            "session_id": (await studio.session())["id"],
            "customer_id": str(member),
            "payer_customer_id": str(other),
        },
        headers=studio.admin,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "payer_customer_id"


# assets ---------------------------------------------------------------------------------
async def test_an_appointment_names_the_customers_asset(studio):
    customer, someone = uuid.uuid4(), uuid.uuid4()
    car, gone, theirs = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await studio.publish(
        AssetChanged(asset_id=car, customer_id=customer, kind="vehicle", label="VW Golf B-AB 123"),
        car,
    )
    await studio.publish(
        AssetChanged(
            asset_id=gone, customer_id=customer, kind="vehicle", label="Old", removed=True
        ),
        gone,
    )
    await studio.publish(
        AssetChanged(asset_id=theirs, customer_id=someone, kind="vehicle", label="Other"), theirs
    )

    def body(asset: uuid.UUID, at: str) -> dict[str, Any]:
        return {
            "location_id": studio.location["id"],
            "staff_id": studio.trainer["id"],
            "customer_id": str(customer),
            "title": "Inspection",
            "starts_at": at,
            "duration_minutes": 60,
            "status": "confirmed",
            "price_minor": 9900,
            "asset_id": str(asset),
        }

    async def made() -> dict[str, Any] | None:
        r = await studio.client.post(
            "/v1/appointments", json=body(car, "2031-06-02T09:00"), headers=studio.admin
        )
        return r.json() if r.status_code == 201 else None

    appointment = await until(made)
    assert appointment["asset_id"] == str(car)
    assert appointment["asset_label"] == "VW Golf B-AB 123"
    r = await studio.client.get(f"/v1/appointments/{appointment['id']}", headers=studio.admin)
    assert r.json()["asset_label"] == "VW Golf B-AB 123"
    confirmed = await studio.published("scheduling.booking.confirmed.v1")
    assert confirmed[-1]["asset_id"] == str(car)
    assert confirmed[-1]["staff_id"] == studio.trainer["id"]
    for asset in (gone, theirs, uuid.uuid4()):
        r = await studio.client.post(
            "/v1/appointments", json=body(asset, "2031-06-03T09:00"), headers=studio.admin
        )
        assert r.status_code == 422, asset
        assert r.json()["errors"][0]["field"] == "asset_id"
    # The label follows the customer's record.
    await studio.publish(
        AssetChanged(asset_id=car, customer_id=customer, kind="vehicle", label="VW Golf B-XY 9"),
        car,
        version=2,
    )

    async def relabelled() -> bool | None:
        r = await studio.client.get(f"/v1/appointments/{appointment['id']}", headers=studio.admin)
        return True if r.json()["asset_label"] == "VW Golf B-XY 9" else None

    await until(relabelled)


# the rules, without a database -------------------------------------------------------------
def test_who_pays_for_a_booking():
    import pytest

    from frontdesk.kit.errors import NotFoundError, RuleBroken
    from frontdesk.scheduling.domain.customers import household_payer

    me, child, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    as_me = {"acting_customer": me, "payer_customer_id": None}
    assert household_payer(customer_id=me, linked=False, **as_me) is None
    assert household_payer(customer_id=child, linked=True, **as_me) == me
    with pytest.raises(NotFoundError):
        household_payer(customer_id=other, linked=False, **as_me)
    with pytest.raises(NotFoundError):  # a customer cannot name someone else as payer
        household_payer(customer_id=me, payer_customer_id=other, acting_customer=me, linked=True)
    staff = {"acting_customer": None}
    assert household_payer(customer_id=child, payer_customer_id=me, linked=True, **staff) == me
    assert household_payer(customer_id=child, payer_customer_id=None, linked=False, **staff) is None
    with pytest.raises(RuleBroken) as refused:
        household_payer(customer_id=child, payer_customer_id=other, linked=False, **staff)
    assert refused.value.field == "payer_customer_id"
