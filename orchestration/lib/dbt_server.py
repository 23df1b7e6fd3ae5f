"""A dbt kept warm for the dbt steps of one process: imported once, its project parsed once.

Every dbt step started a new dbt: about 1.3 s to import it and 0.9 s to read back what it had
parsed (partial parsing), before its first model, twice per build (silver, then gold). Here the
first dbt step of a process starts one dbt server: a child process (the same launcher gives it
the session settings, orchestration/lib/dbt_session.py) that imports dbt, parses the project
and runs each later command with the parsed project (dbt's programmatic invocation with a
manifest, which skips the parse). The step still runs "dbt": a small client (this module run as
`client`) that dagster-dbt starts as it started dbt, which hands its arguments and environment to
the server over a private Unix socket, writes back what dbt prints and exits with dbt's exit code.

What the parse depends on keys the kept project: the profile's text, the project's files (newest
change), the command's variables and the environment (less the paths that change with every step);
any change parses again. The server runs one command at a time, ends when the process that
started it ends (or after IDLE_SECONDS unused), and is started again when the session settings
change. When the server cannot be reached, the client runs dbt itself, as before.

Only the standard library is imported at the top: the client starts in a few milliseconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from orchestration.lib.dbt_lean import (
    connections_reused,
    templates_compiled_once,
    unwritten_events_skipped,
)

MODULE = "orchestration.lib.dbt_server"
EXIT_MARK = "\x00exit "
IDLE_SECONDS = 15 * 60
# the commands that run on a parsed project; any other one runs as dbt would alone
PARSED_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot", "compile"})
# what changes with every step without changing what the project parses to
_STEP_VARIABLES = frozenset({"DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_PROFILES_DIR", "PGOPTIONS"})
_SOURCE_FOLDERS = ("models", "macros", "seeds", "tests", "snapshots", "analyses")
# the Jinja code of the texts dbt compiled, kept for the next server (in the project's target)
COMPILED_TEMPLATES = "compiled_templates"
_PARSE_OPTIONS = frozenset({"--vars", "--target", "-t", "--profile", "--project-dir"})


# -- the client: what dagster-dbt starts instead of dbt ------------------------------------------
def client(socket_path: str, server_pid: int, fallback: list[str], args: list[str]) -> int:
    """Run `args` on the server at `socket_path`; without one, exec `fallback + args`."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(socket_path)
    except OSError:
        sock.close()
        os.execvp(fallback[0], [*fallback, *args])

    def stop_server(signum, frame):  # dbt cannot be stopped mid-command in-process: end it all
        if server_pid > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(server_pid, signal.SIGTERM)
        raise SystemExit(130)

    signal.signal(signal.SIGINT, stop_server)
    signal.signal(signal.SIGTERM, stop_server)
    request = {"args": args, "env": dict(os.environ), "cwd": os.getcwd()}
    out = sys.stdout.buffer
    answered = False
    try:
        sock.sendall(json.dumps(request).encode() + b"\n")
        with sock.makefile("rb") as replies:
            for line in replies:
                if line.startswith(EXIT_MARK.encode()):
                    out.flush()
                    return int(line[len(EXIT_MARK) :].strip() or 2)
                answered = True
                out.write(line)
                out.flush()
    except OSError:
        pass
    if not answered:  # it closed before taking the command (it was ending): dbt runs it here
        sock.close()
        os.execvp(fallback[0], [*fallback, *args])
    print("the dbt server ended without an exit status", file=sys.stderr)
    return 2


# -- the server -------------------------------------------------------------------------------
def newest_source_change(project_dir: Path) -> float:
    """The newest modification time of the project's own files (also what says the manifest is
    older than the project, orchestration/defs/dbt/resources.py)."""
    newest = (project_dir / "dbt_project.yml").stat().st_mtime
    for folder in _SOURCE_FOLDERS:
        for path in (project_dir / folder).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def parse_key(args: list[str], env: dict[str, str], cwd: str) -> str:
    """What a parsed project depends on, as one digest."""
    project_dir = Path(env.get("DBT_PROJECT_DIR") or cwd)
    profiles = Path(env.get("DBT_PROFILES_DIR") or project_dir) / "profiles.yml"
    # the options that change what a project parses to, with their values
    shaping = [a for i, a in enumerate(args) if {a, *args[i - 1 : i]} & _PARSE_OPTIONS]
    digest = hashlib.sha256()
    for part in (
        str(project_dir.resolve()),
        repr(newest_source_change(project_dir)),
        profiles.read_text(encoding="utf-8") if profiles.exists() else "",
        json.dumps(shaping),
        json.dumps(sorted((k, v) for k, v in env.items() if k not in _STEP_VARIABLES)),
    ):
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def critical_path_ranks(graph, weights: dict[str, float], levels: dict[str, int]) -> dict[str, int]:
    """A rank per node of a dbt graph (lower runs first among the nodes ready to run): the longest
    path of known seconds from the node to the end of the graph first, then dbt's own order (its
    depth in the graph, then its name). Without any weight, dbt's order."""
    import networkx as nx  # dbt's own dependency; this module imports the standard library only

    remaining: dict[str, float] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        after = max((remaining[child] for child in graph.successors(node)), default=0.0)
        remaining[node] = weights.get(node, 0.0) + after
    order = sorted(graph.nodes, key=lambda node: (-remaining[node], levels[node], node))
    return {node: rank for rank, node in enumerate(order)}


