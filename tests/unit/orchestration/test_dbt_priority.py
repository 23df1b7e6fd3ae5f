"""The order the warm dbt starts ready nodes in: the longest remaining path of what the last runs
took first, dbt's own order (depth, then name) without any timing."""

from __future__ import annotations

import json
import os

import networkx as nx

from orchestration.lib.dbt_server import critical_path_ranks, last_seconds


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


def test_last_seconds_takes_each_node_from_its_newest_run(tmp_path):
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
    assert last_seconds(tmp_path) == {"model.a": 1.5, "model.b": 4.0}
    assert last_seconds(tmp_path / "missing") == {}
