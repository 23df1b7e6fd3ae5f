{#-
    Pseudonyms of people other than the influencer (docs/privacy.md says which fields and why).

    A pseudonym is HMAC-SHA256 of the identifier's UTF-8 bytes under ANALISA_PSEUDONYM_KEY, in
    hex: the same value as analisa.core.crypto.pseudonymise(value, key), so Python can look a
    person up (or erase them) by computing it. The key is never in SQL text: the database function
    ops.pseudonym (migration 011) reads it from the session setting `analisa.pseudonym_key`, which
    analisa passes to the dbt process only (libpq PGOPTIONS), and fails when it is missing.
-#}

{% macro pseudonym(value_sql) -%}
    {{ return(adapter.dispatch('pseudonym', 'analisa')(value_sql)) }}
{%- endmacro %}

{% macro default__pseudonym(value_sql) -%}
    ops.pseudonym(cast({{ value_sql }} as {{ dbt.type_string() }}))
{%- endmacro %}

{#-
    Every @handle in a text replaced by "@" and the pseudonym of the handle in lower case
    (handles are case-insensitive on both platforms, so one person keeps one pseudonym). A handle
    is what the platforms allow: letters, digits, "_" and "." (not as its last character, so a
    sentence's full stop stays). The rest of the text is kept as it is; hashtags are not people.
    Texts without "@" are returned untouched without calling the hash.
-#}
{% macro pseudonymise_mentions(text_sql) -%}
    {{ return(adapter.dispatch('pseudonymise_mentions', 'analisa')(text_sql)) }}
{%- endmacro %}

{% macro postgres__pseudonymise_mentions(text_sql) -%}
    case
        when strpos({{ text_sql }}, '@') = 0 then {{ text_sql }}
        else (
            select string_agg(
                case
                    when part[1] ~ '^@[A-Za-z0-9_]'
                        then '@' || {{ pseudonym("lower(substr(part[1], 2))") }}
                    else part[1]
                end,
                '' order by part_no
            )
            from regexp_matches(
                {{ text_sql }},
                '@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?|[^@]+|@',
                'g'
            ) with ordinality as parts (part, part_no)
        )
    end
{%- endmacro %}
