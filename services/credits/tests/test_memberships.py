import uuid
from datetime import UTC, datetime, timedelta

from frontdesk.credits.application import memberships
from frontdesk.credits.application.memberships import expire_due_memberships
from frontdesk.credits.domain.memberships import Change
from frontdesk.kit.auth import Permission

from .helpers import acting


async def make_plan(client, tokens, name="Gold", discount=20, days=30, **extra):
    r = await client.post(
        "/v1/membership-plans",
        json={
            "name": name,
            "discount_percent": discount,
            "duration_days": days,
            "included_services": ["sauna", "towel"],
            "priority_label": name.lower(),
            **extra,
        },
        headers=tokens.headers(),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_assign_upgrade_renew_keeps_all_three_in_history(client, tokens, bus):
    silver = await make_plan(client, tokens, "Silver", 10, 30)
    gold = await make_plan(client, tokens, "Gold", 20, 60)
    customer = uuid.uuid4()
    staff = tokens.headers("staff", Permission.manage_credits, sub="coach-bo")
    r = await client.post(
        "/v1/memberships",
        json={"customer_id": str(customer), "plan_id": silver["id"]},
        headers=staff,
    )
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["assigned_by"] == "coach-bo" and m["status"] == "active"
    starts = datetime.fromisoformat(m["starts_at"])
    assert datetime.fromisoformat(m["expires_at"]) - starts == timedelta(days=30)
    url = f"/v1/memberships/{m['id']}"
    r = await client.post(f"{url}/upgrade", json={"plan_id": gold["id"]}, headers=staff)
    assert r.status_code == 200, r.text
    upgraded = r.json()
    assert upgraded["plan_name"] == "Gold" and upgraded["discount_percent"] == 20
    r = await client.post(f"{url}/renew", json={"reason": "paid for another period"}, headers=staff)
    renewed = r.json()
    assert datetime.fromisoformat(renewed["expires_at"]) - datetime.fromisoformat(
        upgraded["expires_at"]
    ) == timedelta(days=60)
    history = (await client.get(f"{url}/history", headers=staff)).json()["items"]
    assert [h["action"] for h in history] == ["assigned", "upgraded", "renewed"]
    assert history[1]["previous_plan_id"] == silver["id"]
    assert history[2]["reason"] == "paid for another period"
    by_customer = (
        await client.get(f"/v1/memberships/history?customer_id={customer}", headers=staff)
    ).json()["items"]
    assert len(by_customer) == 3
    versions = [
        (e["type"], e["aggregate_version"])
        for e in await bus.outbox("credits.membership.assigned.v1")
        + await bus.outbox("credits.membership.changed.v1")
    ]
    assert versions == [
        ("credits.membership.assigned", 1),
        ("credits.membership.changed", 2),
        ("credits.membership.changed", 3),
    ]


async def test_one_current_membership_and_transitions_checked(client, tokens):
    gold = await make_plan(client, tokens)
    customer = uuid.uuid4()
    body = {"customer_id": str(customer), "plan_id": gold["id"]}
    m = (await client.post("/v1/memberships", json=body, headers=tokens.headers())).json()
    r = await client.post("/v1/memberships", json=body, headers=tokens.headers())
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "customer_id"
    url = f"/v1/memberships/{m['id']}"
    r = await client.post(f"{url}/unfreeze", headers=tokens.headers())
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "status"
    r = await client.post(f"{url}/upgrade", json={"plan_id": gold["id"]}, headers=tokens.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "plan_id"
    r = await client.post(f"{url}/downgrade", json={}, headers=tokens.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "plan_id"
    assert (
        await client.post(f"{url}/cancel", json={"reason": "moved away"}, headers=tokens.headers())
    ).json()["status"] == "cancelled"
    r = await client.post("/v1/memberships", json=body, headers=tokens.headers())
    assert r.status_code == 201
    assert (
        await client.post(f"/v1/memberships/{uuid.uuid4()}/renew", headers=tokens.headers())
    ).status_code == 404


async def test_freeze_moves_expiry_and_sweep_expires(client, tokens, runtime, bus):
    plan = await make_plan(client, tokens, days=10)
    customer = uuid.uuid4()
    t0 = datetime.now(UTC)
    async with runtime.uow() as uow:
        m = await memberships.assign(uow, acting(tokens), customer, uuid.UUID(plan["id"]), now=t0)
        await memberships.change(
            uow, acting(tokens), m.id, Change.frozen, now=t0 + timedelta(days=2)
        )
        # Frozen memberships do not expire.
        await uow.commit()
    assert await expire_due_memberships(runtime.uow, now=t0 + timedelta(days=30)) == 0
    async with runtime.uow() as uow:
        unfrozen = await memberships.change(
            uow, acting(tokens), m.id, Change.unfrozen, now=t0 + timedelta(days=7)
        )
        await uow.commit()
    assert unfrozen.expires_at == m.expires_at + timedelta(days=5)
    assert await expire_due_memberships(runtime.uow, now=t0 + timedelta(days=14)) == 0
    assert await expire_due_memberships(runtime.uow, now=t0 + timedelta(days=15, seconds=1)) == 1
    expired = await bus.outbox("credits.membership.expired.v1")
    assert len(expired) == 1 and expired[0]["payload"]["status"] == "expired"
    assert expired[0]["aggregate_version"] == 4
    r = await client.get(f"/v1/memberships?customer_id={customer}", headers=tokens.headers())
    assert r.json()["items"][0]["status"] == "expired"
    # An expired membership can be renewed.
    r = await client.post(f"/v1/memberships/{m.id}/renew", headers=tokens.headers())
    assert r.status_code == 200 and r.json()["status"] == "active"


async def test_customer_sees_only_own_membership(client, tokens):
    plan = await make_plan(client, tokens)
    me, other = uuid.uuid4(), uuid.uuid4()
    mine = (
        await client.post(
            "/v1/memberships",
            json={"customer_id": str(me), "plan_id": plan["id"]},
            headers=tokens.headers(),
        )
    ).json()
    theirs = (
        await client.post(
            "/v1/memberships",
            json={"customer_id": str(other), "plan_id": plan["id"]},
            headers=tokens.headers(),
        )
    ).json()
    headers = tokens.headers("customer", sub=me)
    assert (await client.get(f"/v1/memberships/{mine['id']}", headers=headers)).status_code == 200
    assert (await client.get(f"/v1/memberships/{theirs['id']}", headers=headers)).status_code == 404
    assert (
        await client.get(f"/v1/memberships/{theirs['id']}/history", headers=headers)
    ).status_code == 404
    listed = (await client.get("/v1/memberships", headers=headers)).json()["items"]
    assert [m["id"] for m in listed] == [mine["id"]]
    assert (
        await client.post(f"/v1/memberships/{mine['id']}/renew", headers=headers)
    ).status_code == 403
    assert len((await client.get("/v1/membership-plans", headers=headers)).json()["items"]) == 1


async def test_the_worker_runs_the_expiry_sweep_periodically():
    from frontdesk.credits.app import SPEC, sweep_expired

    jobs = SPEC.periodic()
    assert [job for _, job in jobs] == [sweep_expired]
    assert all(every > 0 for every, _ in jobs)
