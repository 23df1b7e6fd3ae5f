{#-
    Whole-word matching of taxonomy terms, hashtags and disclosure markers in captions.

    A caption and a term are compared in one normal form: lower case, accents folded by
    translate() (portable; PostgreSQL's unaccent extension is not installed on every server),
    every run of characters other than letters, digits, `_` and `#` turned into one space, and a
    space on each side. A term then matches when ' term ' occurs in that text: "#ad" never
    matches "#adidas", "treino" never matches "treinos", "parceria paga" matches across any
    punctuation or line break between the two words.
-#}

{# Lower case with the accents of Portuguese, Spanish and French folded (ã → a, ç → c). #}
{% macro fold_text(text_sql) -%}
    {{ return(adapter.dispatch('fold_text', 'analisa')(text_sql)) }}
{%- endmacro %}
{% macro default__fold_text(text_sql) -%}
    translate(
        lower({{ text_sql }}),
        'áàâãäåéèêëíìîïóòôõöúùûüçñýÿÁÀÂÃÄÅÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑÝŸ',
        'aaaaaaeeeeiiiiooooouuuucnyyaaaaaaeeeeiiiiooooouuuucnyy'
    )
{%- endmacro %}

{# Every run of characters that are not letters, digits, `_` or `#` as one space. #}
{% macro words_only(text_sql) -%}
    {{ return(adapter.dispatch('words_only', 'analisa')(text_sql)) }}
{%- endmacro %}
{% macro default__words_only(text_sql) -%}
    regexp_replace({{ text_sql }}, '[^a-z0-9_#]+', ' ')
{%- endmacro %}
{% macro postgres__words_only(text_sql) -%}
    regexp_replace({{ text_sql }}, '[^a-z0-9_#]+', ' ', 'g')
{%- endmacro %}

{#- A caption in the normal form: ' word word #tag '. A `#` always starts a new word, so
    "#publi#ad" holds both hashtags. Null captions give ' ', which matches nothing. -#}
{% macro match_text(text_sql) -%}
    ' ' || {{ analisa.words_only(dbt.replace(analisa.fold_text("coalesce(" ~ text_sql ~ ", '')"), "'#'", "' #'")) }} || ' '
{%- endmacro %}

{# A term (word, phrase or hashtag) in the same normal form, to look for in match_text. #}
{% macro match_term(term_sql) -%}
    ' ' || trim({{ analisa.words_only(analisa.fold_text(term_sql)) }}) || ' '
{%- endmacro %}
