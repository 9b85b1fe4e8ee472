"""Bad input answers 4xx (problem+json naming the field), never 500: control characters
PostgreSQL cannot store, numbers beyond its integers, dates past the calendar's end,
cursors forged with values of the wrong type or range."""

import base64
import json

import pytest

from frontdesk.kit import pagination

ANY_ID = "7f1c2a4e-0b6d-4c3a-9e5f-2d8b1a6c3e90"  # fixed: xdist workers must collect the same ids


def unsigned(data):
    """A cursor's payload as a client could write one (json: no 64-bit limit), unsigned."""
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def forged(data):
    """A cursor signed as this deployment signs its own, with whatever content: what the
    shape check alone must refuse (as if the key had leaked or a bug encoded a bad key)."""
    payload = json.dumps(data).encode()
    return f"{unsigned(data)}.{pagination._b64(pagination._sign(payload))}"


@pytest.fixture
async def cid(client, tokens):
    body = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
    r = await client.post("/v1/customers", json=body, headers=tokens.headers())
    return r.json()["id"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("q=a%00b", "q"),
        ("tag=a%00b", "tag"),
        ("credits_min=99999999999", "credits_min"),
        ("credits_max=100000000000000000000", "credits_max"),
        ("bookings_min=2147483648", "bookings_min"),
        ("bookings_max=99999999999", "bookings_max"),
        ("erased=maybe", "erased"),
    ],
)
async def test_list_filters_out_of_range_are_422(client, tokens, query, field):
    for path in ("/v1/customers", "/v1/customers/export.csv"):
        r = await client.get(f"{path}?{query}", headers=tokens.headers("staff"))
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.json()["errors"]], r.text


async def test_the_last_day_of_the_calendar_is_a_date_like_any_other(client, tokens, cid):
    staff = tokens.headers("staff")
    r = await client.get("/v1/customers?registered_to=9999-12-31", headers=staff)
    assert r.status_code == 200 and [i["id"] for i in r.json()["items"]] == [cid]
    r = await client.get("/v1/customers?registered_from=0001-01-01", headers=staff)
    assert r.status_code == 200 and len(r.json()["items"]) == 1


@pytest.mark.parametrize(
    ("sort", "key", "row_id"),
    [
        ("-last_activity", 5, ANY_ID),  # not a time
        ("-last_activity", "0001-01-01T00:00:00+14:00", ANY_ID),  # before year 1 in UTC
        ("-last_activity", "2026-01-01T00:00:00+00:00", 5),  # id not text
        ("-last_activity", "2026-01-01T00:00:00+00:00", "nope"),
        ("-bookings", 10**30, ANY_ID),  # beyond any integer column
        ("-bookings", 2**31, ANY_ID),  # beyond the int4 column
        ("-revenue", 2**63, ANY_ID),  # beyond the bigint column
        ("-bookings", 1.5, ANY_ID),
        ("-bookings", True, ANY_ID),
        ("last_name", "a\x00b", ANY_ID),  # NUL cannot be sent to PostgreSQL
        ("last_name", None, ANY_ID),
        ("last_name", ["x"], ANY_ID),
    ],
)
async def test_forged_list_cursors_are_400(client, tokens, sort, key, row_id):
    cursor = forged({"s": sort, "k": key, "i": row_id})
    r = await client.get(
        f"/v1/customers?sort={sort}&cursor={cursor}", headers=tokens.headers("staff")
    )
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == "cursor"


async def test_list_cursor_times_without_zone_are_utc(client, tokens, cid):
    cursor = forged({"s": "-last_activity", "k": "9999-01-01T00:00:00", "i": ANY_ID})
    r = await client.get(f"/v1/customers?cursor={cursor}", headers=tokens.headers("staff"))
    assert r.status_code == 200 and [i["id"] for i in r.json()["items"]] == [cid]


@pytest.mark.parametrize(
    "data",
    [
        {"t": "0001-01-01T00:00:00+14:00", "i": ANY_ID},
        {"t": 5, "i": ANY_ID},
        {"t": "2026-01-01T00:00:00+00:00", "i": 5},
        [1],
    ],
)
async def test_forged_activity_cursors_are_400(client, tokens, cid, data):
    r = await client.get(
        f"/v1/customers/{cid}/activity?cursor={forged(data)}", headers=tokens.headers()
    )
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["field"] == "cursor"


