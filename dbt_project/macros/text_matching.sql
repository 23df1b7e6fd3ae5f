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
    {%- set folded, plain = fold_characters() -%}
    translate(lower({{ text_sql }}), '{{ folded }}', '{{ plain }}')
{%- endmacro %}
{#- (the characters fold_text replaces, what each becomes), position by position -#}
{% macro fold_characters() -%}
    {{ return([
        'áàâãäåéèêëíìîïóòôõöúùûüçñýÿÁÀÂÃÄÅÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÇÑÝŸ',
        'aaaaaaeeeeiiiiooooouuuucnyyaaaaaaeeeeiiiiooooouuuucnyy',
    ]) }}
{%- endmacro %}
{#- PostgreSQL's translate() looks every character of the text up among the 54 it replaces:
    7.2 s for 1,000,000 captions, against 0.4 s to find whether a caption holds any of them. So
    only the texts that do are translated; the others are only lowered. Every replaced character
    lies in À-ÿ or is Ÿ, and the test reads the lowered text, which is what translate() reads:
    the result is the same for every text. -#}
{% macro postgres__fold_text(text_sql) -%}
    case
        when lower({{ text_sql }}) ~ '[À-ÿŸ]' then {{ analisa.default__fold_text(text_sql) }}
        else lower({{ text_sql }})
    end
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

{#- One row per space-separated piece of a text, as a join clause, and the piece itself:
    `select {{ split_piece('posts.caption', 'piece') }} as word
     from posts {{ split_on_spaces('posts.caption', 'piece') }}` gives one row per piece (empty
    pieces included, as between two spaces: filter them; a null or empty text gives none).
    Splitting on a plain space is cheap; what other characters separate (line breaks,
    punctuation) is split again once the piece is in the normal form.

    PostgreSQL unnests string_to_array(). Other adapters (default__) join a series of piece
    numbers made by dbt.generate_series and take the n-th piece with split_part(), which
    Snowflake, Redshift, Databricks/Spark (3.3+), DuckDB and Trino have with a column as the
    piece number; BigQuery has none: bigquery__split_piece indexes SPLIT() instead. The series
    stops at var('caption_max_pieces') (4,001: Instagram captions hold at most 2,200 characters,
    TikTok descriptions 4,000, so no caption has more pieces). var('portable_caption_split')
    makes PostgreSQL run the portable form too: post_interests' unit test
    portable_split_finds_the_same_words sets it, so every build checks that both give the same
    words. -#}
{% macro split_on_spaces(text_sql, alias) -%}
    {%- if var('portable_caption_split', false) -%}
        {{ return(analisa.default__split_on_spaces(text_sql, alias)) }}
    {%- endif -%}
    {{ return(adapter.dispatch('split_on_spaces', 'analisa')(text_sql, alias)) }}
{%- endmacro %}
{% macro default__split_on_spaces(text_sql, alias) -%}
    inner join (
        select cast(generated_number as {{ dbt.type_int() }}) as piece_number
        from ({{ dbt.generate_series(var('caption_max_pieces', 4001)) }}) as series
    ) as {{ alias }}
        on {{ text_sql }} <> ''
        and {{ alias }}.piece_number <= {{ dbt.length(text_sql) }}
            - {{ dbt.length(dbt.replace(text_sql, "' '", "''")) }} + 1
{%- endmacro %}
{% macro postgres__split_on_spaces(text_sql, alias) -%}
    cross join lateral unnest(string_to_array({{ text_sql }}, ' ')) as {{ alias }} (word)
{%- endmacro %}

{% macro split_piece(text_sql, alias) -%}
    {%- if var('portable_caption_split', false) -%}
        {{ return(analisa.default__split_piece(text_sql, alias)) }}
    {%- endif -%}
    {{ return(adapter.dispatch('split_piece', 'analisa')(text_sql, alias)) }}
{%- endmacro %}
{% macro default__split_piece(text_sql, alias) -%}
    split_part({{ text_sql }}, ' ', {{ alias }}.piece_number)
{%- endmacro %}
{% macro bigquery__split_piece(text_sql, alias) -%}
    split({{ text_sql }}, ' ')[safe_offset({{ alias }}.piece_number - 1)]
{%- endmacro %}
{% macro postgres__split_piece(text_sql, alias) -%}
    {{ alias }}.word
{%- endmacro %}

{#- A condition a text must meet to hold one of the words of `lookup` (its `column`: words in the
    normal form, as caption_word_matches looks them up) once in the normal form of match_text:
    only a filter, in front of the split, for a lookup whose words few texts hold (the
    disclosure markers): every text it keeps is matched word by word as before, and every text
    it drops could not have matched. Each word must occur in the text as it is lowered, with
    each letter standing for itself and for every character fold_text turns into it
    (PostgreSQL: one regular expression of the words, 3.0 s for 1,000,000 captions on one core;
    splitting every caption to find the markers took 20.9 s in the same full gold build that
    measured post_interests at 52.7 s). Why it is necessary: the normal form only turns
    characters into spaces and puts one before each `#`, and a word holds no space and a `#`
    only first, so a word found in it is found in the folded text; the folded text is the
    lowered one with single characters replaced. Other adapters keep every text. -#}
{% macro may_hold_lookup_words(text_sql, lookup, column='lookup_word') -%}
    {{ return(adapter.dispatch('may_hold_lookup_words', 'analisa')(text_sql, lookup, column)) }}
{%- endmacro %}
{% macro default__may_hold_lookup_words(text_sql, lookup, column) -%}
    true
{%- endmacro %}
{% macro postgres__may_hold_lookup_words(text_sql, lookup, column) -%}
    {#- the letters fold_text replaces, each with the characters it turns into it -#}
    {%- set folded, plain = fold_characters() -%}
    {%- set classes = {} -%}
    {%- for index in range(folded | length) -%}
        {%- do classes.update({plain[index]: classes.get(plain[index], plain[index]) ~ folded[index]}) -%}
    {%- endfor -%}
    {%- set pattern = namespace(sql='words.word') -%}
    {%- for letter, members in classes | dictsort -%}
        {%- set pattern.sql = "replace(" ~ pattern.sql ~ ", '" ~ letter ~ "', '[" ~ members ~ "]')" -%}
    {%- endfor -%}
    {#- the normal form holds letters, digits, `_` and `#` only: nothing else can be in the
        expression (a word that is not in it matches no piece either). A word holding another
        one is left out: a text holding it holds the other. The engine's time grows fast with
        alternatives sharing their beginnings: the 18 markers' 16 words took 13.6 s for
        1,000,000 captions, the 8 left 3.0 s. -#}
    lower({{ text_sql }}) ~ (
        select string_agg(distinct {{ pattern.sql }}, '|')
        from (
            select {{ column }} as word from {{ lookup }} where {{ column }} ~ '^[a-z0-9_#]+$'
        ) as words
        where not exists (
            select 1 from {{ lookup }} as inner_words
            where inner_words.{{ column }} ~ '^[a-z0-9_#]+$'
                and inner_words.{{ column }} <> words.word
                and {{ dbt.position('inner_words.' ~ column, 'words.word') }} > 0
        )
    )
{%- endmacro %}

{#- The word a phrase (up to three words, in the normal form) is looked up by: its longest, so
    "in partnership with" is searched only in captions holding "partnership", never in every
    caption holding "in". Single words are their own anchor. -#}
{% macro phrase_anchor(phrase_sql) -%}
    {%- set w1 = dbt.split_part(phrase_sql, "' '", 1) -%}
    {%- set w2 = dbt.split_part(phrase_sql, "' '", 2) -%}
    {%- set w3 = dbt.split_part(phrase_sql, "' '", 3) -%}
    (case
        when length({{ w2 }}) > length({{ w1 }}) and length({{ w2 }}) >= length({{ w3 }})
            then {{ w2 }}
        when length({{ w3 }}) > length({{ w1 }}) then {{ w3 }}
        else {{ w1 }}
    end)
{%- endmacro %}

{#- CTEs to put in a WITH list (followed by a comma), the last of them named `name`: one row per
    (post, lookup row) whose lookup word is among the words of the post's caption, with the
    lookup's `columns`. A word is a space-separated piece of the caption in the normal form of
    match_text (lower case, accents folded, split again on what is not a letter, digit, `_` or
    `#`, each `#` starting a hashtag). `captions` is a relation or CTE with platform, post_id and
    caption (null captions give no words); `lookup` a small CTE with a `lookup_word` column;
    `distinct=false` keeps a word written twice as two rows, for a caller that counts distinct
    matches anyway.

    The work is done once per distinct piece, not once per word: each caption is cut on spaces
    where it stands (cheap), the distinct pieces are put in the normal form (folding accents is
    the costly step, and captions share their words and hashtags) and matched against the
    lookup, and the few pieces that match are joined back to every piece. Nothing is stored
    between the split and the match: every word of every caption was once a table of its own
    (7,660,000 rows, 837 MB for 1,000,000 captions) that two models then read; writing and
    indexing it took 23.1 s of a 59.8 s gold build, on one core, before either could start. -#}
{% macro caption_word_matches(name, lookup, columns, captions, distinct=true) -%}
{%- set normal_piece =
    'trim(' ~ words_only(dbt.replace(fold_text(name ~ '__distinct_pieces.piece'), "'#'", "' #'")) ~ ')' %}
-- each caption cut on spaces, with the post the pieces belong to (computed again where read:
-- cheap, and then readable by parallel workers)
{{ name }}__pieces as {{ computed_where_used() }} (

    select {{ captions }}.platform, {{ captions }}.post_id,
        {{ split_piece(captions ~ '.caption', 'piece') }} as piece
    from {{ captions }}
    {{ split_on_spaces(captions ~ '.caption', 'piece') }}

),

{{ name }}__distinct_pieces as {{ computed_once() }} (

    select distinct piece from {{ name }}__pieces

),

-- a piece holds several words when punctuation or a `#` separates them ("#publi#ad")
{{ name }}__piece_words as (

    select
        {{ name }}__distinct_pieces.piece,
        {{ split_piece(normal_piece, 'piece_word') }} as word
    from {{ name }}__distinct_pieces
    {{ split_on_spaces(normal_piece, 'piece_word') }}
    where {{ split_piece(normal_piece, 'piece_word') }} <> ''

),

{{ name }}__matched_pieces as {{ computed_once() }} (

    select
        {{ name }}__piece_words.piece
        {%- for column in columns %},
        {{ lookup }}.{{ column }}
        {%- endfor %}
    from {{ name }}__piece_words
    inner join {{ lookup }}
        on {{ lookup }}.lookup_word = {{ name }}__piece_words.word

),

{{ name }} as {{ computed_once() }} (

    select {{ "distinct" if distinct }}
        {{ name }}__pieces.platform,
        {{ name }}__pieces.post_id
        {%- for column in columns %},
        {{ name }}__matched_pieces.{{ column }}
        {%- endfor %}
    from {{ name }}__pieces
    inner join {{ name }}__matched_pieces
        on {{ name }}__matched_pieces.piece = {{ name }}__pieces.piece

)
{%- endmacro %}

{#- The distinct values of `expression` in one text, in order, separated by `separator` (a SQL
    string literal): an ordered aggregate, so the rows are sorted once by the group and value. -#}
{% macro listagg_distinct(expression, separator) -%}
    {{ return(adapter.dispatch('listagg_distinct', 'analisa')(expression, separator)) }}
{%- endmacro %}
{% macro default__listagg_distinct(expression, separator) -%}
    string_agg(distinct {{ expression }}, {{ separator }} order by {{ expression }})
{%- endmacro %}
