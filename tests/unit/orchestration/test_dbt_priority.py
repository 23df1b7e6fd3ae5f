"""The order the warm dbt starts ready nodes in: the longest remaining path of what the last runs
took first, dbt's own order (depth, then name) without any timing."""

from __future__ import annotations

import json
import os

import networkx as nx

from orchestration.lib.dbt_server import critical_path_ranks, hinted_seconds, last_seconds


def graph():
    # two staging models ready at once; the one named last heads the slow chain
    g = nx.DiGraph()
    g.add_edge("model.a_small", "model.c_report")
    g.add_edge("model.z_videos", "model.m_snapshots")
    g.add_edge("model.m_snapshots", "model.n_posts")
    return g


LEVELS = {
    "model.a_small": 0,
    "model.z_videos": 0,
    "model.c_report": 1,
    "model.m_snapshots": 1,
    "model.n_posts": 2,
}


def test_the_longest_remaining_path_starts_first():
    seconds = {
        "model.a_small": 2.0,
        "model.c_report": 1.0,
        "model.z_videos": 25.0,
        "model.m_snapshots": 19.0,
        "model.n_posts": 10.0,
    }
    ranks = critical_path_ranks(graph(), seconds, LEVELS)
    # z_videos heads 25 + 19 + 10 = 54 s, a_small 2 + 1 = 3 s
    assert ranks["model.z_videos"] < ranks["model.a_small"]
    # once both are done, the snapshots (29 s to go) before the report (1 s)
    assert ranks["model.m_snapshots"] < ranks["model.c_report"]


def test_without_timings_dbt_order_is_kept():
    ranks = critical_path_ranks(graph(), {}, LEVELS)
    assert sorted(ranks, key=ranks.get) == [
        "model.a_small",
        "model.z_videos",
        "model.c_report",
        "model.m_snapshots",
        "model.n_posts",
    ]


def test_last_seconds_takes_each_nodes_longest_time_in_the_recent_runs(tmp_path):
    def run(folder, results, mtime):
        path = tmp_path / folder / "run_results.json"
        path.parent.mkdir()
        path.write_text(json.dumps({"results": results}), encoding="utf-8")
        os.utime(path, (mtime, mtime))

    run(
        "dbt_silver-old",
        [
            {"unique_id": "model.a", "execution_time": 9.0},
            {"unique_id": "model.b", "execution_time": 4.0},
        ],
        1_000,
    )
    run("dbt_silver-new", [{"unique_id": "model.a", "execution_time": 1.5}], 2_000)
    (tmp_path / "dbt_gold-broken").mkdir()
    (tmp_path / "dbt_gold-broken" / "run_results.json").write_text("{", encoding="utf-8")
    # model.a's full build (9 s), not its newer incremental one (1.5 s)
    assert last_seconds(tmp_path) == {"model.a": 9.0, "model.b": 4.0}
    assert last_seconds(tmp_path / "missing") == {}


class _Node:
    def __init__(self, meta):
        self.config = type("Config", (), {"meta": meta})()


def test_hinted_seconds_are_the_weights_a_node_declares():
    manifest = type("Manifest", (), {})()
    manifest.nodes = {
        "model.analisa.videos": _Node({"scheduling_weight": 30}),
        "model.analisa.snapshots": _Node({"scheduling_weight": 19.5}),
        "model.analisa.small": _Node({}),
        "model.analisa.flag": _Node({"scheduling_weight": True}),
        "model.analisa.text": _Node({"scheduling_weight": "30"}),
        "model.analisa.negative": _Node({"scheduling_weight": -1}),
    }
    assert hinted_seconds(manifest) == {
        "model.analisa.videos": 30.0,
        "model.analisa.snapshots": 19.5,
    }
    assert hinted_seconds(None) == {}


def test_the_project_declares_weights_for_its_longest_models(tmp_path):
    # the first build on a fresh checkout: TikTok's videos start at once, not after the small
    # staging models named before them
    from dbt.cli.main import dbtRunner

    from orchestration.defs.dbt.resources import dbt_project_dir

    project = dbt_project_dir()
    # parsed into a folder of its own: the project's target folder holds the builds' artifacts
    result = dbtRunner().invoke(
        [
            "parse",
            "--no-write-json",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ]
    )
    assert result.success, result.exception
    weights = hinted_seconds(result.result)
    assert weights["model.analisa.stg_tiktok__videos"] == 30.0
    assert weights["model.analisa.post_interests__instagram"] == 18.0
    assert "model.analisa.post_interests" not in weights  # a view: no time of its own
    graph = nx.DiGraph()
    graph.add_edges_from(
        (parent, unique_id)
        for unique_id, node in result.result.nodes.items()
        for parent in getattr(node.depends_on, "nodes", ())
    )
    levels = {node: 0 for node in graph.nodes}
    ranks = critical_path_ranks(graph, weights, levels)
    staging = [n for n in graph.nodes if n.startswith("model.analisa.stg_")]
    assert min(staging, key=ranks.get) in {
        "model.analisa.stg_tiktok__videos",
        "model.analisa.stg_instagram__media",
    }
