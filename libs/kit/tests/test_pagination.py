import base64
import uuid
from datetime import UTC, datetime

import asyncpg.pgproto.pgproto as pgproto
import orjson
import pytest
from kit_probe import probe_service

from frontdesk.kit import pagination
from frontdesk.kit.auth import Role
from frontdesk.kit.pagination import CursorInt, decode_cursor, encode_cursor, split_page
from frontdesk.kit.problems import PROBLEM_JSON, Problem
from frontdesk.kit.testing import app_client
from frontdesk.kit.types import AwareDatetime


def test_cursor_round_trips_datetimes_and_uuids_of_both_kinds():
    at = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    ident = uuid.uuid4()
    from_db = pgproto.UUID(str(ident))  # what asyncpg hands back for a uuid column
    key = decode_cursor(encode_cursor([at, ident, from_db]))
    assert datetime.fromisoformat(key[0]) == at
    assert uuid.UUID(key[1]) == ident and uuid.UUID(key[2]) == ident


@pytest.mark.parametrize("cursor", ["not base64 !", "bm90IGpzb24", ""])
def test_a_cursor_we_did_not_give_out_names_the_field(cursor):
    with pytest.raises(Problem) as caught:
        decode_cursor(cursor)
    assert caught.value.status == 400
    assert caught.value.errors and caught.value.errors[0].field == "cursor"


# --- signed cursors ---------------------------------------------------------------------


def assert_bad_cursor(cursor: str, shape: object = None) -> None:
    with pytest.raises(Problem) as caught:
        decode_cursor(cursor, shape)
    assert caught.value.status == 400
    assert caught.value.errors and [e.field for e in caught.value.errors] == ["cursor"]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


KEY_SHAPE = tuple[AwareDatetime, uuid.UUID]


@pytest.fixture
def restore_cursor_key(monkeypatch):
    """``pagination.configure`` changes the process's key: put it back afterwards."""
    monkeypatch.setattr(pagination, "_key", pagination._key)


def test_cursor_round_trips_with_its_shape():
    at = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    ident = uuid.uuid4()
    assert decode_cursor(encode_cursor([at, ident]), KEY_SHAPE) == (at, ident)
    assert decode_cursor(encode_cursor([at, pgproto.UUID(str(ident))]), KEY_SHAPE) == (at, ident)
    assert decode_cursor(encode_cursor(2**63 - 1), CursorInt) == 2**63 - 1
    assert decode_cursor(encode_cursor(-(2**63)), CursorInt) == -(2**63)


def test_a_cursor_with_a_flipped_signature_is_refused():
    cursor = encode_cursor([datetime(2026, 1, 1, tzinfo=UTC), uuid.uuid4()])
    body, signature = cursor.split(".")
    raw = bytearray(_unb64(signature))
    for index in (0, len(raw) - 1):
        flipped = bytearray(raw)
        flipped[index] ^= 0x01
        assert_bad_cursor(f"{body}.{_b64(bytes(flipped))}", KEY_SHAPE)
        assert_bad_cursor(f"{body}.{_b64(bytes(flipped))}")
    assert_bad_cursor(f"{body}.", KEY_SHAPE)  # signature removed
    assert_bad_cursor(f"{body}.{signature}{signature}", KEY_SHAPE)


def test_a_cursor_with_a_changed_body_is_refused():
    ident = uuid.uuid4()
    cursor = encode_cursor([datetime(2026, 1, 1, tzinfo=UTC), ident])
    _, signature = cursor.split(".")
    forged = _b64(orjson.dumps(["1999-01-01T00:00:00+00:00", str(ident)]))
    assert_bad_cursor(f"{forged}.{signature}", KEY_SHAPE)


@pytest.mark.parametrize(
    "key",
    [
        ["2026-01-01T00:00:00+00:00", "5e4fbf5d-6a49-4d8e-9d4c-2f5d0e3e9a11"],
        2**63,
        True,
        ["9999-12-31T23:59:59-14:00", "5e4fbf5d-6a49-4d8e-9d4c-2f5d0e3e9a11"],
    ],
    ids=["key", "2**63", "true", "year-9999"],
)
def test_an_unsigned_base64_json_cursor_is_refused(key):
    unsigned = _b64(orjson.dumps(key))
    assert_bad_cursor(unsigned, KEY_SHAPE)
    assert_bad_cursor(unsigned)
    assert_bad_cursor(unsigned, CursorInt)


