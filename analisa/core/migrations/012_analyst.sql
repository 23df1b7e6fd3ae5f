-- Analysts read gold through a role of this database only. Roles are cluster-wide in PostgreSQL:
-- the `analisa_analyst` of 002 read gold in every database migrated on the server. Each database
-- now has its own analyst role, named from the database as the API role is (006) by
-- ops.analyst_role_name(), and granted here only; `analisa_analyst` loses its grants here (it is
-- not dropped: another database on the server may still be migrated only up to 011).
--
-- The role starts NOLOGIN: `analisa db url --role analyst --new-password` and `analisa db serve`
-- give it a password (as a SCRAM verifier: the password itself never reaches the server).
create schema if not exists gold;

create or replace function ops.analyst_role_name() returns text
language sql stable as $$
    select left(regexp_replace(current_database(), '[^a-zA-Z0-9_]', '_', 'g'), 40)
        || '_analyst_' || left(md5(current_database()), 8)
$$;

do $$
declare
    analyst text := ops.analyst_role_name();
begin
    if not exists (select 1 from pg_roles where rolname = analyst) then
        execute format(
            'create role %I nologin nosuperuser nocreatedb nocreaterole noinherit noreplication',
            analyst
        );
    end if;
    execute format('grant connect on database %I to %I', current_database(), analyst);
    execute format('grant usage on schema gold to %I', analyst);
    execute format('grant select on all tables in schema gold to %I', analyst);
    -- dbt recreates gold on every build: the grant follows as a default privilege of the role
    -- that runs dbt (the one running these migrations)
    execute format('alter default privileges in schema gold grant select on tables to %I', analyst);
    -- read only, and bounded, whatever a BI tool sets up
    execute format(
        'alter role %I in database %I set default_transaction_read_only = on',
        analyst, current_database()
    );
    execute format(
        'alter role %I in database %I set statement_timeout = %L',
        analyst, current_database(), '15min'
    );
    if exists (select 1 from pg_roles where rolname = 'analisa_analyst') then
        revoke select on all tables in schema gold from analisa_analyst;
        alter default privileges in schema gold revoke select on tables from analisa_analyst;
        revoke usage on schema gold from analisa_analyst;
    end if;
end
$$;
