-- The brand's Facebook Login (Business Discovery) is renewed before it expires: when its data
-- access ends (no renewal moves it), and why it needs a new login when it cannot be renewed.
alter table ops.discovery_logins
    add column if not exists data_access_expires_at timestamptz,
    add column if not exists needs_reauth           boolean not null default false,
    add column if not exists reauth_reason          text;
