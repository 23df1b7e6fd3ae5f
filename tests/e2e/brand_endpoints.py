"""The brand-metric endpoints on gold built by dbt, not on hand-made tables: called around the
build of tests/e2e/test_ingest_pipeline.py (its hand-made envelopes ingested), a workspace
listing both creators with a brand targeting fitness; after the build, growth (daily),
interests, quality, sponsored posts, the scorecard and the brand's fit ranking are read
through the API and compared with the rows dbt wrote."""

from __future__ import annotations

from decimal import Decimal

import psycopg
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from analisa.cli import app as cli
from analisa.core.settings import Settings
from serving_api.app import create_app
from serving_api.workspaces import add_influencer, create_workspace

BRAND = "Fit Co"


def rows(conn, query: str, *args) -> list[dict]:
    cur = conn.execute(query, args)
    names = [d.name for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def number(value):
    return None if value is None else float(value) if isinstance(value, Decimal) else value


def add_workspace_with_brand(db_url: str, creators) -> int:
    """Workspace `acme` listing `creators`, with the brand BRAND targeting fitness."""
    with psycopg.connect(db_url) as conn:
        workspace = create_workspace(conn, "acme")
        for platform, account in creators:
            add_influencer(conn, workspace.workspace_id, platform, account)
    added = CliRunner().invoke(
        cli, ["brands", "add", BRAND, "--workspace", "acme", "--interest", "fitness"]
    )
    assert added.exit_code == 0, added.output
    return workspace.workspace_id


def check_brand_endpoints(db_url: str, workspace_id: int, creators) -> None:
    """Each creator's daily series, interests, quality, organic posts and scorecard, and the
    brand's fit ranking, through the API, equal to the gold rows dbt built."""
    with psycopg.connect(db_url) as conn:
        daily = rows(
            conn,
            "select platform, account_id, day, followers, followers_growth_7d"
            " from gold.fct_influencer_daily order by platform, account_id, day",
        )
        interests = rows(
            conn,
            "select platform, account_id, interest, share from gold.influencer_interests"
            " order by platform, account_id, share desc, interest",
        )
        quality = {
            (r["platform"], r["account_id"]): r
            for r in rows(conn, "select * from gold.influencer_quality")
        }
        organic = rows(
            conn,
            "select platform, account_id, post_id from gold.fct_post_engagement"
            " where not is_deleted and not is_sponsored order by post_id",
        )
        dims = {
            (r["platform"], r["account_id"]): r
            for r in rows(conn, "select * from gold.dim_influencers")
        }
        fit = rows(
            conn,
            "select platform, account_id, fit_score from gold.brand_influencer_fit"
            " where brand_name = %s and workspace_id = %s",
            BRAND,
            workspace_id,
        )
    assert daily and interests and quality and organic and fit  # dbt built every table

    settings = Settings(DATABASE_URL=db_url, REDIS_URL=None)
    with TestClient(create_app(settings)) as client:
        token, _ = client.app.state.tokens.issue(
            subject="e2e",
            workspace_id=workspace_id,
            workspace="acme",
            role="analyst",
            ttl_seconds=600,
        )
        client.headers["Authorization"] = f"Bearer {token}"
        for platform, account in creators:
            base = f"/v1/influencers/{platform}/{account}"
            mine = [d for d in daily if (d["platform"], d["account_id"]) == (platform, account)]
            start, end = mine[0]["day"], mine[-1]["day"]
            got = client.get(f"{base}/daily?start={start}&end={end}")
            assert got.status_code == 200, got.text
            assert [
                (d["day"], d["followers"], d["followers_growth_7d"]) for d in got.json()["days"]
            ] == [(d["day"].isoformat(), d["followers"], d["followers_growth_7d"]) for d in mine]

            got = client.get(f"{base}/interests")
            assert got.status_code == 200, got.text
            assert [(i["interest"], i["share"]) for i in got.json()["items"]] == [
                (i["interest"], number(i["share"]))
                for i in interests
                if (i["platform"], i["account_id"]) == (platform, account)
            ]

            got = client.get(f"{base}/quality")
            assert got.status_code == 200, got.text
            row = quality[(platform, account)]
            assert got.json()["quality_score"] == number(row.get("quality_score"))
            assert got.json()["insufficient_data"] == row.get("insufficient_data")

            got = client.get(f"{base}/posts?sponsored=false&limit=100")
            assert got.status_code == 200, got.text
            assert sorted(p["post_id"] for p in got.json()["items"]) == [
                p["post_id"]
                for p in organic
                if (p["platform"], p["account_id"]) == (platform, account)
            ]

            got = client.get(base)
            assert got.status_code == 200, got.text
            assert got.json()["sponsored_share"] == number(
                dims[(platform, account)]["sponsored_share"]
            )
            assert got.json()["followers"] == dims[(platform, account)]["followers"]

        got = client.get(f"/v1/brands/{BRAND}/fit")
        assert got.status_code == 200, got.text
        assert sorted(
            (i["platform"], i["account_id"], i["fit_score"]) for i in got.json()["items"]
        ) == sorted((r["platform"], r["account_id"], number(r["fit_score"])) for r in fit)
        assert client.get("/v1/brands").json()["items"] == [BRAND]
