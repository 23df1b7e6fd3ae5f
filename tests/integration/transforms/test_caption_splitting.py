"""The portable caption splitting (macros/text_matching.sql, default__split_on_spaces and
default__split_piece, for adapters other than PostgreSQL) run on PostgreSQL beside the native
one: the same pieces, and after the normal form the same words, as post_caption_words makes."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.integration.transforms.dbt_fixtures import dbt_output, run_dbt

CAPTIONS = [
    ("p1", "Treino de HOJE!\n#Saúde,#publi#ad"),
    ("p2", "  Pão  "),  # leading, trailing and doubled spaces: empty pieces
    ("p3", None),
    ("p4", ""),
    ("p5", "um dois um"),  # a word written twice appears twice
]

# Both implementations side by side, in two stages as post_caption_words uses them: the
# caption's space-separated pieces, then each piece in the normal form split into words.
INLINE = """
{%- set impls = {
    'native': (analisa.postgres__split_on_spaces, analisa.postgres__split_piece),
    'portable': (analisa.default__split_on_spaces, analisa.default__split_piece),
} -%}
with captions (post_id, caption) as (
    values {{ captions }}
){% for name, (split, piece) in impls.items() %},
{{ name }}_pieces as (
    select captions.post_id, {{ piece('captions.caption', 'p') }} as piece
    from captions {{ split('captions.caption', 'p') }}
),
{%- set normal = 'trim(' ~ analisa.words_only(dbt.replace(analisa.fold_text(name ~ '_pieces.piece'),
    "'#'", "' #'")) ~ ')' %}
{{ name }}_words as (
    select {{ name }}_pieces.post_id, {{ piece(normal, 'w') }} as word
    from {{ name }}_pieces {{ split(normal, 'w') }}
    where {{ piece(normal, 'w') }} <> ''
){% endfor %}
{% for name in impls %}
select '{{ name }}' as impl, 'piece' as stage, post_id, piece as text from {{ name }}_pieces
union all
select '{{ name }}', 'word', post_id, word from {{ name }}_words
{{ "union all" if not loop.last }}
{% endfor %}
"""


def sql_literal(value: str | None) -> str:
    return "null::text" if value is None else "'" + value.replace("'", "''") + "'::text"


@pytest.mark.timeout(240)
def test_portable_split_gives_the_native_rows(db_url, tmp_path):
    values = ", ".join(f"('{post}', {sql_literal(text)})" for post, text in CAPTIONS)
    query = INLINE.replace("{{ captions }}", values)
    result = run_dbt(
        ["show", "--inline", query, "--output", "json", "--limit", "-1", "--quiet"],
        db_url,
        tmp_path,
    )
    assert result.returncode == 0, dbt_output(result)
    rows = json.loads(result.stdout[result.stdout.index("{") :])["show"]

    def found(impl: str, stage: str) -> Counter:
        return Counter(
            (r["post_id"], r["text"]) for r in rows if r["impl"] == impl and r["stage"] == stage
        )

    # pieces: split on the plain space only, empty ones kept; no piece for null or ''
    assert found("native", "piece") == Counter(
        {
            ("p1", "Treino"): 1,
            ("p1", "de"): 1,
            ("p1", "HOJE!\n#Saúde,#publi#ad"): 1,
            ("p2", ""): 4,
            ("p2", "Pão"): 1,
            ("p5", "um"): 2,
            ("p5", "dois"): 1,
        }
    )
    assert found("portable", "piece") == found("native", "piece")
    # words: the normal form (post_caption_words' unit test holds the same expectations)
    assert found("native", "word") == Counter(
        {
            ("p1", "treino"): 1,
            ("p1", "de"): 1,
            ("p1", "hoje"): 1,
            ("p1", "#saude"): 1,
            ("p1", "#publi"): 1,
            ("p1", "#ad"): 1,
            ("p2", "pao"): 1,
            ("p5", "um"): 2,
            ("p5", "dois"): 1,
        }
    )
    assert found("portable", "word") == found("native", "word")
