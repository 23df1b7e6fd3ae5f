"""`analisa brands` against the real database: a brand and its targets stored as stated in its
workspace (`default` unless --workspace), values checked against the lists gold uses (nonsense
refused with exit 2 before anything is stored), an existing brand kept unless --replace, removal,
the same name in two workspaces, and `analisa workspace add-brand` copying a default brand."""

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


def stored(db_url, workspace: str = "default"):
    with psycopg.connect(db_url) as conn:
        brands = conn.execute(
            "select b.brand_name, b.followers_min, b.followers_max from ops.brands b "
            "join ops.workspaces w using (workspace_id) where w.name = %s order by 1",
            (workspace,),
        ).fetchall()
        targets = conn.execute(
            "select b.brand_name, t.dimension, t.value from ops.brand_targets t "
            "join ops.brands b using (brand_id) join ops.workspaces w using (workspace_id) "
            "where w.name = %s order by 1, 2, 3",
            (workspace,),
        ).fetchall()
    return brands, targets


def flat(output: str) -> str:
    return " ".join(output.replace("│", " ").split())


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
    assert "added brand Loja Fit in workspace default" in result.output
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
    assert "exists in this workspace; add --replace" in again.output
    assert len(stored(cli_db)[1]) == 9  # untouched

    replaced = invoke("add", "Loja Fit", "--interest", "travel", "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert stored(cli_db) == ([("Loja Fit", None, None)], [("Loja Fit", "interest", "travel")])

    listed = invoke("list")
    assert listed.output.splitlines() == ["workspace default:", "  Loja Fit: interest travel"]

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
        (["--workspace", "Not A Name"], "workspace names are 1-63 characters"),
        (["--workspace", "nobody"], "no workspace named 'nobody'"),
    ],
)
def test_nonsense_is_refused_before_anything_is_stored(cli_db, args, message):
    result = invoke("add", "B", *args)
    assert result.exit_code == (1 if "--workspace" in args else 2)
    assert message in flat(result.output)
    assert stored(cli_db) == ([], [])


def test_a_url_unsafe_brand_name_is_refused(cli_db):
    result = invoke("add", "Acme/Fit")
    assert result.exit_code == 2
    assert "brand names are 1-128 letters" in flat(result.output)
    assert stored(cli_db) == ([], [])


def test_two_workspaces_each_have_their_own_brand_of_one_name(cli_db):
    assert CliRunner().invoke(app, ["workspace", "create", "agency"]).exit_code == 0
    home = invoke("add", "Acme", "--country", "BR", "--followers-min", "100")
    theirs = invoke("add", "Acme", "-w", "agency", "--country", "PT")
    assert (home.exit_code, theirs.exit_code) == (0, 0), home.output + theirs.output
    assert "added brand Acme in workspace agency: country PT" in flat(theirs.output)
    assert stored(cli_db) == ([("Acme", 100, None)], [("Acme", "country", "BR")])
    assert stored(cli_db, "agency") == ([("Acme", None, None)], [("Acme", "country", "PT")])

    assert invoke("list").output.splitlines() == [
        "workspace agency:",
        "  Acme: country PT",
        "workspace default:",
        "  Acme: country BR; followers 100 to any",
    ]
    assert invoke("list", "--workspace", "agency").output.splitlines() == [
        "workspace agency:",
        "  Acme: country PT",
    ]

    removed = invoke("remove", "Acme", "--workspace", "agency")
    assert removed.exit_code == 0 and "removed brand Acme from workspace agency" in removed.output
    assert stored(cli_db, "agency") == ([], [])
    assert stored(cli_db) == ([("Acme", 100, None)], [("Acme", "country", "BR")])
    again = invoke("remove", "Acme", "--workspace", "agency")
    assert (again.exit_code, flat(again.output)) == (1, "no brand named 'Acme' in workspace agency")


def test_workspace_add_brand_copies_a_default_brand_or_an_example(cli_db):
    def workspace(*args: str):
        return CliRunner().invoke(app, ["workspace", *args])

    assert workspace("create", "acme").exit_code == 0
    assert invoke("add", "Loja Fit", "--interest", "fitness", "--age", "18-24").exit_code == 0

    copied = workspace("add-brand", "acme", "Loja Fit")
    assert copied.exit_code == 0, copied.output
    assert "brand Loja Fit copied from default into acme" in flat(copied.output)
    assert stored(cli_db, "acme") == (
        [("Loja Fit", None, None)],
        [("Loja Fit", "age", "18-24"), ("Loja Fit", "interest", "fitness")],
    )
    # the copy is the workspace's own: redefining it leaves the default's alone
    assert invoke("add", "Loja Fit", "-w", "acme", "--interest", "food", "--replace").exit_code == 0
    assert stored(cli_db)[1] == [("Loja Fit", "age", "18-24"), ("Loja Fit", "interest", "fitness")]
    again = workspace("add-brand", "acme", "Loja Fit")
    assert (again.exit_code, flat(again.output)) == (0, "brand Loja Fit is already in acme")
    assert stored(cli_db, "acme")[1] == [("Loja Fit", "interest", "food")]

    # an example brand of the seed (it lives in the default workspace) comes with its targets
    example = workspace("add-brand", "acme", "Sabor de Casa (example)")
    assert example.exit_code == 0, example.output
    assert stored(cli_db, "acme")[0] == [
        ("Loja Fit", None, None),
        ("Sabor de Casa (example)", 5000, None),
    ]
    assert [t for t in stored(cli_db, "acme")[1] if t[0] != "Loja Fit"] == [
        ("Sabor de Casa (example)", "country", "BR"),
        ("Sabor de Casa (example)", "country", "PT"),
        ("Sabor de Casa (example)", "interest", "food"),
    ]

    unknown = workspace("add-brand", "acme", "Nobody")
    assert unknown.exit_code == 1
    assert "no brand 'Nobody' in the default workspace or the examples" in flat(unknown.output)


def test_help_names_the_workspace_and_its_default():
    add_help = flat(CliRunner().invoke(app, ["brands", "add", "--help"]).output)
    assert "--workspace -w" in add_help and "[default: default]" in add_help
    assert "Without it: default, the workspace of a single-tenant install" in add_help
    copy_help = flat(CliRunner().invoke(app, ["workspace", "add-brand", "--help"]).output)
    assert "own copy of a brand of the default workspace" in copy_help
