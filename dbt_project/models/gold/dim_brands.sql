-- One row per brand: the brands added with `analisa brands add` (ops.brands) and the example
-- brands of the seed whose name no added brand took. Formulas in dim_brands.yml.

with

added as (

    select brand_name, followers_min, followers_max, 'added' as brand_source
    from {{ source('ops', 'brands') }}

),

examples as (

    select brand_name, followers_min, followers_max, 'example' as brand_source
    from {{ ref('example_brands') }}
    where brand_name not in (select brand_name from added)

),

brands as (

    select * from added
    union all
    select * from examples

),

{% set dimensions = ['age', 'gender', 'country', 'city', 'interest'] %}
{% for dimension in dimensions %}
target_{{ dimension }} as (

    select
        brand_name,
        {{ dbt.listagg('value', "'; '", 'order by value') }} as target_{{ dimension }}
    from {{ ref('dim_brand_targets') }}
    where dimension = '{{ dimension }}'
    group by brand_name

){{ "," if not loop.last }}
{% endfor %}

select
    brands.brand_name,
    brands.brand_source,
    brands.followers_min,
    brands.followers_max{% for dimension in dimensions %},
    target_{{ dimension }}.target_{{ dimension }}{% endfor %}
from brands
{% for dimension in dimensions %}
left join target_{{ dimension }}
    on target_{{ dimension }}.brand_name = brands.brand_name
{% endfor %}
