{#- No row has a null in any of `columns`. One test per model for all its required columns: a
    build's checks read the rows once, not once per column (each dbt test is a query and a node
    of its own, and an incremental build's tests cost their count more than their reading). A
    failing row is returned with `null_columns`, the names of the columns it has null. -#}
{% test not_null_columns(model, columns) %}

select
    array_remove(array[
        {%- for column in columns %}
        case when {{ column }} is null then '{{ column }}' end{{ ',' if not loop.last }}
        {%- endfor %}
    ], null) as null_columns
from {{ model }}
where {% for column in columns %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}

{% endtest %}
