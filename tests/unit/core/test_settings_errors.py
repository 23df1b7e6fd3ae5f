"""Settings errors name each environment variable and its problem, and never show a value:
pydantic's own message repeats the input (secrets included) after `input_value=`."""

import traceback

import pytest

from analisa.core.settings import Settings, SettingsError, get_settings

SECRET_IG = "ig-secret-4f9a1c77-do-not-print"
SECRET_VAULT = "vault-key-8d2e3b55-do-not-print"
BAD_TTL = "abc-not-a-number"
SERVICES = ("DATABASE_URL", "REDIS_URL", "AMQP_URL")


@pytest.fixture
def production_with_secrets(monkeypatch):
    """Production with two real-looking secrets, a typed setting that does not parse, no services
    and the other secrets at their development defaults."""
    for name in (
        *SERVICES,
        "ANALISA_PSEUDONYM_KEY",
        "ANALISA_JWT_SECRET",
        "TIKTOK_CLIENT_SECRET",
        "FACEBOOK_APP_SECRET",
        "ANALISA_LOG_JSON",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANALISA_ENV", "production")
    monkeypatch.setenv("INSTAGRAM_CLIENT_SECRET", SECRET_IG)
    monkeypatch.setenv("ANALISA_VAULT_KEY", SECRET_VAULT)
    monkeypatch.setenv("ANALISA_API_CACHE_TTL", BAD_TTL)


def _assert_no_values(text: str) -> None:
    for value in (SECRET_IG, SECRET_VAULT, BAD_TTL):
        assert value not in text
    assert "input_value" not in text


def test_every_problem_is_named_by_its_variable_without_its_value(production_with_secrets):
    with pytest.raises(SettingsError) as info:
        Settings()
    error = info.value
    refused = "is the development default, refused in production"
    # field order: services, secrets (the two set here pass), then the serving settings
    assert error.problems == [
        ("DATABASE_URL", "must be set in production"),
        ("REDIS_URL", "must be set in production"),
        ("AMQP_URL", "must be set in production"),
        ("ANALISA_PSEUDONYM_KEY", refused),
        ("ANALISA_JWT_SECRET", refused),
        ("FACEBOOK_APP_SECRET", refused),
        ("TIKTOK_CLIENT_SECRET", refused),
        (
            "ANALISA_API_CACHE_TTL",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
    ]
    message = str(error)
    assert message.splitlines()[0] == "invalid settings (values not shown):"
    assert len(message.splitlines()) == 9
    _assert_no_values(message)
    _assert_no_values(repr(error))
    # nothing chained either: a printed traceback would show the ValidationError's text
    assert error.__cause__ is None and error.__context__ is None
    _assert_no_values("".join(traceback.format_exception(error)))


def test_the_cached_loader_raises_the_same_error(production_with_secrets):
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match="ANALISA_API_CACHE_TTL: Input should be a valid"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_typed_settings_are_named_outside_production(monkeypatch):
    monkeypatch.delenv("ANALISA_ENV", raising=False)
    monkeypatch.setenv("ANALISA_LOG_JSON", "perhaps-7731")
    monkeypatch.setenv("ANALISA_API_REDIS_MAX_CONNECTIONS", "many-7731")
    with pytest.raises(SettingsError) as info:
        Settings()
    assert info.value.problems == [
        ("ANALISA_API_REDIS_MAX_CONNECTIONS", "Input should be a valid integer, unable to parse "
         "string as an integer"),
        ("ANALISA_LOG_JSON", "Input should be a valid boolean, unable to interpret input"),
    ]  # fmt: skip
    assert "7731" not in str(info.value)


def test_an_unknown_environment_is_reported_without_production_checks(monkeypatch):
    for name in SERVICES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ANALISA_ENV", "prod")
    with pytest.raises(SettingsError) as info:
        Settings()
    # without a valid ANALISA_ENV the production rules do not apply, so only it is named
    assert info.value.problems == [
        ("ANALISA_ENV", "Input should be 'development', 'test' or 'production'")
    ]


def test_keyword_overrides_are_named_by_their_variable_too():
    with pytest.raises(SettingsError) as info:
        Settings(ANALISA_API_CACHE_TTL="soon")
    assert [variable for variable, _ in info.value.problems] == ["ANALISA_API_CACHE_TTL"]
    assert "soon" not in str(info.value)
    # and a valid override still works
    assert Settings(ANALISA_API_CACHE_TTL="42").api_cache_ttl_seconds == 42
