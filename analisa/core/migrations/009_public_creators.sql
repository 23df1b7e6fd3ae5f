-- Public creators: a brand's business account connected through Facebook Login reads other
-- creators' public profile and media through Business Discovery (`analisa track instagram`).
create table if not exists ops.discovery_logins (
    business_account_id text        primary key,  -- the brand's Instagram business account
    page_id             text,
    page_name           text,
    access_token_enc    bytea       not null,     -- AES-256-GCM, like ops.oauth_tokens
    access_expires_at   timestamptz,
    key_id              text,
    updated_at          timestamptz not null default now()
);
