"""The sandbox's reading of Graph `fields` expansions and its opaque cursors."""

from __future__ import annotations

import pytest

from sandbox.instagram.cursors import decode_cursor, encode_cursor
from sandbox.instagram.fields import FieldSpec, FieldSyntaxError, parse_fields
from sandbox.world import SandboxWorld


def test_plain_fields():
    assert parse_fields("id,username") == [FieldSpec("id", {}), FieldSpec("username", {})]
    assert parse_fields("") == []


def test_business_discovery_expansion():
    fields = parse_fields(
        "business_discovery.username(other.creator){followers_count,"
        "media.limit(5).after(QVFIabc){id,like_count}},id"
    )
    assert [f.name for f in fields] == ["business_discovery", "id"]
    discovery = fields[0]
    assert discovery.modifiers == {"username": "other.creator"}
    media = discovery.children[1]
    assert media.modifiers == {"limit": "5", "after": "QVFIabc"}
    assert [c.name for c in media.children] == ["id", "like_count"]


@pytest.mark.parametrize("text", ["id,", "media{id", "a.b", "a.b(x", "{id}"])
def test_syntax_errors(text):
    with pytest.raises(FieldSyntaxError):
        parse_fields(text)


def test_cursor_round_trip_and_refusal():
    world = SandboxWorld()
    account = world.accounts("instagram")[0]
    media = world.live_posts("instagram", account.account_id)[3]
    cursor = encode_cursor(media)
    assert cursor.startswith("QVFI")
    assert decode_cursor(cursor) == (int(media.timestamp.timestamp()), media.media_id)
    with pytest.raises(ValueError):
        decode_cursor("garbage")
    with pytest.raises(ValueError):
        decode_cursor("QVFI!!!")
