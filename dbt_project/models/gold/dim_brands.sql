-- One row per (workspace, brand): the brands added with `analisa brands add` (ops.brands, each
-- in its workspace) and the example brands of the seed, in the `default` workspace, whose name
-- no brand added there took. Formulas in dim_brands.yml.

with

workspaces as (

    select workspace_id, name as workspace
    from {{ source('ops', 'workspaces') }}

),

added as (

    select workspace_id, brand_name, followers_min, followers_max, 'added' as brand_source
    from {{ source('ops', 'brands') }}

),

examples as (

    select
        workspaces.workspace_id,
        seed.brand_name,
        seed.followers_min,
        seed.followers_max,
        'example' as brand_source
    from {{ ref('example_brands') }} as seed
    inner join workspaces
        on workspaces.workspace = '{{ example_brands_workspace() }}'
    where not exists (
        select 1 from added
        where added.workspace_id = workspaces.workspace_id
            and added.brand_name = seed.brand_name
    )

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
        workspace_id,
        brand_name,
        {{ dbt.listagg('value', "'; '", 'order by value') }} as target_{{ dimension }}
    from {{ ref('dim_brand_targets') }}
    where dimension = '{{ dimension }}'
    group by workspace_id, brand_name

){{ "," if not loop.last }}
{% endfor %}

select
    brands.workspace_id,
    workspaces.workspace,
    brands.brand_name,
    brands.brand_source,
    brands.followers_min,
    brands.followers_max{% for dimension in dimensions %},
    target_{{ dimension }}.target_{{ dimension }}{% endfor %}
from brands
inner join workspaces
    on workspaces.workspace_id = brands.workspace_id
{% for dimension in dimensions %}
left join target_{{ dimension }}
    on target_{{ dimension }}.workspace_id = brands.workspace_id
    and target_{{ dimension }}.brand_name = brands.brand_name
{% endfor %}
