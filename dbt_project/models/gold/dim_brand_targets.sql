-- One row per (workspace, brand, dimension, value) a brand states: its added targets
-- (ops.brand_targets), or the example's seed targets, in the `default` workspace, when no brand
-- of that name was added there. Formulas in dim_brands.yml.

with

added as (

    select brands.workspace_id, brands.brand_name, targets.dimension, targets.value
    from {{ source('ops', 'brand_targets') }} as targets
    inner join {{ source('ops', 'brands') }} as brands
        on brands.brand_id = targets.brand_id

),

-- the workspace the example brands land in (none: no example brand)
example_workspace as (

    select workspace_id
    from {{ source('ops', 'workspaces') }}
    where name = '{{ example_brands_workspace() }}'

),

examples as (

    select example_workspace.workspace_id, seed.brand_name, seed.dimension, seed.value
    from {{ ref('example_brand_targets') }} as seed
    cross join example_workspace
    where not exists (
        select 1 from {{ source('ops', 'brands') }} as brands
        where brands.workspace_id = example_workspace.workspace_id
            and brands.brand_name = seed.brand_name
    )

)

select * from added
union all
select * from examples
