"""Custom fields (C16): definitions per tenant, values validated on write (naming
``custom_fields.<key>``), filterable on the list (``cf=<key>:<value>``), a column each in the
export."""

import csv
import io
import uuid

from frontdesk.customers.domain.custom_fields import Definition, clean_values
from frontdesk.kit.errors import RuleBroken

ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
GRACE = {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"}


def test_values_follow_their_definitions():
    tenant = uuid.uuid4()
    defs = {
        d.key: d
        for d in (
            Definition.define(
                tenant, key=k, label=k, type=t, required=r, choices=c, position=0, existing=0
            )
            for k, t, r, c in (
                ("shoe", "number", False, []),
                ("since", "date", False, []),
                ("level", "choice", True, ["beginner", "pro"]),
                ("waiver", "yes_no", False, []),
            )
        )
    }
    assert clean_values(defs, {"level": "pro", "shoe": 42, "waiver": True}, None) == {
        "level": "pro",
        "shoe": 42,
        "waiver": True,
    }
    for given, field in (
        ({"shoe": 1}, "custom_fields.level"),  # required on a new record
        ({"level": "expert"}, "custom_fields.level"),
        ({"level": "pro", "shoe": "42"}, "custom_fields.shoe"),
        ({"level": "pro", "waiver": 1}, "custom_fields.waiver"),
        ({"level": "pro", "since": "2024-02-30"}, "custom_fields.since"),
        ({"level": "pro", "nope": 1}, "custom_fields.nope"),
    ):
        try:
            clean_values(defs, given, None)
        except RuleBroken as error:
            assert error.field == field, given
        else:
            raise AssertionError(given)
    # An edit that leaves a required value alone passes; removing it does not.
    assert clean_values(defs, {"shoe": None}, {"level": "pro", "shoe": 3}) == {"level": "pro"}
    try:
        clean_values(defs, {"level": None}, {"level": "pro"})
    except RuleBroken as error:
        assert error.field == "custom_fields.level"
    else:
        raise AssertionError


async def test_definitions_values_filters_and_export(client, tokens):
    admin = tokens.headers()
    url = "/v1/custom-fields"
    level = await client.post(
        url,
        json={"key": "level", "label": "Level", "type": "choice", "choices": ["beginner", "pro"]},
        headers=admin,
    )
    assert level.status_code == 201, level.text
    shoe = await client.post(
        url, json={"key": "shoe", "label": "Shoe size", "type": "number"}, headers=admin
    )
    waiver = await client.post(
        url,
        json={"key": "waiver", "label": "Waiver signed", "type": "yes_no", "required": True},
        headers=admin,
    )
    assert shoe.status_code == 201 and waiver.status_code == 201
    dup = await client.post(url, json={"key": "shoe", "label": "x", "type": "text"}, headers=admin)
    assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "key"
    for body in (
        {"key": "Bad Key", "label": "x", "type": "text"},
        {"key": "a", "label": "x", "type": "colour"},
        {"key": "b", "label": "x", "type": "choice"},
        {"key": "c", "label": "x", "type": "text", "choices": ["a"]},
        {"key": "d", "label": "x", "type": "text", "required": "yes"},
    ):
        assert (await client.post(url, json=body, headers=admin)).status_code == 422, body
    staff = tokens.headers("staff")
    body = {"key": "x", "label": "x", "type": "text"}
    assert (await client.post(url, json=body, headers=staff)).status_code == 403
    listed = (await client.get(url, headers=admin)).json()
    assert [d["key"] for d in listed] == ["level", "shoe", "waiver"]

    missing = await client.post(
        "/v1/customers", json={**ADA, "custom_fields": {"level": "pro"}}, headers=admin
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "custom_fields.waiver"
    wrong = await client.post(
        "/v1/customers",
        json={**ADA, "custom_fields": {"waiver": True, "level": "guru"}},
        headers=admin,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "custom_fields.level"
    ada = await client.post(
        "/v1/customers",
        json={**ADA, "custom_fields": {"waiver": True, "level": "pro", "shoe": 38}},
        headers=admin,
    )
    assert ada.status_code == 201, ada.text
    assert ada.json()["custom_fields"] == {"waiver": True, "level": "pro", "shoe": 38}
    grace = await client.post(
        "/v1/customers",
        json={**GRACE, "custom_fields": {"waiver": False, "level": "beginner"}},
        headers=admin,
    )
    gid = grace.json()["id"]
    patched = await client.patch(
        f"/v1/customers/{gid}", json={"custom_fields": {"shoe": 41.5}}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["custom_fields"] == {"waiver": False, "level": "beginner", "shoe": 41.5}
    bad_patch = await client.patch(
        f"/v1/customers/{gid}", json={"custom_fields": {"waiver": None}}, headers=admin
    )
    assert bad_patch.status_code == 422

    async def ids(*filters):
        r = await client.get("/v1/customers", params={"cf": list(filters)}, headers=admin)
        assert r.status_code == 200, r.text
        return {c["id"] for c in r.json()["items"]}

    assert await ids("level:pro") == {ada.json()["id"]}
    assert await ids("waiver:false") == {gid}
    assert await ids("shoe:41.5") == {gid}
    assert await ids("shoe:38", "level:pro") == {ada.json()["id"]}
    assert await ids("shoe:38", "level:beginner") == set()
    for params, field in (
        ({"cf": "nope:1"}, "cf.nope"),
        ({"cf": "shoe:big"}, "cf.shoe"),
        ({"cf": "shoe"}, "cf"),
        ({"cf": ["shoe:1", "shoe:2"]}, "cf"),
    ):
        r = await client.get("/v1/customers", params=params, headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field
        e = await client.get("/v1/customers/export.csv", params=params, headers=admin)
        assert e.status_code == 422

    export = await client.get(
        "/v1/customers/export.csv", params={"sort": "last_name"}, headers=admin
    )
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert list(rows[0])[-3:] == ["level", "shoe", "waiver"]
    assert [(r["last_name"], r["level"], r["shoe"], r["waiver"]) for r in rows] == [
        ("Hopper", "beginner", "41.5", "false"),
        ("Lovelace", "pro", "38", "true"),
    ]

    # A deleted field's values go with it.
    deleted = await client.delete(f"{url}/{shoe.json()['id']}", headers=admin)
    assert deleted.status_code == 204
    assert (
        "shoe"
        not in (await client.get(f"/v1/customers/{gid}", headers=admin)).json()["custom_fields"]
    )
    relabel = await client.patch(
        f"{url}/{level.json()['id']}", json={"label": "Skill"}, headers=admin
    )
    assert relabel.status_code == 200 and relabel.json()["label"] == "Skill"
    retype = await client.patch(f"{url}/{level.json()['id']}", json={"type": "text"}, headers=admin)
    assert retype.status_code == 422
