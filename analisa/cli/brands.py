"""`analisa brands`: the brands influencers are evaluated for, and the audience each targets.

Stored in ops.brands / ops.brand_targets (migrations 007, 018). A brand belongs to one workspace
(`default` unless --workspace names another) and its name is unique there only;
gold.brand_influencer_fit scores every influencer against each on the next build, carrying the
workspace, and the API shows a workspace its own brands only. Values are checked here against
the same lists gold uses (catalog age bands and genders, the dbt interest taxonomy), so a typo
is refused at once instead of silently matching nothing.
"""

from __future__ import annotations

import csv
import os
import re
from functools import cache
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from analisa.cli._access import bump_workspace_version
from analisa.cli.runtime import console, fail, setup
from analisa.core.catalog import AGE_BANDS, GENDERS

app = typer.Typer(
    help="Brands and the audience they target (age, gender, country, city, interest, size), "
    "each in a workspace (`default` unless --workspace); gold scores every influencer's fit "
    "for each.",
    no_args_is_help=True,
)

_TAXONOMY = Path("seeds") / "gold" / "interest_taxonomy.csv"


def _dbt_project_dir() -> Path:
    """The dbt project, where orchestration finds it too (ANALISA_DBT_PROJECT_DIR overrides)."""
    default = Path(__file__).resolve().parents[2] / "dbt_project"
    return Path(os.environ.get("ANALISA_DBT_PROJECT_DIR", default))


@cache
def known_interests() -> tuple[str, ...]:
    """The interests of the dbt taxonomy seed: the only ones gold can find in captions."""
    with (_dbt_project_dir() / _TAXONOMY).open(encoding="utf-8", newline="") as f:
        return tuple(sorted({row["interest"] for row in csv.DictReader(f)}))


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parse_targets(
    age: str | None,
    gender: str | None,
    country: str | None,
    city: list[str] | None,
    interest: str | None,
) -> dict[str, list[str]]:
    """The targets by dimension, checked and normalised; BadParameter names what is wrong."""
    targets: dict[str, list[str]] = {}
    ages = _split(age)
    if bad := [a for a in ages if a not in AGE_BANDS]:
        raise typer.BadParameter(
            f"unknown age band {', '.join(bad)} (expected {', '.join(AGE_BANDS)})",
            param_hint="--age",
        )
    genders = [g.upper() for g in _split(gender)]
    if bad := [g for g in genders if g not in GENDERS]:
        raise typer.BadParameter(
            f"unknown gender {', '.join(bad)} (expected {', '.join(GENDERS)})",
            param_hint="--gender",
        )
    countries = [c.upper() for c in _split(country)]
    if bad := [c for c in countries if not re.fullmatch(r"[A-Z]{2}", c)]:
        raise typer.BadParameter(
            f"{', '.join(bad)}: countries are two-letter ISO codes (BR, PT)", param_hint="--country"
        )
    cities = [c.strip() for c in city or [] if c.strip()]
    interests = [i.lower() for i in _split(interest)]
    if bad := [i for i in interests if i not in known_interests()]:
        raise typer.BadParameter(
            f"unknown interest {', '.join(bad)} (expected one of {', '.join(known_interests())})",
            param_hint="--interest",
        )
    for dimension, values in (
        ("age", ages),
        ("gender", genders),
        ("country", countries),
        ("city", cities),
        ("interest", interests),
    ):
        if values:
            targets[dimension] = list(dict.fromkeys(values))
    return targets


def find_workspace_id(conn: psycopg.Connection, workspace: str) -> int:
    """The id of a workspace by name; a clear error (exit 1) when there is none."""
    from serving_api.workspaces import WorkspaceError, find_workspace

    try:
        return find_workspace(conn, workspace).workspace_id
    except WorkspaceError as exc:
        raise fail(str(exc)) from None


def check_brand_name(name: str) -> str:
    """The name trimmed; BadParameter when the API could not address it in a URL."""
    from serving_api.workspaces import BRAND

    name = name.strip()
    if not BRAND.fullmatch(name):
        raise typer.BadParameter(
            "brand names are 1-128 letters, digits, spaces and . & ' - _ ( )",
            param_hint="NAME",
        )
    return name


