import pytest

from analisa.core.crypto import TokenVault, VaultError, new_vault_key, pseudonymise
from analisa.core.db import normalize_url, sqlalchemy_url, url_parts, with_database
from analisa.core.settings import Settings, SettingsError

DEV_DEFAULT_VARIABLES = (
    "ANALISA_VAULT_KEY",
    "ANALISA_PSEUDONYM_KEY",
    "ANALISA_JWT_SECRET",
    "INSTAGRAM_CLIENT_SECRET",
    "TIKTOK_CLIENT_SECRET",
    "FACEBOOK_APP_SECRET",
)


def test_production_refuses_development_secrets_and_missing_services(monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "AMQP_URL", *DEV_DEFAULT_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANALISA_ENV", "production")
    with pytest.raises(SettingsError) as info:
        Settings()
    refused = "is the development default, refused in production"
    assert info.value.problems == [
        ("DATABASE_URL", "must be set in production"),
        ("REDIS_URL", "must be set in production"),
        ("AMQP_URL", "must be set in production"),
        ("ANALISA_VAULT_KEY", refused),
        ("ANALISA_PSEUDONYM_KEY", refused),
        ("ANALISA_JWT_SECRET", refused),
        ("INSTAGRAM_CLIENT_SECRET", refused),
        ("FACEBOOK_APP_SECRET", refused),
        ("TIKTOK_CLIENT_SECRET", refused),
    ]
    assert "  ANALISA_VAULT_KEY: is the development default" in str(info.value)


def test_production_accepts_real_secrets(monkeypatch):
    env = {
        "ANALISA_ENV": "production",
        "ANALISA_VAULT_KEY": new_vault_key(),
        "ANALISA_PSEUDONYM_KEY": "p" * 32,
        "ANALISA_JWT_SECRET": "j" * 32,
        "INSTAGRAM_CLIENT_SECRET": "ig-secret",
        "TIKTOK_CLIENT_SECRET": "tt-secret",
        "FACEBOOK_APP_SECRET": "fb-secret",
        "DATABASE_URL": "postgresql://u@db/analisa",
        "REDIS_URL": "redis://cache:6379/0",
        "AMQP_URL": "amqp://guest:guest@mq:5672/%2F",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    settings = Settings()
    assert settings.env == "production"
    assert settings.database_url == "postgresql://u@db/analisa"


def test_vault_round_trip_and_binding_to_context():
    vault = TokenVault(new_vault_key())
    blob = vault.encrypt("IGAAsecret", context="instagram:1:a")
    assert b"IGAAsecret" not in blob
    assert vault.decrypt(blob, context="instagram:1:a") == "IGAAsecret"
    # the same ciphertext moved to another account's row does not decrypt
    with pytest.raises(VaultError):
        vault.decrypt(blob, context="instagram:2:a")
    with pytest.raises(VaultError):
        TokenVault(new_vault_key()).decrypt(blob, context="instagram:1:a")


def test_vault_refuses_short_key():
    with pytest.raises(VaultError, match="32 bytes"):
        TokenVault("c2hvcnQ=")


def test_pseudonymise_is_keyed_and_stable():
    assert pseudonymise("someone", "k1") == pseudonymise("someone", "k1")
    assert pseudonymise("someone", "k1") != pseudonymise("someone", "k2")
    assert len(pseudonymise("someone", "k1")) == 64


def test_database_url_helpers():
    assert normalize_url("postgresql+psycopg2://u:p@h:5433/db") == "postgresql://u:p@h:5433/db"
    assert normalize_url("postgres://u@h/db") == "postgresql://u@h/db"
    assert sqlalchemy_url("postgresql://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert with_database("postgresql://u@h:5432/postgres", "x") == "postgresql://u@h:5432/x"
    socket = url_parts("postgresql://postgres:@/postgres?host=/run/pg")
    assert socket == {
        "host": "/run/pg",
        "port": "5432",
        "user": "postgres",
        "password": "",
        "dbname": "postgres",
    }
    assert url_parts("postgresql://a:b%40c@db:6543/analisa")["password"] == "b@c"


def test_generic_environment_names_do_not_leak_into_settings(monkeypatch):
    monkeypatch.setenv("HOME", "/elsewhere")
    monkeypatch.setenv("ENV", "production")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.delenv("ANALISA_HOME", raising=False)
    monkeypatch.delenv("ANALISA_ENV", raising=False)
    settings = Settings()
    assert str(settings.home) == ".analisa"
    assert settings.env == "development"
    assert settings.log_level == "INFO"
