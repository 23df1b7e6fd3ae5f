"""`analisa brands`: the brands influencers are evaluated for, and the audience each targets.

Stored in ops.brands / ops.brand_targets (migration 007); gold.brand_influencer_fit scores every
influencer against each on the next build. Values are checked here against the same lists gold
uses (catalog age bands and genders, the dbt interest taxonomy), so a typo is refused at once
instead of silently matching nothing.
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

from analisa.cli.runtime import console, fail, setup
from analisa.core.catalog import AGE_BANDS, GENDERS

app = typer.Typer(
    help="Brands and the audience they target (age, gender, country, city, interest, size); "
    "gold scores every influencer's fit for each.",
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


def save_brand(
    conn: psycopg.Connection,
    name: str,
    targets: dict[str, list[str]],
    followers_min: int | None,
    followers_max: int | None,
    replace: bool,
) -> bool:
    """Store the brand and its targets in one transaction; True when it replaced one."""
    with conn.transaction():
        row = conn.execute(
            "select brand_id from ops.brands where brand_name = %s for update", (name,)
        ).fetchone()
        if row and not replace:
            raise ValueError(f"brand {name!r} exists; add --replace to redefine it")
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
                "insert into ops.brands (brand_name, followers_min, followers_max) "
                "values (%s, %s, %s) returning brand_id",
                (name, followers_min, followers_max),
            ).fetchone()[0]
        conn.cursor().executemany(
            "insert into ops.brand_targets (brand_id, dimension, value) values (%s, %s, %s)",
            [(brand_id, d, v) for d, values in targets.items() for v in values],
        )
    return row is not None


def describe(targets: dict[str, list[str]], followers_min: int | None, followers_max: int | None):
    """The target in plain words, as the summary of `add` and `list` print it."""
    parts = [f"{d} {', '.join(v) if d != 'city' else '; '.join(v)}" for d, v in targets.items()]
    if followers_min is not None or followers_max is not None:
        low = f"{followers_min:,}" if followers_min is not None else "any"
        high = f"{followers_max:,}" if followers_max is not None else "any"
        parts.append(f"followers {low} to {high}")
    return "; ".join(parts) or "no target (every influencer fits equally)"


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="The brand's name (unique).")],
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
    """Add a brand and the audience it targets; gold scores every influencer's fit for it."""
    if not name.strip():
        raise typer.BadParameter("the name is empty", param_hint="NAME")
    if followers_min is not None and followers_max is not None and followers_min > followers_max:
        raise typer.BadParameter(
            f"{followers_min} is above --followers-max {followers_max}",
            param_hint="--followers-min",
        )
    targets = parse_targets(age, gender, country, city, interest)
    _, url = setup()
    with psycopg.connect(url) as conn:
        try:
            replaced = save_brand(
                conn, name.strip(), targets, followers_min, followers_max, replace
            )
        except ValueError as exc:
            raise fail(str(exc)) from None
    verb = "replaced" if replaced else "added"
    console.print(f"{verb} brand {name.strip()}: {describe(targets, followers_min, followers_max)}")
    console.print("Its fit appears in gold.brand_influencer_fit after the next build.")


@app.command("list")
def list_brands() -> None:
    """List the brands added with `analisa brands add` and what each targets."""
    _, url = setup()
    with psycopg.connect(url) as conn:
        brands = conn.execute(
            "select brand_id, brand_name, followers_min, followers_max from ops.brands "
            "order by brand_name"
        ).fetchall()
        targets = conn.execute(
            "select brand_id, dimension, value from ops.brand_targets "
            "order by brand_id, dimension, value"
        ).fetchall()
    if not brands:
        console.print("No brand added yet: analisa brands add NAME --interest fitness ...")
        return
    for brand_id, name, low, high in brands:
        mine: dict[str, list[str]] = {}
        for owner, dimension, value in targets:
            if owner == brand_id:
                mine.setdefault(dimension, []).append(value)
        console.print(f"{name}: {describe(mine, low, high)}", highlight=False)


@app.command()
def remove(name: Annotated[str, typer.Argument(help="The brand's name.")]) -> None:
    """Remove a brand and its targets; its fit disappears from gold on the next build."""
    _, url = setup()
    with psycopg.connect(url) as conn:
        deleted = conn.execute("delete from ops.brands where brand_name = %s", (name,)).rowcount
    if not deleted:
        raise fail(f"no brand named {name!r}")
    console.print(f"removed brand {name}")
