-- One row per (brand, dimension, value) a brand states: its added targets (ops.brand_targets), or
-- the example's seed targets when no brand of that name was added. Formulas in dim_brands.yml.

with

added as (

    select brands.brand_name, targets.dimension, targets.value
    from {{ source('ops', 'brand_targets') }} as targets
    inner join {{ source('ops', 'brands') }} as brands
        on brands.brand_id = targets.brand_id

),

examples as (

    select brand_name, dimension, value
    from {{ ref('example_brand_targets') }}
    where brand_name not in (select brand_name from {{ source('ops', 'brands') }})

)

select * from added
union all
select * from examples
