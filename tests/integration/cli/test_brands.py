"""`analisa brands` against the real database: a brand and its targets stored as stated, values
checked against the lists gold uses (nonsense refused with exit 2 before anything is stored),
an existing brand kept unless --replace, and removal."""

from __future__ import annotations

import psycopg
import pytest
from typer.testing import CliRunner

from analisa.cli import app
from analisa.cli.brands import known_interests
from analisa.core.settings import get_settings


@pytest.fixture
def cli_db(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ANALISA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def invoke(*args: str):
    return CliRunner().invoke(app, ["brands", *args])


def stored(db_url):
    with psycopg.connect(db_url) as conn:
        brands = conn.execute(
            "select brand_name, followers_min, followers_max from ops.brands order by 1"
        ).fetchall()
        targets = conn.execute(
            "select b.brand_name, t.dimension, t.value from ops.brand_targets t "
            "join ops.brands b using (brand_id) order by 1, 2, 3"
        ).fetchall()
    return brands, targets


def test_the_interests_are_the_taxonomy_seeds():
    assert known_interests() == tuple(
        sorted(
            [
                "fitness",
                "beauty",
                "fashion",
                "food",
                "travel",
                "gaming",
                "tech",
                "music",
                "parenting",
                "finance",
                "pets",
                "sports",
                "education",
                "humor",
                "lifestyle",
            ]
        )
    )


def test_add_list_replace_and_remove(cli_db):
    result = invoke(
        "add",
        "Loja Fit",
        "--age",
        "18-24,25-34",
        "--gender",
        "f",
        "--country",
        "br,PT",
        "--city",
        "São Paulo, São Paulo",
        "--city",
        "Lisbon, Lisboa",
        "--interest",
        "Fitness,food",
        "--followers-min",
        "10000",
    )
    assert result.exit_code == 0, result.output
    assert "added brand Loja Fit" in result.output
    assert stored(cli_db) == (
        [("Loja Fit", 10000, None)],
        [
            ("Loja Fit", "age", "18-24"),
            ("Loja Fit", "age", "25-34"),
            ("Loja Fit", "city", "Lisbon, Lisboa"),
            ("Loja Fit", "city", "São Paulo, São Paulo"),
            ("Loja Fit", "country", "BR"),
            ("Loja Fit", "country", "PT"),
            ("Loja Fit", "gender", "F"),
            ("Loja Fit", "interest", "fitness"),
            ("Loja Fit", "interest", "food"),
        ],
    )

    again = invoke("add", "Loja Fit", "--interest", "travel")
    assert again.exit_code == 1
    assert "exists; add --replace" in again.output
    assert len(stored(cli_db)[1]) == 9  # untouched

    replaced = invoke("add", "Loja Fit", "--interest", "travel", "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert stored(cli_db) == ([("Loja Fit", None, None)], [("Loja Fit", "interest", "travel")])

    listed = invoke("list")
    assert "Loja Fit: interest travel" in listed.output

    assert invoke("remove", "Loja Fit").exit_code == 0
    assert stored(cli_db) == ([], [])
    assert invoke("remove", "Loja Fit").exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--age", "18-25"], "unknown age band 18-25"),
        (["--gender", "X"], "unknown gender X"),
        (["--country", "Brazil"], "two-letter ISO codes"),
        (["--interest", "cooking"], "unknown interest cooking"),
        (["--followers-min", "5", "--followers-max", "4"], "above --followers-max"),
    ],
)
def test_nonsense_is_refused_before_anything_is_stored(cli_db, args, message):
    result = invoke("add", "B", *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())
    assert stored(cli_db) == ([], [])
