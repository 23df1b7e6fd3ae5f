-- Brands and their targets, as `analisa brands add` stores them; gold.brand_influencer_fit reads
-- them (with the example brands of the dbt seed). Targets are one row per stated value, not
-- arrays, so dbt reads them the same way on any warehouse.
create schema if not exists ops;

create table if not exists ops.brands (
    brand_id      bigint generated always as identity primary key,
    brand_name    text        not null unique check (length(trim(brand_name)) > 0),
    followers_min bigint      check (followers_min >= 0),
    followers_max bigint      check (followers_max >= 0),
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    check (followers_min is null or followers_max is null or followers_min <= followers_max)
);

create table if not exists ops.brand_targets (
    brand_id  bigint not null references ops.brands (brand_id) on delete cascade,
    dimension text   not null check (dimension in ('age', 'gender', 'country', 'city', 'interest')),
    value     text   not null check (length(value) > 0),
    primary key (brand_id, dimension, value)
);
