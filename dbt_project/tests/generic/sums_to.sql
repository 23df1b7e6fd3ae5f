{#- Within each group, `column` sums to `total` (within `tolerance`: exact division leaves
    e.g. 3 × 0.33333333333333333333). -#}
{% test sums_to(model, column_name, group_by, total=1, tolerance=0.000000001) %}

with sums as (

    select
        {{ group_by | join(', ') }},
        sum({{ column_name }}) as column_sum
    from {{ model }}
    group by {{ group_by | join(', ') }}

)

select *
from sums
where abs(column_sum - {{ total }}) > {{ tolerance }}

{% endtest %}
