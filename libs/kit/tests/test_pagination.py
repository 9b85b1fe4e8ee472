import uuid
from datetime import UTC, datetime

import asyncpg.pgproto.pgproto as pgproto
import pytest

from frontdesk.kit.pagination import decode_cursor, encode_cursor
from frontdesk.kit.problems import Problem


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
