"""Snapshot of every asset key, check, job and schedule: a rename cannot silently break the
dbt sources, the API or a schedule that refers to it."""

import json
import os
from pathlib import Path

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.defs.dbt.assets import build_args

EXPECTED_ASSETS = {
    "bronze/instagram_media",
    "bronze/instagram_media_insights",
    "bronze/instagram_media_object",
    "bronze/instagram_stories",
    "bronze/instagram_story_insights",
    "bronze/instagram_user",
    "bronze/instagram_user_insights",
    "bronze/tiktok_user_info",
    "bronze/tiktok_video_list",
    "bronze/tiktok_video_query",
    "gold/audience_segments",
    "gold/dim_influencers",
    "gold/fct_post_engagement",
    "gold/fct_influencer_daily",
    "gold/fct_influencer_stories_daily",
    "gold/post_sponsored_markers",
    "gold/post_interests",
    "gold/post_interests__instagram",
    "gold/post_interests__tiktok",
    "gold/influencer_interests",
    "gold/dim_brands",
    "gold/dim_brand_targets",
    "gold/brand_influencer_fit",
    "gold/influencer_quality",
    "gold/influencer_quality_measures",
    # seeds (reference tables gold reads) and the ops tables `analisa brands` writes
    "gold/interest_taxonomy",
    "gold/sponsored_markers",
    "gold/example_brands",
    "gold/example_brand_targets",
    "ops/brands",
    "ops/brand_targets",
    "ops/workspaces",
    "exports/gold_parquet",
    "serving/gold_cache_version",
    # the caption enrichment's tables (orchestration/defs/enrichment), read by gold as sources
    "silver/caption_embeddings",
    "silver/caption_interest_scores",
    "silver/caption_sentiment",
    "silver/enrichment_versions",
    "silver/influencer_content_vectors",
    "gold/influencer_caption_sentiment",
    "ops/bronze_retention",
}


defs = build_definitions()


def _graph():
    return defs.resolve_asset_graph()


SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")


def _snapshot() -> dict:
    graph = _graph()
    checks = []
    for key in graph.asset_check_keys:
        spec = graph.get_check_spec(key)
        checks.append(
            f"{key.asset_key.to_user_string()}:{key.name}:"
            + ("blocking" if spec.blocking else "warn")
        )
    return {
        "assets": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
        "checks": sorted(checks),
        "jobs": sorted(j.name for j in defs.jobs),
        "schedules": sorted(f"{s.name}:{s.cron_schedule}" for s in defs.schedules or ()),
        "sensors": sorted(s.name for s in defs.sensors or ()),
    }


def test_definitions_match_the_snapshot():
    """Every asset key, check, job, schedule and sensor, exactly. After an intended change,
    regenerate with ANALISA_UPDATE_SNAPSHOT=1 and review the diff."""
    current = _snapshot()
    if os.environ.get("ANALISA_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    assert current == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_asset_keys_snapshot():
    keys = {k.to_user_string() for k in _graph().get_all_asset_keys()}
    assert keys >= EXPECTED_ASSETS
    silver = {k for k in keys if k.startswith("silver/")}
    assert {"silver/int_post_snapshots", "silver/int_posts", "silver/quarantine_records"} <= silver
    assert keys - EXPECTED_ASSETS - silver == set()


def test_gates_are_blocking_and_cover_each_layer():
    checks = {}
    for key in _graph().asset_check_keys:
        spec = _graph().get_check_spec(key)
        checks[f"{key.asset_key.to_user_string()}:{key.name}"] = spec.blocking
    for name in (
        "bronze/instagram_media:bronze_gate",
        "bronze/tiktok_video_list:bronze_gate",
        "silver/int_post_snapshots:silver_gate",
        "silver/int_account_snapshots:silver_gate",
        "gold/fct_post_engagement:gold_gate",
        "gold/audience_segments:gold_gate",
    ):
        assert checks[name] is True, name
    assert checks["bronze/instagram_media:malformed_responses"] is False


def test_gold_depends_on_silver_and_exports_on_gold():
    graph = _graph()
    gold = dg.AssetKey(["gold", "fct_post_engagement"])
    parents = {k.to_user_string() for k in graph.get(gold).parent_keys}
    assert "silver/int_posts" in parents or "silver/int_post_snapshots" in parents
    exports = graph.get(dg.AssetKey(["exports", "gold_parquet"])).parent_keys
    assert gold in exports


def test_jobs_schedules_and_dbt_args():
    assert {j.name for j in defs.jobs} >= {"collect_and_build", "build_from_bronze"}
    schedules = {s.name: s for s in defs.schedules}
    collect = schedules["collect_every_6_hours"]
    assert collect.cron_schedule == "0 */6 * * *"
    # dbt's unit tests run with the test suite (tests/integration/transforms), not in builds
    skip_unit_tests = ["--exclude-resource-type", "unit_test"]
    # the run folder's dbt.log without every query of every node (ANALISA_DBT_FILE_LOG_LEVEL)
    info = ["--log-level-file", "info"]
    assert build_args() == ["build", *skip_unit_tests, *info]
    assert build_args(full_refresh=True) == ["build", *skip_unit_tests, *info, "--full-refresh"]
    assert build_args(file_log_level="debug")[-2:] == ["--log-level-file", "debug"]


def test_retention_runs_daily_on_its_own_and_never_inside_a_build():
    retention = dg.AssetKey(["ops", "bronze_retention"])
    schedule = {s.name: s for s in defs.schedules}["purge_bronze_daily"]
    assert schedule.cron_schedule == "30 3 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "purge_bronze"
    graph = _graph()
    assert defs.get_job_def("purge_bronze").asset_layer.selected_asset_keys == {retention}
    for name in ("collect_and_build", "build_from_bronze"):
        selected = defs.get_job_def(name).asset_layer.selected_asset_keys
        assert retention not in selected, name
        assert dg.AssetKey(["gold", "fct_post_engagement"]) in selected, name
    assert graph.get(retention).group_name == "retention"