def last_seconds(target_dir: Path) -> dict[str, float]:
    """Each node's longest time in the recent runs under the project's target folder (every
    step writes run_results.json in its own folder there, and the 20 newest are read); empty
    before any run. The longest, not the latest: an incremental build takes a second or less
    per model, and a full build ordered by the last incremental one's times started the two
    halves of post_interests (hinted at 18 s each) before the 34 s chain post_sponsored_markers
    → fct_post_engagement → fct_influencer_daily → dim_influencers → brand_influencer_fit,
    whose models each took under a second in it; the two threads then stood idle 21.7 s in all,
    waiting on that chain (a 54.3 s gold step)."""
    found = sorted(
        target_dir.glob("*/run_results.json"),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    seconds: dict[str, float] = {}
    for path in found[:20]:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            for result in json.loads(path.read_text(encoding="utf-8"))["results"]:
                node, taken = result["unique_id"], float(result["execution_time"])
                seconds[node] = max(seconds.get(node, 0.0), taken)
    return seconds


def hinted_seconds(manifest) -> dict[str, float]:
    """Each node's `scheduling_weight` (its meta, set in dbt_project.yml): the seconds it takes in
    a full build of the benchmark's size, for the nodes no earlier run under the target folder
    has timed (a first build on a fresh checkout). Missing or not a number: no weight."""
    weights: dict[str, float] = {}
    for unique_id, node in getattr(manifest, "nodes", {}).items():
        meta = getattr(getattr(node, "config", None), "meta", None) or {}
        value = meta.get("scheduling_weight") if isinstance(meta, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            weights[unique_id] = float(value)
    return weights


@contextlib.contextmanager
def _longest_first(weights: dict[str, float]):
    """dbt starts, whenever a thread is free, the ready node heading the longest remaining path
    of what the last runs took (a model read by many later ones, the staging of the largest
    endpoint, the tests a slow model waits for), not the first by name. dbt's own loop hands
    every ready node to its thread pool at once, which runs them in that order: a node's
    priority only counted among the nodes ready at the same moment, and the tests of the first
    staging models waited behind every other staging model. Here a node is handed out only when
    a thread is free, so each free thread takes the best node ready then. On two threads the
    order decides when the slowest chain starts (a full build started TikTok's videos, 25 s, 18 s
    in, after the small staging models named before it; an incremental one int_post_snapshots
    after every other staging model and its tests). A node no run has timed yet weighs what the
    project estimates (hinted_seconds), else nothing."""
    from dbt.graph.queue import GraphQueue
    from dbt.task.runnable import GraphRunnableTask

    dbt_scores, dbt_get, dbt_run_queue = (
        GraphQueue._get_scores,
        GraphQueue.get,
        GraphRunnableTask.run_queue,
    )

    def scores(queue, graph):
        return critical_path_ranks(graph, weights, dbt_scores(queue, graph))

    def get(queue, block=True, timeout=None):
        limit = getattr(queue, "threads", 0)
        with queue.lock:  # mark_done notifies under this lock when a node ends
            while limit and len(queue.in_progress) >= limit:
                queue.some_task_done.wait()
        return dbt_get(queue, block, timeout)

    def run_queue(task, pool):
        task.job_queue.threads = task.config.threads
        return dbt_run_queue(task, pool)

    GraphQueue._get_scores, GraphQueue.get = scores, get
    GraphRunnableTask.run_queue = run_queue
    try:
        yield
    finally:
        GraphQueue._get_scores, GraphQueue.get = dbt_scores, dbt_get
        GraphRunnableTask.run_queue = dbt_run_queue


class _Server:
    def __init__(self):
        from dbt.cli.main import dbtRunner  # the import a cold dbt pays at every step

        self.runner = dbtRunner
        self.session_options = os.environ.get("PGOPTIONS", "")
        self.parsed: tuple[str, object] | None = None

    def run(self, args: list[str], env: dict[str, str], cwd: str, out: io.TextIOBase) -> int:
        os.environ.clear()
        os.environ.update(env)
        if self.session_options:
            os.environ["PGOPTIONS"] = self.session_options
        os.chdir(cwd)
        command = next((a for a in args if not a.startswith("-")), "")
        manifest = None
        if command in PARSED_COMMANDS:
            manifest = self._parsed(args, env, cwd, out)
            if manifest is None:
                return 2
        # what the last runs took (the project's target folder, where each step's run writes
        # its results), else the project's own estimate
        project_target = Path(env.get("DBT_PROJECT_DIR") or cwd) / "target"
        weights = hinted_seconds(manifest) | last_seconds(project_target)
        with (
            _printing_to(out),
            _longest_first(weights),
            unwritten_events_skipped(),
            connections_reused(),
            templates_compiled_once(project_target / COMPILED_TEMPLATES),
        ):
            result = self.runner(manifest=manifest).invoke(args)
        if result.exception is not None:
            out.write(f"{type(result.exception).__name__}: {result.exception}\n")
            return 2
        return 0 if result.success else 1

    def _parsed(self, args, env, cwd, out):
        key = parse_key(args, env, cwd)
        if self.parsed is not None and self.parsed[0] == key:
            return self.parsed[1]
        self.parsed = None
        printed = io.StringIO()
        with _printing_to(printed):
            # kept in memory: the command run on it writes the step's artifacts (writing them
            # here too cost about 0.2 s)
            result = self.runner().invoke(["parse", "--no-write-json"])
        if not result.success:  # what dbt said is what the step reports
            out.write(printed.getvalue())
            if result.exception is not None:
                out.write(f"{type(result.exception).__name__}: {result.exception}\n")
            return None
        self.parsed = (key, result.result)
        return result.result


@contextlib.contextmanager
def _printing_to(stream):
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = stream
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _answer(conn: socket.socket, server: _Server) -> None:
    with conn.makefile("rb") as requests, conn.makefile("w", encoding="utf-8") as out:
        try:
            request = json.loads(requests.readline())
            args, env, cwd = request["args"], request["env"], request["cwd"]
        except (ValueError, KeyError, TypeError):  # not a command of our client's
            return
        try:
            code = server.run(args, env, cwd, out)
        except Exception as exc:  # reported to the step; the server stays up
            out.write(f"dbt server: {type(exc).__name__}: {exc}\n")
            code = 2
        out.write(f"{EXIT_MARK}{code}\n")
        out.flush()


def serve(socket_path: str, idle_seconds: float = IDLE_SECONDS) -> None:
    """Answer clients one at a time until the parent ends or nobody calls for `idle_seconds`."""
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    try:
        listener.listen(8)
        listener.settimeout(2.0)
        server = _Server()
        last = time.monotonic()
        while os.getppid() == parent and time.monotonic() - last < idle_seconds:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(None)
                with contextlib.suppress(OSError):  # the client went away
                    _answer(conn, server)
            last = time.monotonic()
    finally:  # a client arriving now finds no server and runs dbt itself
        listener.close()
        with contextlib.suppress(OSError):
            os.unlink(socket_path)


# -- the parent's side ------------------------------------------------------------------------
class WarmDbt:
    """One dbt server of this process, started when first asked for."""

    def __init__(self):
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._folder: tempfile.TemporaryDirectory | None = None
        self._fingerprint = ""

    def ensure(self, session_fingerprint: str) -> tuple[str, int]:
        """The server for these session settings, started (or started again for other ones)
        if need be: (its socket, its process id). It imports dbt as soon as it starts, so a
        run that starts it first thing has dbt imported by its first dbt step."""
        with self._lock:
            if (
                self._process is None
                or self._process.poll() is not None
                or self._fingerprint != session_fingerprint
            ):
                self._stop()
                self._start(session_fingerprint)
            return str(Path(self._folder.name) / "dbt.sock"), self._process.pid

    def launcher(self, folder: Path, dbt_executable: str, session_fingerprint: str) -> Path:
        """An executable in `folder` that runs dbt's arguments on this process's server
        (started, or started again for other session settings) or, failing that, on dbt."""
        from orchestration.lib.dbt_session import session_command

        socket_path, pid = self.ensure(session_fingerprint)
        fallback = session_command(dbt_executable)
        path = folder / "dbt"
        path.write_text(
            "#!/bin/sh\n"
            f"exec {shlex.quote(sys.executable)} -m {MODULE} client "
            f'{shlex.quote(socket_path)} {pid} {shlex.join(fallback)} -- "$@"\n',
            encoding="utf-8",
        )
        path.chmod(0o700)
        return path

    def _start(self, fingerprint: str) -> None:
        from orchestration.lib.dbt_session import session_command

        self._folder = tempfile.TemporaryDirectory(prefix="analisa-dbt-server-")
        socket_path = Path(self._folder.name) / "dbt.sock"
        command = [*session_command(sys.executable), "-m", MODULE, "serve", str(socket_path)]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=str(Path(__file__).resolve().parents[2]),
        )
        self._fingerprint = fingerprint
        deadline = time.monotonic() + 30
        while not socket_path.exists() and self._process.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)

    def _stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def stop(self) -> None:
        with self._lock:
            self._stop()


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"] and len(argv) == 2:
        serve(argv[1])
        return 0
    if argv[:1] == ["client"] and "--" in argv:
        cut = argv.index("--")
        socket_path, pid, *fallback = argv[1:cut]
        return client(socket_path, int(pid), fallback, argv[cut + 1 :])
    print(
        "usage: python -m orchestration.lib.dbt_server serve SOCKET | client SOCKET PID "
        "DBT... -- ARGS...",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
