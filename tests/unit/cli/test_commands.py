"""The `analisa` command as a newcomer meets it: help, version, and arguments that make no sense
refused at once (exit 2) or settings/apps that are not ready explained (exit 1), before any work.

DATABASE_URL points at a port where nothing listens: a command that started its set-up anyway
would fail on the connection instead of printing the expected message.
"""

import re
from importlib.metadata import version

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from analisa.cli import app

NOWHERE = "postgresql://nobody@127.0.0.1:9/nowhere"
COMMANDS = {
    "brands",
    "demo",
    "pipeline",
    "collect",
    "ingest",
    "connect",
    "migrate",
    "serve",
    "sandbox",
    "worker",
    "accounts",
    "tasks",
    "keys",
    "track",
    "token",
    "workspace",
    "clients",
    "db",
    "export",
    "docs",
    "similar",
    "metrics",
    "retention",
    "erase",
    "subject-export",
    "audit",
}
APP_VARIABLES = (
    "INSTAGRAM_CLIENT_ID",
    "INSTAGRAM_CLIENT_SECRET",
    "TIKTOK_CLIENT_KEY",
    "TIKTOK_CLIENT_SECRET",
)


def flat(text: str) -> str:
    """The output without the boxes and line wrapping of the terminal rendering."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """Development settings only, a private home, and a database that cannot be reached."""
    for name in ("ANALISA_ENV", "REDIS_URL", "AMQP_URL", *APP_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", NOWHERE)
    monkeypatch.setenv("ANALISA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_version_prints_the_installed_distribution_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output == f"analisa {version('analisa')}\n"


def test_top_level_help_speaks_to_users():
    result = invoke("--help")
    assert result.exit_code == 0
    text = flat(result.output)
    assert "Analisa evaluates Instagram and TikTok influencers for brands" in text
    assert "analisa demo: the whole pipeline on a local sandbox" in text
    assert "analisa connect instagram, then analisa collect" in text
    assert "--version" in text
    assert "composition root" not in text
    for name in COMMANDS:
        assert re.search(rf"│ {name} +\S", result.output), name


def test_every_command_says_what_it_does():
    commands = get_command(app).commands
    assert set(commands) == COMMANDS
    for name, command in commands.items():
        assert command.help and len(command.help) > 40, name
        result = invoke(name, "--help")
        assert result.exit_code == 0, (name, result.output)
        first_words = " ".join(command.help.split()[:5])
        assert first_words in flat(result.output), name


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["demo", "--influencers", "0"], "'--influencers': Input should be greater than or equal to 1"),
        (["demo", "--influencers", "-3"], "'--influencers': Input should be greater than or equal to 1"),
        (["demo", "--posts", "0"], "'--posts': Input should be greater than or equal to 1"),
        (["demo", "--rounds", "0"], "'--rounds': Input should be greater than or equal to 1"),
        (["demo", "--seed", "-1"], "'--seed': Input should be greater than or equal to 0"),
        (["serve", "--port", "0"], "'--port': Input should be greater than or equal to 1"),
        (["serve", "--port", "65536"], "'--port': Input should be less than or equal to 65535"),
        (["serve", "--dagster-port", "-80"], "'--dagster-port': Input should be greater than"),
        (["serve", "--dagster-port", "8000"], "the API and the Dagster UI cannot share port 8000"),
        (["sandbox", "--port", "70000"], "'--port': Input should be less than or equal to 65535"),
        (["sandbox", "--influencers", "0"], "'--influencers': Input should be greater than"),
        (["sandbox", "--posts", "-1"], "'--posts': Input should be greater than or equal to 1"),
        (["connect", "facebook"], "'facebook' is not one of 'instagram', 'tiktok'"),
        (["connect"], "Missing argument"),
        (["ingest", "no/such/file.jsonl"], "path 'no/such/file.jsonl' does not exist"),
        (["export", "--keep", "-1"], "'--keep': Input should be greater than or equal to 0"),
        (["db", "serve", "--port", "0"], "'--port': Input should be greater than or equal to 1"),
        (["db", "url", "--role", "admin"], "'admin' is not one of 'owner', 'analyst'"),
        (["docs", "--port", "70000"], "'--port': Input should be less than or equal to 65535"),
        (["similar", "instagram", "1", "--limit", "0"], "'--limit' / '-n': Input should be greater than or equal to 1"),
        (["similar", "instagram"], "Missing argument 'account_id'"),
        (["tasks", "sweep", "--older-than", "-1"], "'--older-than': Input should be greater than or equal to 0"),
    ],
)  # fmt: skip
def test_arguments_that_make_no_sense_are_usage_errors(isolated, args, expected):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert expected in flat(result.output)
    assert not (isolated / "home").exists() and not (isolated / "dagster").exists()


def test_ingest_of_a_folder_without_envelope_files_is_a_usage_error(isolated):
    folder = isolated / "exports"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an envelope file\n")
    result = invoke("ingest", str(folder))
    assert result.exit_code == 2
    assert f"no .json, .jsonl (or .gz) file under {folder}" in flat(result.output)


def test_serve_without_dagster_may_use_the_dagster_port_for_the_api(isolated):
    # the clash only matters when both servers start: here the set-up is reached
    result = invoke("serve", "--no-dagster", "--port", "3000")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    text = flat(result.output)
    assert "cannot share port" not in text
    assert text.startswith("Cannot reach the database of DATABASE_URL:")
    assert "port 9 failed" in text


@pytest.mark.parametrize(
    ("platform", "env", "unset"),
    [
        ("instagram", {}, ["INSTAGRAM_CLIENT_ID", "INSTAGRAM_CLIENT_SECRET"]),
        ("instagram", {"INSTAGRAM_CLIENT_ID": "brand-ig-app"}, ["INSTAGRAM_CLIENT_SECRET"]),
        ("instagram", {"INSTAGRAM_CLIENT_SECRET": "brand-ig-secret"}, ["INSTAGRAM_CLIENT_ID"]),
        ("tiktok", {"TIKTOK_CLIENT_SECRET": "brand-tt-secret"}, ["TIKTOK_CLIENT_KEY"]),
        ("tiktok", {}, ["TIKTOK_CLIENT_KEY", "TIKTOK_CLIENT_SECRET"]),
    ],
)
def test_connect_without_a_configured_app_says_what_to_set(
    isolated, monkeypatch, platform, env, unset
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = invoke("connect", platform)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # not a failed database connection
    text = flat(result.output)
    verb = "is" if len(unset) == 1 else "are"
    assert f"app is not configured: {' and '.join(unset)} {verb} still the development" in text
    for name in APP_VARIABLES:
        if name.startswith(platform.upper()):
            assert name in text  # both of the app's variables are listed to set
    assert "OAUTH_REDIRECT_URI" in text
    assert "Open this URL" not in text
    assert "sandbox-instagram-app" not in text and "sandbox-tiktok-app" not in text


def test_sweeping_lost_tasks_without_a_broker_says_why_not(isolated):
    result = invoke("tasks", "sweep")
    assert result.exit_code == 1
    assert "analisa tasks sweep needs AMQP_URL" in flat(result.output)
    assert not (isolated / "home").exists() and not (isolated / "dagster").exists()


SECRET_IG = "ig-secret-4f9a1c77-do-not-print"
SECRET_VAULT = "vault-key-8d2e3b55-do-not-print"
BAD_TTL = "abc-not-a-number"


@pytest.mark.parametrize(
    "args",
    [["migrate"], ["pipeline"], ["collect"], ["connect", "instagram"], ["demo"], ["serve"]],
)
def test_invalid_settings_end_the_command_with_names_and_no_values(isolated, monkeypatch, args):
    monkeypatch.setenv("ANALISA_ENV", "production")
    monkeypatch.setenv("INSTAGRAM_CLIENT_SECRET", SECRET_IG)
    monkeypatch.setenv("ANALISA_VAULT_KEY", SECRET_VAULT)
    monkeypatch.setenv("ANALISA_API_CACHE_TTL", BAD_TTL)
    result = invoke(*args)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    output = result.output
    assert "Traceback" not in output
    for value in (SECRET_IG, SECRET_VAULT, BAD_TTL, NOWHERE):
        assert value not in output
    assert "input_value" not in output
    lines = [line.strip() for line in output.splitlines()]
    assert lines[0] == "invalid settings (values not shown):"
    assert lines[1:] == [
        "REDIS_URL: must be set in production",
        "AMQP_URL: must be set in production",
        "ANALISA_PSEUDONYM_KEY: is the development default, refused in production",
        "ANALISA_JWT_SECRET: is the development default, refused in production",
        "FACEBOOK_APP_SECRET: is the development default, refused in production",
        "TIKTOK_CLIENT_SECRET: is the development default, refused in production",
        "ANALISA_API_CACHE_TTL: Input should be a valid integer, unable to parse string as an "
        "integer",
    ]