# Issue 9: the kit's input types in every schema refuse what disguises text.
RLO, ZWSP = "\u202e", "\u200b"  # a bidi override, a zero-width space
INVISIBLE = [
    (
        "POST",
        "",
        {"first_name": f"Ada{RLO}", "last_name": "B", "email": "x@e.com"},
        "first_name",
    ),
    ("POST", "", {"first_name": "A", "last_name": f"B{ZWSP}", "email": "x@e.com"}, "last_name"),
    ("POST", "", {"first_name": "A", "last_name": "B", "email": f"x{ZWSP}@e.com"}, "email"),
    (
        "POST",
        "",
        {"first_name": "A", "last_name": "B", "email": "x@e.com", "tags": [f"v{ZWSP}ip"]},
        "tags.0",
    ),
    (
        "POST",
        "/find-or-create",
        {"first_name": f"{RLO}A", "last_name": "B", "email": "x@e.com"},
        "first_name",
    ),
    ("PATCH", "/{cid}", {"last_name": f"Love{ZWSP}lace"}, "last_name"),
    ("PATCH", "/{cid}", {"tags": [f"{RLO}vip"]}, "tags.0"),
    ("PUT", f"/{{cid}}/tags/v{ZWSP}ip", None, "tag"),
    ("DELETE", f"/{{cid}}/tags/{RLO}vip", None, "tag"),
    ("POST", "/{cid}/notes", {"text": f"knee {RLO}problems"}, "text"),
    ("POST", "/bulk", {"ids": ["{cid}"], "action": "add_tag", "tag": f"{ZWSP}x"}, "tag"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "", {"first_name": "A\x00", "last_name": "B", "email": "x@example.com"}, None),
        ("POST", "", {"first_name": "A", "last_name": "B\x07", "email": "x@example.com"}, None),
        (
            "POST",
            "",
            {"first_name": "A", "last_name": "B", "email": "x@e.com", "tags": ["a\x00"]},
            None,
        ),
        ("POST", "", {"first_name": 5, "last_name": "B", "email": "x@example.com"}, None),
        (
            "POST",
            "",
            {"first_name": "A", "last_name": "B", "tags": "abc", "email": "x@e.com"},
            None,
        ),
        ("POST", "", [1, 2], None),
        (
            "POST",
            "/find-or-create",
            {"first_name": "A", "last_name": "B", "email": "x\x00@e.com"},
            None,
        ),
        ("PATCH", "/{cid}", {"first_name": "A\x00"}, None),
        ("PATCH", "/{cid}", {"tags": [None]}, None),
        ("PATCH", "/{cid}", "just text", None),
        ("PUT", "/{cid}/tags/a%00b", None, "tag"),
        ("POST", "/{cid}/notes", {"text": "a\x00b"}, None),
        ("POST", "/{cid}/notes", {"text": 5}, None),
        ("POST", "/bulk", {"ids": ["{cid}"], "action": "add_tag", "tag": "a\x00"}, None),
        (
            "POST",
            "/bulk",
            {
                "ids": ["{cid}"],
                "action": "message",
                "channel": "email",
                "subject": "s",
                "body": "\x00",
            },
            None,
        ),
        ("POST", "/bulk", {"ids": ["nope"], "action": "add_tag", "tag": "a"}, None),
        *INVISIBLE,
    ],
)
async def test_bad_bodies_and_paths_are_422(client, tokens, cid, method, path, body, field):
    if isinstance(body, dict):
        body = json.loads(json.dumps(body).replace("{cid}", cid))
    r = await client.request(
        method, "/v1/customers" + path.replace("{cid}", cid), json=body, headers=tokens.headers()
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if field:
        assert r.json()["errors"][0]["field"] == field


async def test_notes_keep_line_breaks(client, tokens, cid):
    r = await client.post(
        f"/v1/customers/{cid}/notes", json={"text": "line one\nline\ttwo"}, headers=tokens.headers()
    )
    assert r.status_code == 201 and r.json()["text"] == "line one\nline\ttwo"


@pytest.mark.parametrize(("query", "field"), [(f"q=Ada{RLO}", "q"), (f"tag=v{ZWSP}ip", "tag")])
async def test_invisible_characters_in_list_filters_are_422(client, tokens, query, field):
    for path in ("/v1/customers", "/v1/customers/export.csv"):
        r = await client.get(f"{path}?{query}", headers=tokens.headers("staff"))
        assert r.status_code == 422, (path, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], r.text


@pytest.mark.parametrize("pinned", ["true", 1, 0, "yes", None])
async def test_booleans_are_strict(client, tokens, cid, pinned):
    url = f"/v1/customers/{cid}/notes"
    r = await client.post(url, json={"text": "x", "pinned": pinned}, headers=tokens.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "pinned", r.text
    note = (await client.post(url, json={"text": "x"}, headers=tokens.headers())).json()
    r = await client.patch(f"{url}/{note['id']}", json={"pinned": pinned}, headers=tokens.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "pinned", r.text


@pytest.mark.parametrize("value", ["0", "86400", "1.5", "1e3", "2026-01-01T00:00:00", "tomorrow"])
async def test_date_filters_take_iso_dates_not_epoch_numbers(client, tokens, value):
    for field in ("registered_from", "registered_to"):
        r = await client.get(f"/v1/customers?{field}={value}", headers=tokens.headers("staff"))
        assert r.status_code == 422, (field, value, r.text)
        assert r.json()["errors"][0]["field"] == field


async def test_unsigned_cursors_are_400(client, tokens, cid):
    """A cursor of exactly the list's shape, but not signed by this deployment."""
    staff = tokens.headers("staff")
    page = (await client.get("/v1/customers?sort=last_name", headers=staff)).json()
    assert page["items"]  # (one customer: no next page; make a cursor of the same shape)
    for url, data in (
        ("/v1/customers?sort=last_name", {"s": "last_name", "k": "a", "i": ANY_ID}),
        (f"/v1/customers/{cid}/activity", {"t": "2026-01-01T00:00:00+00:00", "i": ANY_ID}),
    ):
        r = await client.get(
            f"{url}{'&' if '?' in url else '?'}cursor={unsigned(data)}", headers=staff
        )
        assert r.status_code == 400, r.text
        assert r.json()["errors"][0]["field"] == "cursor"


async def test_one_lists_cursor_is_refused_by_another(client, tokens, cid):
    staff = tokens.headers("staff")
    activity = forged({"t": "2026-01-01T00:00:00+00:00", "i": ANY_ID})
    listing = forged({"s": "-last_activity", "k": "2026-01-01T00:00:00+00:00", "i": ANY_ID})
    r = await client.get(f"/v1/customers?cursor={activity}", headers=staff)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "cursor"
    r = await client.get(f"/v1/customers/{cid}/activity?cursor={listing}", headers=staff)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "cursor"
    r = await client.get(f"/v1/customers/{cid}/activity?cursor={activity}", headers=staff)
    assert r.status_code == 200, r.text
