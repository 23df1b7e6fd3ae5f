{#- Every row satisfies `expression` (a SQL boolean over the model's columns); rows where it is
    false or null fail. Use `config: where:` to scope it. -#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
