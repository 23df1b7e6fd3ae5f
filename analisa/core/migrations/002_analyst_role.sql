-- Analysts read gold with plain SQL through a role that can only select. dbt recreates the gold
-- tables on every build, so the grant is a default privilege of the role that runs dbt (the
-- one running these migrations), not a grant on today's tables only.
create schema if not exists gold;

do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'analisa_analyst') then
        create role analisa_analyst nologin;
    end if;
end
$$;

grant usage on schema gold to analisa_analyst;
grant select on all tables in schema gold to analisa_analyst;
alter default privileges in schema gold grant select on tables to analisa_analyst;
