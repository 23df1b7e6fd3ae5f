"""How a person is recognised in values, texts and JSON documents, on hand-made cases."""

from __future__ import annotations

import pytest

from privacy.matching import REDACTED, Terms

T = Terms("17841400000000777", ("maria.silva",))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("17841400000000777", True),
        (17841400000000777, True),
        ("maria.silva", True),
        ("Maria.Silva", True),
        ("@maria.silva", True),
        ("username:maria.silva", True),
        ("maria.silva.fan", False),
        ("178414000000007770", False),
        ("ana", False),
        (True, False),
        (None, False),
    ],
)
def test_whole_values(value, expected):
    assert T.equals(value) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thanks @maria.silva!", "thanks [erased]!"),
        ("see maria.silva. Then", "see [erased]. Then"),
        ("@maria.silva.fan and xmaria.silva", "@maria.silva.fan and xmaria.silva"),
        ("id=17841400000000777&x", "id=[erased]&x"),
        ("order 178414000000007779", "order 178414000000007779"),
    ],
)
def test_tokens_in_text(text, expected):
    assert T.redact_text(text) == expected
    assert T.in_text(text) is (text != expected)


def test_json_parts_about_the_person_go_and_the_rest_stays():
    doc = {
        "id": "17900000000000201",
        "caption": "with @maria.silva",
        "comments": {
            "data": [
                {"id": "c1", "username": "maria.silva", "text": "lovely"},
                {"id": "c2", "username": "ana.b", "text": "hi"},
            ]
        },
        "tags": ["maria.silva", "beach"],
        "by_account": {"17841400000000777": {"likes": 3}, "other": {"likes": 1}},
    }
    scrubbed, whole = T.scrub_json(doc)
    assert not whole
    assert scrubbed == {
        "id": "17900000000000201",
        "caption": f"with {REDACTED}",
        "comments": {"data": [{"id": "c2", "username": "ana.b", "text": "hi"}]},
        "tags": ["beach"],
        "by_account": {"other": {"likes": 1}},
    }


def test_a_document_about_the_person_is_whole():
    answer = {"business_discovery": {"id": "17841400000000777", "media_count": 2}, "id": "1"}
    assert T.scrub_json(answer) == (None, True)


def test_a_short_id_is_never_matched_inside_values():
    short = Terms("42", ())
    assert not short.equals(42) and not short.equals("42")
    assert short.redact_text("42 likes") == "42 likes"
    assert short.needles == []


def test_a_broken_envelope_says_whose_it_is():
    assert T.keyed_in_text('{"platform": "instagram", "account_id": "17841400000000777", ')
    assert T.keyed_in_text('{"username": "Maria.Silva"')
    assert not T.keyed_in_text('{"username": "maria.silva.fan"')


def test_a_short_username_is_matched_as_a_whole_value_only():
    short = Terms("17841400000000999", ("ab",))
    assert short.equals("ab") and short.equals("@AB")
    assert short.redact_text("ab testing ab") == "ab testing ab"
    assert short.scrub_json({"data": [{"username": "ab"}, {"username": "cd"}]}) == (
        {"data": [{"username": "cd"}]},
        False,
    )
    assert short.needles == ["17841400000000999"]
    assert short.short_names == ["ab"]
