{#- The combination of `columns` identifies a row: no two rows share it.
    (A small stand-in for dbt_utils.unique_combination_of_columns; dbt packages are not installed.) -#}
{% test unique_combination(model, columns) %}

with grouped as (

    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1

)

select * from grouped

{% endtest %}
