-- The role the API connects as: it reads gold and what authentication and the admin endpoints
-- need, nothing else (no bronze, silver, tokens of the platforms). Roles are cluster-wide in
-- PostgreSQL, so its name is derived from the database's (ops.api_role_name()): each database
-- has its own, granted only there. dbt recreates the gold tables on every build, so reading
-- gold is a default privilege of the role that runs dbt (the one running these migrations).
create schema if not exists gold;

create or replace function ops.api_role_name() returns text
language sql stable as $$
    select left(regexp_replace(current_database(), '[^a-zA-Z0-9_]', '_', 'g'), 40)
        || '_api_' || left(md5(current_database()), 8)
$$;

do $$
declare
    api_role text := ops.api_role_name();
begin
    if not exists (select 1 from pg_roles where rolname = api_role) then
        -- LOGIN without a password: `analisa serve` sets one for each start (serving_api.db_role)
        execute format('create role %I login nosuperuser nocreatedb nocreaterole noinherit', api_role);
    end if;
    execute format('grant connect on database %I to %I', current_database(), api_role);
    execute format('grant usage on schema gold to %I', api_role);
    execute format('grant select on all tables in schema gold to %I', api_role);
    execute format('alter default privileges in schema gold grant select on tables to %I', api_role);
    execute format('grant usage on schema ops to %I', api_role);
    execute format('grant execute on function ops.api_role_name() to %I', api_role);
    execute format('grant select on ops.workspaces, ops.workspace_brands, ops.gate_row_counts to %I', api_role);
    execute format('grant select, insert, delete on ops.workspace_influencers to %I', api_role);
    execute format('grant select, insert, update on ops.api_clients to %I', api_role);
    execute format('grant select, insert on ops.erasure_requests to %I', api_role);
    execute format('grant usage on sequence ops.erasure_requests_request_id_seq to %I', api_role);
end
$$;
