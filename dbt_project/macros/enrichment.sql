{#- The enrichment version gold reads: the newest classifier version that once covered every
    caption, else (the first version, still filling) the newest. enrichment/versions.py states
    the same choice for the lookalike search. -#}
{% macro enrichment_serving_version() %}
    select model, model_version
    from {{ source('silver', 'enrichment_versions') }}
    order by (completed_at is not null) desc, started_at desc, model_version desc
    limit 1
{% endmacro %}
