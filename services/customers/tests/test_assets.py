"""Assets (C15): vehicles with a validated VIN and a plate unique in the tenant, shown on
the record, found by the list's search, announced by AssetChanged."""

import uuid

from sqlalchemy import select

from frontdesk.customers.adapters.tables import messaging
from frontdesk.customers.domain.assets import clean_vin, vin_check_digit

VIN = "1M8GDM9AXKP042788"  # a valid North American VIN (check digit X)


async def customer(client, tokens, email="ada@example.com", last="Lovelace"):
    body = {"first_name": "Ada", "last_name": last, "email": email}
    return (await client.post("/v1/customers", json=body, headers=tokens.headers())).json()["id"]


def test_vin_rules():
    assert vin_check_digit(VIN) == "X"
    assert clean_vin(" 1m8gdm9axkp042788 ", "US") == VIN
    for bad, region in (
        ("1M8GDM9AXKP04278", "GB"),  # 16 characters
        ("1M8GDM9AXKP04278O", "GB"),  # an O
        ("1M8GDM9A1KP042788", "US"),  # check digit wrong
    ):
        try:
            clean_vin(bad, region)
        except ValueError as error:
            assert getattr(error, "field", None) == "vin"
        else:
            raise AssertionError(bad)
    # Outside North America the check digit is not required.
    assert clean_vin("1M8GDM9A1KP042788", "GB") == "1M8GDM9A1KP042788"


async def test_vehicle_life_and_plate_rules(client, tokens, runtime):
    admin = tokens.headers()
    ada = await customer(client, tokens)
    url = f"/v1/customers/{ada}/assets"
    r = await client.post(
        url,
        json={"make": "Ford", "model": "Focus", "year": 2019, "plate": "ab12  cde", "vin": VIN},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    car = r.json()
    assert (car["plate"], car["vin"], car["label"]) == ("AB12 CDE", VIN, "Ford Focus (AB12 CDE)")
    record = (await client.get(f"/v1/customers/{ada}", headers=admin)).json()
    assert [a["id"] for a in record["assets"]] == [car["id"]]

    other = await customer(client, tokens, "grace@example.com", "Hopper")
    same_plate = await client.post(
        f"/v1/customers/{other}/assets", json={"plate": "AB-12-CDE"}, headers=admin
    )
    assert same_plate.status_code == 409
    assert same_plate.json()["errors"][0]["field"] == "plate"
    for body, field in (
        ({"make": "Ford"}, "plate"),
        ({"plate": "A"}, "plate"),
        ({"vin": "123"}, "vin"),
        ({"plate": "XY1", "year": 1800}, "year"),
        ({"plate": "XY1", "kind": "boat"}, "kind"),
    ):
        bad = await client.post(f"/v1/customers/{other}/assets", json=body, headers=admin)
        assert bad.status_code == 422, (body, bad.text)
        assert field in str(bad.json()), body
    # Another tenant may have the same plate.
    elsewhere = tokens.headers("admin", tenant_id=uuid.uuid4())
    theirs = (
        await client.post(
            "/v1/customers",
            json={"first_name": "X", "last_name": "Y", "email": "x@y.io"},
            headers=elsewhere,
        )
    ).json()["id"]
    ok = await client.post(
        f"/v1/customers/{theirs}/assets", json={"plate": "AB12CDE"}, headers=elsewhere
    )
    assert ok.status_code == 201
    assert (await client.get(url, headers=elsewhere)).status_code == 404

    # Found by plate (any spacing, its start) in the list's search.
    for q in ("ab12 cde", "AB12", "ab-12-c"):
        found = (await client.get("/v1/customers", params={"q": q}, headers=admin)).json()
        assert [c["id"] for c in found["items"]] == [ada], q

    patched = await client.patch(
        f"{url}/{car['id']}", json={"plate": "XY99 ZZZ"}, headers={**admin, "If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["label"] == "Ford Focus (XY99 ZZZ)"
    stale = await client.patch(
        f"{url}/{car['id']}", json={"model": "Fiesta"}, headers={**admin, "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert (await client.delete(f"{url}/{car['id']}", headers=admin)).status_code == 204
    assert (await client.get(url, headers=admin)).json() == []
    async with runtime.engine.connect() as conn:
        rows = (
            (await conn.execute(select(messaging.outbox).order_by(messaging.outbox.c.seq)))
            .mappings()
            .all()
        )
    changes = [
        r["envelope"]["payload"] for r in rows if r["routing_key"] == "customers.asset.changed.v1"
    ]
    mine = [c for c in changes if c["asset_id"] == car["id"]]
    assert [(c["label"], c["removed"]) for c in mine] == [
        ("Ford Focus (AB12 CDE)", False),
        ("Ford Focus (XY99 ZZZ)", False),
        ("Ford Focus (XY99 ZZZ)", True),
    ]
