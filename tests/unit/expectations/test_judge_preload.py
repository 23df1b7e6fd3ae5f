"""GX is imported in the background when a run that reaches a gate begins, and a gate waits for
that import instead of running its own beside it."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


def test_preload_imports_gx_on_a_background_thread_once():
    out = _run(
        """
        import sys
        from expectations import judge
        assert "great_expectations" not in sys.modules
        judge.preload()
        first = judge._preloading
        judge.preload()
        assert judge._preloading is first  # one import per process
        assert first.name == "gx-preload" and first.daemon
        first.join()
        print("great_expectations" in sys.modules)
        """
    )
    assert out == "True"


def test_preload_does_nothing_once_gx_is_imported():
    out = _run(
        """
        import great_expectations
        from expectations import judge
        judge.preload()
        print(judge._preloading)
        """
    )
    assert out == "None"


def test_a_gate_waits_for_the_import_under_way():
    out = _run(
        """
        from expectations import judge
        judge.preload()
        gx, context = judge._context()
        print(judge._preloading.is_alive(), type(context).__name__)
        """
    )
    assert out == "False EphemeralDataContext"


def test_the_build_job_reaches_gates_and_the_erasure_job_does_not():
    from orchestration.definitions import build_definitions
    from orchestration.run import _runs_gates

    defs = build_definitions(None)
    assert _runs_gates(defs.resolve_job_def("build_from_bronze"))
    assert not _runs_gates(defs.resolve_job_def("carry_out_erasures"))
