-- Brands belong to a workspace: ops.brands gains workspace_id, names are unique per workspace
-- (two workspaces may each have a brand "Acme"), and ops.workspace_brands (migration 005), the
-- API's second record of which workspace may read which brand, goes away. The workspace named
-- `default` holds the brands of a single-tenant install and the example brands of the dbt seed;
-- `analisa brands add` uses it when no --workspace is given.
--
-- Existing rows move as follows:
--   * a brand linked to one workspace in ops.workspace_brands moves to that workspace;
--   * a brand linked to several workspaces moves to the first (lowest workspace id) and is
--     copied, with its bounds and targets, into each of the others: from here on each copy is
--     edited on its own;
--   * a link naming no brand of ops.brands (an example brand of the seed, or a name never added)
--     becomes a brand of that workspace, with the example's bounds and targets when the seed is
--     built in this database (gold.example_brands), with no target otherwise;
--   * a brand linked to no workspace moves to `default`.
create schema if not exists ops;

insert into ops.workspaces (name) values ('default') on conflict (name) do nothing;

alter table ops.brands add column if not exists workspace_id bigint
    references ops.workspaces (workspace_id) on delete cascade;
alter table ops.brands drop constraint if exists brands_brand_name_key;

do $$
declare
    link record;
    new_id bigint;
    seeded boolean := to_regclass('gold.example_brands') is not null
        and to_regclass('gold.example_brand_targets') is not null;
begin
    if to_regclass('ops.workspace_brands') is null then
        return;
    end if;
    for link in
        select wb.workspace_id, wb.brand, b.brand_id,
               row_number() over (partition by wb.brand order by wb.workspace_id) as n
        from ops.workspace_brands wb
        left join ops.brands b on b.brand_name = wb.brand
        order by wb.brand, wb.workspace_id
    loop
        if link.brand_id is not null and link.n = 1 then
            update ops.brands set workspace_id = link.workspace_id where brand_id = link.brand_id;
        elsif link.brand_id is not null then
            insert into ops.brands
                (workspace_id, brand_name, followers_min, followers_max, created_at, updated_at)
            select link.workspace_id, brand_name, followers_min, followers_max, created_at,
                   updated_at
            from ops.brands where brand_id = link.brand_id
            returning brand_id into new_id;
            insert into ops.brand_targets (brand_id, dimension, value)
            select new_id, dimension, value from ops.brand_targets where brand_id = link.brand_id;
            raise notice 'brand % copied into workspace %', link.brand, link.workspace_id;
        else
            insert into ops.brands (workspace_id, brand_name)
            values (link.workspace_id, link.brand)
            returning brand_id into new_id;
            if seeded then
                execute 'update ops.brands b set followers_min = e.followers_min,'
                    ' followers_max = e.followers_max from gold.example_brands e'
                    ' where b.brand_id = $1 and e.brand_name = $2'
                    using new_id, link.brand;
                execute 'insert into ops.brand_targets (brand_id, dimension, value)'
                    ' select distinct $1, dimension, value from gold.example_brand_targets'
                    ' where brand_name = $2 and dimension in'
                    ' (''age'', ''gender'', ''country'', ''city'', ''interest'')'
                    ' and length(value) > 0'
                    using new_id, link.brand;
            end if;
            raise notice 'link to % became a brand of workspace %', link.brand, link.workspace_id;
        end if;
    end loop;
end
$$;

update ops.brands
set workspace_id = (select workspace_id from ops.workspaces where name = 'default')
where workspace_id is null;

alter table ops.brands alter column workspace_id set not null;
alter table ops.brands
    add constraint brands_workspace_name_key unique (workspace_id, brand_name);

drop table if exists ops.workspace_brands;

-- The API reads a workspace's brands (its listing, and the 404 for another's) from here.
do $$
begin
    execute format('grant select on ops.brands to %I', ops.api_role_name());
end
$$;