def save_brand(
    conn: psycopg.Connection,
    workspace_id: int,
    name: str,
    targets: dict[str, list[str]],
    followers_min: int | None,
    followers_max: int | None,
    replace: bool,
) -> bool:
    """Store the workspace's brand and its targets in one transaction; True when it replaced
    one. Names are unique within a workspace, not across workspaces."""
    with conn.transaction():
        row = conn.execute(
            "select brand_id from ops.brands where workspace_id = %s and brand_name = %s "
            "for update",
            (workspace_id, name),
        ).fetchone()
        if row and not replace:
            raise ValueError(
                f"brand {name!r} exists in this workspace; add --replace to redefine it"
            )
        if row:
            brand_id = row[0]
            conn.execute(
                "update ops.brands set followers_min = %s, followers_max = %s, updated_at = now() "
                "where brand_id = %s",
                (followers_min, followers_max, brand_id),
            )
            conn.execute("delete from ops.brand_targets where brand_id = %s", (brand_id,))
        else:
            brand_id = conn.execute(
                "insert into ops.brands (workspace_id, brand_name, followers_min, followers_max) "
                "values (%s, %s, %s, %s) returning brand_id",
                (workspace_id, name, followers_min, followers_max),
            ).fetchone()[0]
        conn.cursor().executemany(
            "insert into ops.brand_targets (brand_id, dimension, value) values (%s, %s, %s)",
            [(brand_id, d, v) for d, values in targets.items() for v in values],
        )
    return row is not None


def example_brands() -> dict[str, tuple[int | None, int | None, dict[str, list[str]]]]:
    """The example brands of the dbt seeds: name → (followers_min, followers_max, targets)."""
    seeds = _dbt_project_dir() / "seeds" / "gold"
    examples: dict[str, tuple[int | None, int | None, dict[str, list[str]]]] = {}
    with (seeds / "example_brands.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            low, high = (
                int(v) if v else None for v in (row["followers_min"], row["followers_max"])
            )
            examples[row["brand_name"]] = (low, high, {})
    with (seeds / "example_brand_targets.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["brand_name"] in examples:
                targets = examples[row["brand_name"]][2]
                targets.setdefault(row["dimension"], []).append(row["value"])
    return examples


def copy_default_brand(
    conn: psycopg.Connection, default_workspace_id: int, target_workspace_id: int, name: str
) -> str:
    """Give a workspace its own copy of a brand of the default workspace (one added there, else
    an example brand of the seed, which lives there): "copied", or "exists" when the workspace
    has a brand of that name already. LookupError when the default workspace has no such brand.
    The copy is edited on its own afterwards."""
    with conn.transaction():
        if conn.execute(
            "select 1 from ops.brands where workspace_id = %s and brand_name = %s",
            (target_workspace_id, name),
        ).fetchone():
            return "exists"
        source = conn.execute(
            "select brand_id, followers_min, followers_max from ops.brands "
            "where workspace_id = %s and brand_name = %s",
            (default_workspace_id, name),
        ).fetchone()
        if source is not None:
            targets: dict[str, list[str]] = {}
            for dimension, value in conn.execute(
                "select dimension, value from ops.brand_targets where brand_id = %s "
                "order by dimension, value",
                (source[0],),
            ):
                targets.setdefault(dimension, []).append(value)
            low, high = source[1], source[2]
        elif name in (examples := example_brands()):
            low, high, targets = examples[name]
        else:
            raise LookupError(name)
        save_brand(conn, target_workspace_id, name, targets, low, high, replace=False)
    return "copied"


def describe(targets: dict[str, list[str]], followers_min: int | None, followers_max: int | None):
    """The target in plain words, as the summary of `add` and `list` print it."""
    parts = [f"{d} {', '.join(v) if d != 'city' else '; '.join(v)}" for d, v in targets.items()]
    if followers_min is not None or followers_max is not None:
        low = f"{followers_min:,}" if followers_min is not None else "any"
        high = f"{followers_max:,}" if followers_max is not None else "any"
        parts.append(f"followers {low} to {high}")
    return "; ".join(parts) or "no target (every influencer fits equally)"


DEFAULT_WORKSPACE = "default"
WorkspaceOption = Annotated[
    str,
    typer.Option(
        "--workspace",
        "-w",
        help="The workspace the brand belongs to. Without it: `default`, the workspace of a "
        "single-tenant install, which also holds the example brands.",
    ),
]


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="The brand's name (unique within its workspace).")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    age: Annotated[str | None, typer.Option(help="Age bands, e.g. 18-24,25-34.")] = None,
    gender: Annotated[str | None, typer.Option(help="Genders: F, M, U (comma-separated).")] = None,
    country: Annotated[str | None, typer.Option(help="ISO country codes, e.g. BR,PT.")] = None,
    city: Annotated[
        list[str] | None,
        typer.Option(help='A city as Instagram names it ("São Paulo, São Paulo"); repeat it.'),
    ] = None,
    interest: Annotated[str | None, typer.Option(help="Interests, e.g. fitness,food.")] = None,
    followers_min: Annotated[int | None, typer.Option(min=0, help="Smallest audience.")] = None,
    followers_max: Annotated[int | None, typer.Option(min=0, help="Largest audience.")] = None,
    replace: Annotated[bool, typer.Option(help="Redefine a brand that exists.")] = False,
) -> None:
    """Add a brand to a workspace and the audience it targets; gold scores every influencer's
    fit for it, and the API shows the rankings to that workspace only."""
    name = check_brand_name(name)
    if followers_min is not None and followers_max is not None and followers_min > followers_max:
        raise typer.BadParameter(
            f"{followers_min} is above --followers-max {followers_max}",
            param_hint="--followers-min",
        )
    targets = parse_targets(age, gender, country, city, interest)
    settings, url = setup()
    with psycopg.connect(url) as conn:
        workspace_id = find_workspace_id(conn, workspace)
        try:
            replaced = save_brand(
                conn, workspace_id, name, targets, followers_min, followers_max, replace
            )
        except ValueError as exc:
            raise fail(str(exc)) from None
    bump_workspace_version(settings, workspace_id)
    verb = "replaced" if replaced else "added"
    console.print(
        f"{verb} brand {name} in workspace {workspace}: "
        f"{describe(targets, followers_min, followers_max)}",
        highlight=False,
        markup=False,
    )
    console.print("Its fit appears in gold.brand_influencer_fit after the next build.")