@pytest.mark.parametrize(
    ("key", "shape"),
    [
        (True, CursorInt),
        (False, CursorInt),
        (2**63, CursorInt),
        (2**64 - 1, CursorInt),
        ("1", CursorInt),
        (1.0, CursorInt),
        (["2026-01-01T00:00:00+00:00"], KEY_SHAPE),
        (["2026-01-01T00:00:00+00:00", "not-a-uuid"], KEY_SHAPE),
        (["2026-01-01T00:00:00", "5e4fbf5d-6a49-4d8e-9d4c-2f5d0e3e9a11"], KEY_SHAPE),
        (["9999-12-31T23:59:59-14:00", "5e4fbf5d-6a49-4d8e-9d4c-2f5d0e3e9a11"], KEY_SHAPE),
        ([1_700_000_000, "5e4fbf5d-6a49-4d8e-9d4c-2f5d0e3e9a11"], KEY_SHAPE),
        ({"at": "2026-01-01T00:00:00+00:00"}, KEY_SHAPE),
        (None, KEY_SHAPE),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_signed_cursor_of_the_wrong_shape_is_refused(key, shape):
    assert_bad_cursor(encode_cursor(key), shape)


def test_a_cursor_signed_under_another_secret_is_refused(restore_cursor_key):
    ident = uuid.uuid4()
    key = [datetime(2026, 1, 1, tzinfo=UTC), ident]
    pagination.configure("deployment-a-" + "a" * 40)
    cursor = encode_cursor(key)
    assert decode_cursor(cursor, KEY_SHAPE)[1] == ident
    pagination.configure("deployment-b-" + "b" * 40)
    assert_bad_cursor(cursor, KEY_SHAPE)
    assert_bad_cursor(cursor)
    pagination.configure("deployment-a-" + "a" * 40)
    assert decode_cursor(cursor, KEY_SHAPE)[1] == ident


def test_split_page_looks_one_row_ahead():
    rows = list(range(5))
    assert split_page(rows, 5, str) == ([0, 1, 2, 3, 4], None)
    assert split_page([*rows, 5], 5, str) == ([0, 1, 2, 3, 4], "4")
    assert split_page([], 5, str) == ([], None)


# --- through a route --------------------------------------------------------------------


@pytest.fixture(scope="module")
async def runtime():
    async with probe_service(relay=False, consumer=False) as rt:
        yield rt


@pytest.fixture
async def client(runtime):
    async with app_client(runtime) as c:
        yield c


async def test_a_list_pages_through_every_row_once_with_its_cursors(client, tokens):
    h = tokens.headers(Role.staff)
    names = [f"thing {n:02d}" for n in range(7)]
    for name in reversed(names):
        assert (await client.post("/v1/probes", json={"name": name}, headers=h)).status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/v1/probes/page", params=params, headers=h)
        assert r.status_code == 200, r.text
        pages += 1
        seen += [item["name"] for item in r.json()["items"]]
        cursor = r.json()["next"]
        if cursor is None:
            break
    assert seen == names and pages == 3


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param(lambda: _b64(orjson.dumps(["a", str(uuid.uuid4())])), id="unsigned"),
        pytest.param(lambda: encode_cursor(True), id="signed-true"),
        pytest.param(lambda: encode_cursor(2**63), id="signed-2**63"),
        pytest.param(lambda: encode_cursor(["a", "not-a-uuid"]), id="signed-bad-uuid"),
        pytest.param(lambda: encode_cursor(["a\x00", str(uuid.uuid4())])[:-2] + "AA", id="flip"),
        pytest.param(lambda: "garbage!", id="garbage"),
    ],
)
async def test_a_forged_cursor_answers_400_naming_it(client, tokens, cursor):
    r = await client.get(
        "/v1/probes/page", params={"cursor": cursor()}, headers=tokens.headers(Role.staff)
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert [e["field"] for e in r.json()["errors"]] == ["cursor"]
