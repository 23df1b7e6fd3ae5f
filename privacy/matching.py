"""Where a person appears in a value: as a whole value, or as a token inside a longer text.

The account id matches exactly (case-sensitive); a username matches case-insensitively, with or
without a leading "@", and as "username:<name>" (how a Business Discovery answer is filed before
its id is known). Inside text, a match is a token: not preceded or followed by a letter or digit
(for usernames also "_" and ".", which usernames contain), so "ana" is not found in "banana"
and the id 123 not in 41234.

JSON values are judged structurally. A scalar equal to the id or a username marks the part of
the document about that person: the nearest element of a list that contains it (a comment, a
media item, a mention) is removed; when no list holds it, the whole document is about them and
the caller deletes the row (a profile answer, a Business Discovery answer filed under a brand,
an envelope filed under them). Tokens inside longer strings (a caption saying "@name") are
replaced by REDACTED, keeping the rest of someone else's text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

REDACTED = "[erased]"
# An id shorter than this (a test fixture's "42") would match counts and unrelated numbers: it is
# then matched only in the columns that name accounts, never inside values or texts.
MIN_TOKEN_ID = 6
# Likewise a username shorter than this ("ab") is a word of everyday text: it is matched as a
# whole value only (a username column, a JSON value), never inside texts.
MIN_TOKEN_NAME = 4


class _Root(Exception):
    """The match is not inside any list: the whole document is about the person."""


@dataclass(frozen=True)
class Terms:
    account_id: str
    usernames: tuple[str, ...] = ()
    _id_re: re.Pattern = field(init=False, repr=False, compare=False)
    _name_re: re.Pattern | None = field(init=False, repr=False, compare=False)
    _keyed_re: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        id_re = re.compile(r"(?<![A-Za-z0-9])" + re.escape(self.account_id) + r"(?![A-Za-z0-9])")
        if len(self.account_id) < MIN_TOKEN_ID:
            id_re = re.compile(r"(?!x)x")  # matches nothing
        object.__setattr__(self, "_id_re", id_re)
        names = sorted({u.lower() for u in self.usernames if u}, key=len, reverse=True)
        strong = [n for n in names if len(n) >= MIN_TOKEN_NAME]
        name_re = None
        if strong:
            alternatives = "|".join(re.escape(n) for n in strong)
            name_re = re.compile(
                r"(?<![A-Za-z0-9_.])@?(?:" + alternatives + r")(?![A-Za-z0-9_]|\.[A-Za-z0-9_])",
                re.IGNORECASE,
            )
        object.__setattr__(self, "_name_re", name_re)
        # a JSON-like text that is not valid JSON (a rejected envelope) still says whose it is
        keyed = [re.escape(self.account_id)] + [re.escape(n) for n in names]
        object.__setattr__(
            self,
            "_keyed_re",
            re.compile(
                r'"(?:[A-Za-z_]*account_id|open_id|user_id|id|username)"\s*:\s*"?(?:username:)?@?(?:'
                + "|".join(keyed)
                + r')(?:"|(?![A-Za-z0-9_.]))',
                re.IGNORECASE,
            ),
        )

    @property
    def needles(self) -> list[str]:
        """Lowercased substrings a candidate row must contain (the SQL prefilter)."""
        ids = {self.account_id.lower()} if self.strong_id else set()
        names = {n for n in self.lowered_names if len(n) >= MIN_TOKEN_NAME}
        return sorted({*ids, *names})

    @property
    def short_names(self) -> list[str]:
        """Usernames matched as whole values only (see MIN_TOKEN_NAME)."""
        return sorted(n for n in self.lowered_names if len(n) < MIN_TOKEN_NAME)

    @property
    def strong_id(self) -> bool:
        return len(self.account_id) >= MIN_TOKEN_ID

    @property
    def lowered_names(self) -> set[str]:
        return {u.lower() for u in self.usernames if u}

    # -- whole values --------------------------------------------------------------------------
    def equals(self, value: Any) -> bool:
        if isinstance(value, bool) or value is None:
            return False
        if isinstance(value, int | float):
            return self.strong_id and str(value) == self.account_id
        if not isinstance(value, str):
            return False
        text = value.strip()
        if text == self.account_id and self.strong_id:
            return True
        lowered = text.lower()
        if lowered.startswith("username:"):
            lowered = lowered.split(":", 1)[1]
        return lowered.lstrip("@") in self.lowered_names

    # -- tokens --------------------------------------------------------------------------------
    def in_text(self, text: str) -> bool:
        if self._id_re.search(text):
            return True
        return bool(self._name_re and self._name_re.search(text))

    def keyed_in_text(self, text: str) -> bool:
        """A text in JSON form (parsable or not) with a key naming the account as its value:
        `"account_id": "<id>"`, `"username": "<name>"`."""
        return bool(self._keyed_re.search(text))

    def redact_text(self, text: str) -> str:
        text = self._id_re.sub(REDACTED, text)
        return self._name_re.sub(REDACTED, text) if self._name_re else text

    # -- JSON ----------------------------------------------------------------------------------
    def json_mentions(self, doc: Any) -> bool:
        if isinstance(doc, dict):
            return any(
                self.equals(k) or self.in_text(k) or self.json_mentions(v) for k, v in doc.items()
            )
        if isinstance(doc, list):
            return any(self.json_mentions(v) for v in doc)
        if isinstance(doc, str):
            return self.equals(doc) or self.in_text(doc)
        return self.equals(doc)

    def scrub_json(self, doc: Any) -> tuple[Any, bool]:
        """(document without the person, whether the whole document is about them)."""
        try:
            return self._scrub(doc), False
        except _Root:
            return None, True

    def redact_json(self, node: Any) -> Any:
        """Every mention replaced in place, the structure kept (for other tools' records)."""
        if isinstance(node, dict):
            return {
                (REDACTED if self.equals(k) else self.redact_text(k)): self.redact_json(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [self.redact_json(v) for v in node]
        if self.equals(node):
            return REDACTED
        if isinstance(node, str):
            return self.redact_text(node)
        return node

    def _scrub(self, node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if self.equals(key):
                    continue  # an entry keyed by the person: drop the entry
                if self.equals(value):
                    raise _Root
                new_key = self.redact_text(key) if self.in_text(key) else key
                out[new_key] = self._scrub(value)
            return out
        if isinstance(node, list):
            kept = []
            for item in node:
                if self.equals(item):
                    continue
                try:
                    kept.append(self._scrub(item))
                except _Root:
                    continue  # the list element is about the person: remove it
            return kept
        if isinstance(node, str) and self.in_text(node):
            return self.redact_text(node)
        return node


def parse_json_text(text: str) -> Any | None:
    """A text column holding a JSON document (a raw body, a rejected envelope), else None."""
    stripped = text.lstrip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