@app.command("list")
def list_brands(
    workspace: Annotated[
        str | None,
        typer.Option("--workspace", "-w", help="Only this workspace's brands (default: all)."),
    ] = None,
) -> None:
    """List the brands added with `analisa brands add`, by workspace, and what each targets
    (the example brands of the seed are not listed: `gold.dim_brands` shows them)."""
    _, url = setup()
    with psycopg.connect(url) as conn:
        workspace_id = find_workspace_id(conn, workspace) if workspace is not None else None
        brands = conn.execute(
            "select b.brand_id, w.name, b.brand_name, b.followers_min, b.followers_max "
            "from ops.brands b join ops.workspaces w using (workspace_id) "
            "where %(wid)s::bigint is null or b.workspace_id = %(wid)s "
            "order by w.name, b.brand_name",
            {"wid": workspace_id},
        ).fetchall()
        targets = conn.execute(
            "select brand_id, dimension, value from ops.brand_targets "
            "order by brand_id, dimension, value"
        ).fetchall()
    if not brands:
        where = f" in workspace {workspace}" if workspace else ""
        console.print(
            f"No brand added yet{where}: analisa brands add NAME --interest fitness ...",
            highlight=False,
            markup=False,
        )
        return
    shown = None
    for brand_id, owner, name, low, high in brands:
        if owner != shown:
            console.print(f"workspace {owner}:", highlight=False, markup=False)
            shown = owner
        mine: dict[str, list[str]] = {}
        for brand, dimension, value in targets:
            if brand == brand_id:
                mine.setdefault(dimension, []).append(value)
        console.print(f"  {name}: {describe(mine, low, high)}", highlight=False, markup=False)


@app.command()
def remove(
    name: Annotated[str, typer.Argument(help="The brand's name.")],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Remove a workspace's brand and its targets; its fit disappears from gold on the next
    build (a brand of the same name in another workspace stays)."""
    settings, url = setup()
    with psycopg.connect(url) as conn:
        workspace_id = find_workspace_id(conn, workspace)
        deleted = conn.execute(
            "delete from ops.brands where workspace_id = %s and brand_name = %s",
            (workspace_id, name.strip()),
        ).rowcount
    if not deleted:
        raise fail(f"no brand named {name!r} in workspace {workspace}")
    bump_workspace_version(settings, workspace_id)
    console.print(f"removed brand {name} from workspace {workspace}", highlight=False, markup=False)
