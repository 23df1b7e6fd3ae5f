"""The fast path's entry keys: equal only for queries Starlette parses into the same
parameters, in the same order for a repeated one."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from serving_api.fast_path import entry_tail, if_none_match_hits, normalise_query, pack


def test_parameter_order_across_names_does_not_matter():
    assert normalise_query(b"platform=instagram&limit=5") == "limit=5&platform=instagram"
    assert normalise_query(b"limit=5&platform=instagram") == "limit=5&platform=instagram"
    assert normalise_query(b"") == ""


def test_repeated_parameters_keep_their_order():
    assert normalise_query(b"limit=1&q=a&limit=2") == "limit=1&limit=2&q=a"
    assert normalise_query(b"limit=2&limit=1") != normalise_query(b"limit=1&limit=2")


def test_encodings_starlette_reads_alike_share_a_key_and_others_do_not():
    assert normalise_query(b"q=a+b") == normalise_query(b"q=a%20b") == "q=a+b"
    assert normalise_query(b"q=") == normalise_query(b"q") == "q="  # both blank, as Starlette
    assert normalise_query(b"q=a%26limit%3D5") == "q=a%26limit%3D5"  # not limit=5
    # raw bytes are latin-1 to Starlette, percent escapes UTF-8: two values, two keys
    for one, other in ((b"q=%C3%A9", "q=é".encode()),):
        assert QueryParams(one) != QueryParams(other)
        assert normalise_query(one) != normalise_query(other)


def test_the_tail_names_workspace_role_path_and_query():
    assert (
        entry_tail(7, "viewer", "/v1/influencers", b"limit=5") == "7:viewer:/v1/influencers?limit=5"
    )
    assert entry_tail(7, "analyst", "/v1/x", b"") != entry_tail(7, "viewer", "/v1/x", b"")


def test_entries_and_if_none_match():
    assert pack(b"0123456789abcdef", "/v1/x", b"{}") == b"0123456789abcdef/v1/x\x00{}"
    assert if_none_match_hits(b'W/"aa", "0123456789abcdef"', b"0123456789abcdef")
    assert if_none_match_hits(b"*", b"0123456789abcdef")
    assert not if_none_match_hits(b'"0123456789abcdee"', b"0123456789abcdef")
    assert not if_none_match_hits(None, b"0123456789abcdef")
