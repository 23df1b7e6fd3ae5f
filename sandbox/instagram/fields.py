"""The Graph `fields` expansion syntax: `name.modifier(arg){children}`, comma-separated.

Business Discovery nests a whole media request inside one field, so the sandbox must read the
syntax the way the platform does, not just split on commas.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FieldSpec:
    """One item of a Graph `fields` list: name.modifier(arg)...{children}."""

    name: str
    modifiers: dict[str, str]
    children: list[FieldSpec] | None = None


class FieldSyntaxError(ValueError):
    pass


def parse_fields(text: str) -> list[FieldSpec]:
    """Parse Graph field expansion, e.g. `business_discovery.username(x){media.limit(5){id}}`."""
    pos = 0

    def ident() -> str:
        nonlocal pos
        start = pos
        while pos < len(text) and (text[pos].isalnum() or text[pos] == "_"):
            pos += 1
        if start == pos:
            raise FieldSyntaxError(f"expected a field name at character {pos}")
        return text[start:pos]

    def item() -> FieldSpec:
        nonlocal pos
        spec = FieldSpec(ident(), {})
        while pos < len(text) and text[pos] == ".":
            pos += 1
            modifier = ident()
            if pos >= len(text) or text[pos] != "(":
                raise FieldSyntaxError(f"expected '(' at character {pos}")
            end = text.find(")", pos)
            if end < 0:
                raise FieldSyntaxError("unclosed '('")
            spec.modifiers[modifier] = text[pos + 1 : end]
            pos = end + 1
        if pos < len(text) and text[pos] == "{":
            pos += 1
            spec.children = items("}")
            pos += 1
        return spec

    def items(close: str | None) -> list[FieldSpec]:
        nonlocal pos
        found = []
        while True:
            while pos < len(text) and text[pos] == " ":
                pos += 1
            found.append(item())
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            if close is None and pos == len(text):
                return found
            if close is not None and pos < len(text) and text[pos] == close:
                return found
            raise FieldSyntaxError(f"unexpected character at {pos}")

    if not text.strip():
        return []
    return items(None)
