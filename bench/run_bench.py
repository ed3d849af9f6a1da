"""End-to-end benchmark: the whole `fupin run` against a parse+segment floor, like for like.

One command, one process tree, one synthetic corpus (``bench/synth.py``, generated into
the work folder on first use and reused afterwards):

  a. density   share of body text in sentences that state a number, on the real seed
               pages and on the corpus (``bench/density.py``): the corpus must make the
               extractor work as hard as real pages do.
  b. floor     BeautifulSoup(html, "lxml") + jieba.lcut(text) for every page, split over
               as many processes as the run has workers: wall time from a common start
               (after imports and jieba's dictionary load) to the last one done, and
               CPU seconds summed over those processes.
  c. run       ``fupin run PAGES --db fresh.duckdb --json`` as a child: wall time, CPU
               seconds of its whole process tree (getrusage(RUSAGE_CHILDREN) before and
               after), peak RSS of the tree (polled from /proc).
  d. re-run    the same command over the unchanged pages into the same db.
  e. start-up  ``fupin run`` into a fresh db over one page (the one-batch path), once ad
               hoc (the run boots its own Prefect API) and once against a running
               ``prefect server``; and over three small batches (the validation
               process starts; too few pages for worker processes).
  f. accuracy  ``fupin eval`` against the corpus's gold (only with --eval: it runs the
               pipeline once more).

The figures are printed with PASS/MISS against the targets and appended as a row to
``bench/results.md``.

    .venv/bin/python bench/run_bench.py --pages 1000 [--seed 0] [--workdir bench/out] [--eval]
    .venv/bin/python bench/run_bench.py --pages 50000 --run-only   # memory at scale
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

FUPIN = REPO / ".venv" / "bin" / "fupin"
RESULTS = REPO / "bench" / "results.md"
PAGE_SUFFIXES = (".html", ".htm", ".shtml")
MB = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

# Targets from the performance issues (2-core machine, 10,000 pages; RSS at 50,000).
TARGET_RUN_OVER_FLOOR = 1.0  # wall: the run against the floor on as many processes
TARGET_CPU_OVER_FLOOR = 1.2  # CPU seconds: the run's whole tree against the floor's
TARGET_RERUN_SHARE = 0.05
TARGET_STARTUP_S = 10.0
TARGET_PEAK_RSS_MB = 1536
STARTUP_BATCHES, STARTUP_BATCH_SIZE = 3, 5


# ---------------------------------------------------------------- corpus


def ensure_corpus(workdir: Path, pages: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """The corpus for (pages, seed, template version), generated once; a folder whose
    counts are written is complete and is reused, so repeated benchmarks time the
    same bytes (a new template version gets a folder of its own)."""
    from bench.synth import generate_corpus, load_templates

    version = load_templates().raw["version"]
    corpus = workdir / f"corpus-{pages}-s{seed}-v{version}"
    stamp = corpus / "counts.json"
    if stamp.exists():
        return corpus, json.loads(stamp.read_text())
    shutil.rmtree(corpus, ignore_errors=True)
    counts = generate_corpus(corpus, pages, seed)
    stamp.write_text(json.dumps(counts, ensure_ascii=False, indent=1))
    return corpus, counts


def page_files(pages_dir: Path) -> list[Path]:
    return sorted(p for p in pages_dir.iterdir() if p.suffix in PAGE_SUFFIXES)


def seed_number_share() -> float | None:
    """The real seed pages' number density, or None without the shared folder."""
    from bench.density import number_share, seed_bodies

    bodies = seed_bodies()
    return number_share(bodies.values()) if bodies else None


# ---------------------------------------------------------------- (b) floor


def _floor_share(paths: list[str], start: Any, results: Any) -> None:
    """One floor process: load, wait for the common start, parse and segment its pages.

    Bytes are decoded as UTF-8, else GB18030 (no detection: the floor is the least
    work a pipeline must do, not a competitor's decoder).
    """
    import jieba
    from bs4 import BeautifulSoup

    jieba.setLogLevel(60)
    t0 = time.perf_counter()
    jieba.initialize()
    init = time.perf_counter() - t0
    start.wait()
    cpu0 = time.process_time()
    chars = 0
    for path in paths:
        data = Path(path).read_bytes()
        try:
            html = data.decode("utf-8")
        except UnicodeDecodeError:
            html = data.decode("gb18030", errors="replace")
        text = BeautifulSoup(html, "lxml").get_text()
        chars += len(text)
        jieba.lcut(text)
    results.put({"cpu_s": time.process_time() - cpu0, "init_s": init, "chars": chars,
                 "done": time.perf_counter()})


def floor(paths: list[Path], processes: int) -> dict[str, float]:
    """The floor spread over ``processes`` spawned processes (as the run's workers are).

    Pages are dealt round-robin. Every process imports and loads jieba first, then
    all start together: wall time runs from that common start to the last process
    done; CPU seconds are the sum of the processes' own time over their pages.
    Imports and jieba's load are left out of both (reported as ``jieba_init_s``).
    """
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(processes + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=_floor_share, args=([str(p) for p in paths[i::processes]],
                                                    start, results))
             for i in range(processes)]
    for proc in procs:
        proc.start()
    start.wait()
    t0 = time.perf_counter()
    shares = [results.get() for _ in procs]
    for proc in procs:
        proc.join()
    return {"floor_s": max(r["done"] for r in shares) - t0,
            "floor_cpu_s": sum(r["cpu_s"] for r in shares),
            "jieba_init_s": max(r["init_s"] for r in shares),
            "floor_chars": sum(r["chars"] for r in shares),
            "floor_processes": processes}


def bracketing_floor(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """The floor measured just before and just after the run, as their mean.

    A shared VM's speed drifts by the hour: one day the same floor cost 30 % more
    CPU in one hour than two hours before, while the run, measured minutes later,
    had not moved alike, and the ratio printed a gain that was the machine's. A
    floor on both sides of the run follows such a drift; their spread
    (``floor_spread``: the larger over the smaller, in CPU) says how far to trust
    the ratio.
    """
    mean = {k: (before[k] + after[k]) / 2 for k in ("floor_s", "floor_cpu_s")}
    cpu = sorted((before["floor_cpu_s"], after["floor_cpu_s"]))
    return {**before, **mean,
            "floor_before_s": before["floor_s"], "floor_after_s": after["floor_s"],
            "floor_cpu_before_s": before["floor_cpu_s"],
            "floor_cpu_after_s": after["floor_cpu_s"],
            "floor_spread": cpu[1] / cpu[0] if cpu[0] else float("nan")}


# ---------------------------------------------------------------- child runs


@dataclass
class TreeSample:
    """What the /proc poller saw of a process tree over its life."""

    peak_tree: int = 0  # bytes, sum over the tree at one poll
    peak_proc: int = 0  # bytes, the largest single process at any poll
    cpu_ticks: dict[int, int] = field(default_factory=dict)  # pid -> last utime+stime


def _sample_tree(root: int, sample: TreeSample) -> None:
    """One poll of ``root`` and its descendants: resident bytes and CPU ticks."""
    parents: dict[int, int] = {}
    stats: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat[1])
        stats[pid] = (int(stat[21]) * PAGE_SIZE, int(stat[11]) + int(stat[12]))
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        for child, parent in parents.items():
            if parent == p and child not in tree:
                tree.add(child)
                frontier.append(child)
    rss = [stats[p][0] for p in tree if p in stats]
    sample.peak_tree = max(sample.peak_tree, sum(rss))
    sample.peak_proc = max([sample.peak_proc, *rss])
    for p in tree:
        if p in stats:
            sample.cpu_ticks[p] = stats[p][1]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_child(cmd: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run a command; return wall time, CPU seconds of its tree, peaks and last JSON line.

    CPU comes from getrusage(RUSAGE_CHILDREN) before and after: when the child is
    reaped the kernel adds its time and that of every descendant it (or they) waited
    for. The /proc poller's per-process sum is a lower bound (it misses the last
    quarter second and processes shorter than a poll): a figure above RUSAGE's would
    mean a descendant was never waited for and its time is missing.
    """
    sample = TreeSample()
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, cwd=REPO)
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                _sample_tree(proc.pid, sample)
                stop.wait(0.25)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        out, _ = proc.communicate()
        stop.set()
        poller.join()
    wall = time.perf_counter() - t0
    cpu = _children_cpu() - cpu0
    lines = out.decode("utf-8", "replace").strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{tail}")
    return {"wall_s": wall, "cpu_s": cpu, "cpu_polled_s": sum(sample.cpu_ticks.values()) / CLK_TCK,
            "processes": len(sample.cpu_ticks), "peak_tree_mb": sample.peak_tree / MB,
            "peak_proc_mb": sample.peak_proc / MB, "summary": json.loads(lines[-1])}


def _step(cmd: list[str], env: dict[str, str], log: Path) -> dict[str, Any]:
    """A secondary measurement: a failure is reported (and marked MISS), not fatal,
    so the first run's figures are never lost."""
    t0 = time.perf_counter()
    try:
        return run_child(cmd, env, log)
    except RuntimeError as exc:
        first_error = next((ln for ln in str(exc).splitlines() if "Error" in ln), "failed")
        return {"wall_s": time.perf_counter() - t0, "cpu_s": 0.0, "peak_tree_mb": 0.0,
                "summary": {}, "error": f"FAILED (see {log.name}): {first_error.strip()[:200]}"}


def fupin_env(workdir: Path) -> dict[str, str]:
    """Children keep their Prefect home and staging inside the work folder."""
    env = dict(os.environ)
    env.setdefault("FUPIN_HOME", str(workdir / "fupin-home"))
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("GX_ANALYTICS_ENABLED", "false")
    return env


def run_workers(run_args: list[str]) -> int:
    """How many worker processes the run uses: its --workers, else what the child will
    decide itself (FUPIN_WORKERS, else one per core)."""
    from fupin.settings import settings

    for i, arg in enumerate(run_args):
        if arg.startswith("--workers="):
            return max(1, int(arg.split("=", 1)[1]))
        if arg == "--workers" and i + 1 < len(run_args):
            return max(1, int(run_args[i + 1]))
    return settings().workers


@contextmanager
def prefect_server(workdir: Path, env: dict[str, str]) -> Iterator[str]:
    """A real ``prefect server start`` for the duration of a measurement."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server_env = {**env, "PREFECT_HOME": str(workdir / "prefect-server"),
                  "PREFECT_UI_ENABLED": "false"}
    server_env.pop("PREFECT_API_URL", None)
    log = (workdir / "logs" / "prefect-server.log").open("wb")
    proc = subprocess.Popen([str(FUPIN.parent / "prefect"), "server", "start", "--host",
                             "127.0.0.1", "--port", str(port)], env=server_env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("prefect server did not start within 120 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _clear_stage_cache(env: dict[str, str]) -> None:
    """A measured run must do all the work: corpora of other sizes, and the start-up
    folders, share pages (and batches) with earlier runs."""
    shutil.rmtree(Path(env["FUPIN_HOME"]) / "cache", ignore_errors=True)


def _fresh_db(path: Path) -> Path:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(path.parent / "data_docs", ignore_errors=True)
    return path


def _page_folder(workdir: Path, name: str, files: list[Path]) -> Path:
    folder = workdir / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for f in files:
        shutil.copy(f, folder / f.name)
    return folder


# ---------------------------------------------------------------- report


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPU {model} ({platform.system()} {platform.release()}{mem})"


def git_state() -> str:
    """Short commit, with "+dirty" when the working tree differs (figures describe it)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return head + ("+dirty" if dirty.strip() else "")


def verdicts(r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    errors = r.get("errors", {})
    n = r["floor_processes"]
    return [
        (f"run wall ≤ 1.0 × floor wall ({n} processes)", f"{r['run_over_floor']:.2f}×",
         r["run_over_floor"] <= TARGET_RUN_OVER_FLOOR),
        ("run CPU ≤ 1.2 × floor CPU", f"{r['cpu_over_floor']:.2f}×",
         r["cpu_over_floor"] <= TARGET_CPU_OVER_FLOOR),
        ("re-run ≤ 5 % of first run (ad hoc)", f"{100 * r['rerun_share']:.1f} %",
         r["rerun_share"] <= TARGET_RERUN_SHARE and "re-run" not in errors),
        ("re-run ≤ 5 % of first run (running server)", f"{100 * r['rerun_server_share']:.1f} %",
         r["rerun_server_share"] <= TARGET_RERUN_SHARE and "re-run (server)" not in errors),
        ("start-up ≤ 10 s (one page, ad hoc)", f"{r['startup_s']:.1f} s",
         r["startup_s"] <= TARGET_STARTUP_S and "start-up" not in errors),
        ("start-up ≤ 10 s (one page, running server)", f"{r['startup_server_s']:.1f} s",
         r["startup_server_s"] <= TARGET_STARTUP_S and "start-up (server)" not in errors),
        (f"start-up ≤ 10 s ({STARTUP_BATCHES} batches, ad hoc)",
         f"{r['startup_batches_s']:.1f} s",
         r["startup_batches_s"] <= TARGET_STARTUP_S and "start-up (batches)" not in errors),
        ("peak RSS ≤ 1.5 GB (target at 50,000 pages)", f"{r['peak_tree_mb']:.0f} MB",
         r["peak_tree_mb"] <= TARGET_PEAK_RSS_MB),
    ]


def _share(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def print_report(r: dict[str, Any]) -> None:
    print(f"\n== fupin bench: {r['pages']} pages (seed {r['seed']}) on {r['machine']}, "
          f"commit {r['commit']}, load average {r['load']}")
    if r["run_args"]:
        print(f"   fupin run extra args: {' '.join(r['run_args'])}")
    print(f"corpus      {r['corpus_mb']:.0f} MB, {r['body_chars'] / 1e6:.1f} M body chars, "
          f"{r['gold_facts']} gold facts")
    print(f"numbers     {_share(r['number_share'])} of the corpus's body text in sentences "
          f"with a number; seed pages {_share(r['seed_number_share'])}")
    n = r["floor_processes"]
    print(f"floor       {r['floor_s']:8.1f} s  {r['floor_pps']:7.1f} pages/s   "
          f"({n} processes; CPU {r['floor_cpu_s']:.1f} s; jieba init "
          f"{r['jieba_init_s']:.2f} s, not counted)")
    print(f"            mean of before the run {r['floor_before_s']:.1f} s / "
          f"{r['floor_cpu_before_s']:.1f} CPU-s and after it {r['floor_after_s']:.1f} s / "
          f"{r['floor_cpu_after_s']:.1f} CPU-s (spread {r['floor_spread']:.2f}×)")
    print(f"run         {r['run_s']:8.1f} s  {r['run_pps']:7.1f} pages/s   "
          f"(CPU {r['run_cpu_s']:.1f} s over its process tree; flow {r['flow_s']:.1f} s; "
          f"{r['documents_loaded']} docs, {r['facts_loaded']} facts, "
          f"{r['pages_rejected']} rejected)")
    print(f"run/floor   {r['run_over_floor']:8.2f} × wall   {r['cpu_over_floor']:.2f} × CPU")
    if r["run_cpu_polled_s"] > r["run_cpu_s"] * 1.01:
        print(f"WARNING     /proc saw {r['run_cpu_polled_s']:.1f} CPU s in the run's tree, more "
              "than getrusage: a process was not waited for, the run's CPU is understated")
    print(f"peak RSS    {r['peak_tree_mb']:8.0f} MB process tree "
          f"(largest single process {r['peak_proc_mb']:.0f} MB)")
    print(f"re-run      {r['rerun_s']:8.1f} s  = {100 * r['rerun_share']:.1f} % of the first run "
          f"({r['rerun_unchanged']} unchanged; the run boots its own Prefect API)")
    print(f"            {r['rerun_server_s']:8.1f} s  = {100 * r['rerun_server_share']:.1f} % "
          f"against a running prefect server ({r['rerun_server_unchanged']} unchanged)")
    print(f"start-up    {r['startup_s']:8.1f} s  (one page, fresh db; the run boots its own "
          f"Prefect API)")
    print(f"            {r['startup_server_s']:8.1f} s  (the same against a running "
          f"prefect server)")
    print(f"            {r['startup_batches_s']:8.1f} s  ({STARTUP_BATCHES} batches of "
          f"{STARTUP_BATCH_SIZE} pages, fresh db: validation process)")
    if r.get("f1") is not None:
        print(f"accuracy    P {r['precision']:.3f}  R {r['recall']:.3f}  F1 {r['f1']:.3f}  "
              f"year {r['year_accuracy']:.3f}  (eval wall {r['eval_s']:.0f} s)")
    for step, error in r.get("errors", {}).items():
        print(f"ERROR {step}: {error}")
    for name, value, ok in verdicts(r):
        print(f"{'PASS' if ok else 'MISS'}  {name:<44} {value}")


RESULTS_HEADER = """# Benchmark results

Appended by `bench/run_bench.py` (see `bench/README.md`). Times in seconds; RSS is the
peak of the whole `fupin run` process tree.
"""

TABLE_HEADER = """
## Like-for-like floor, measured before and after the run

Floor and run wall times, CPU seconds summed over every process (floor: its N
processes; run: its whole tree), corpus with number-dense filler (template version 2).
The floor is measured just before and just after the run; the ratios use the mean of
the two, and "floor spread" is the larger floor CPU over the smaller.

| date | commit | machine | pages | run args | N | numbers corpus / seeds | floor s \
(before / after) | floor CPU s (before / after) | floor spread | run s | run CPU s \
| run/floor wall | run/floor CPU | peak RSS MB | re-run s | re-run/run \
| re-run with server s | start-up 1 page s | with server s | 3 batches s | F1 |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def _or_failed(r: dict[str, Any], step: str, key: str) -> str:
    return "failed" if step in r.get("errors", {}) else f"{r[key]:.1f}"


def _append_row(row: str, path: Path) -> None:
    """Append under the current table, writing its header first when it is missing
    (older rows have other columns and stay under their own header)."""
    text = path.read_text(encoding="utf-8") if path.exists() else RESULTS_HEADER
    if TABLE_HEADER.strip() not in text:
        text = text.rstrip("\n") + "\n" + TABLE_HEADER
    path.write_text(text + row, encoding="utf-8")


def append_results(r: dict[str, Any], path: Path) -> None:
    f1 = f"{r['f1']:.3f}" if r.get("f1") is not None else "–"
    share = r["seed_number_share"]
    seeds = "–" if share is None else f"{share:.2f}"
    row = (
        f"| {r['date']} | {r['commit']} | {r['machine']}, load {r['load']} | {r['pages']} | "
        f"{' '.join(r['run_args']) or '–'} | {r['floor_processes']} | "
        f"{r['number_share']:.2f} / {seeds} | "
        f"{r['floor_before_s']:.1f} / {r['floor_after_s']:.1f} | "
        f"{r['floor_cpu_before_s']:.1f} / {r['floor_cpu_after_s']:.1f} | "
        f"{r['floor_spread']:.2f} | {r['run_s']:.1f} | "
        f"{r['run_cpu_s']:.1f} | {r['run_over_floor']:.2f} | {r['cpu_over_floor']:.2f} | "
        f"{r['peak_tree_mb']:.0f} | {_or_failed(r, 're-run', 'rerun_s')} | "
        f"{r['rerun_share']:.3f} | {_or_failed(r, 're-run (server)', 'rerun_server_s')} | "
        f"{_or_failed(r, 'start-up', 'startup_s')} | "
        f"{_or_failed(r, 'start-up (server)', 'startup_server_s')} | "
        f"{_or_failed(r, 'start-up (batches)', 'startup_batches_s')} | {f1} |\n"
    )
    _append_row(row, path)


# ---------------------------------------------------------------- main


def bench(pages: int, seed: int, workdir: Path, do_eval: bool, run_args: list[str],
          ) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    corpus, counts = ensure_corpus(workdir, pages, seed)
    pages_dir = corpus / "pages"
    files = page_files(pages_dir)
    env = fupin_env(workdir)
    workers = run_workers(run_args)
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)

    print(f"corpus {corpus} ({len(files)} pages); floor on {workers} processes …", flush=True)
    before = floor(files, workers)

    print(f"floor {before['floor_s']:.1f} s, CPU {before['floor_cpu_s']:.1f} s; fupin run …",
          flush=True)
    _clear_stage_cache(env)
    db = _fresh_db(workdir / "db" / f"bench-{pages}.duckdb")
    db.parent.mkdir(exist_ok=True)
    cmd = [str(FUPIN), "run", str(pages_dir), "--db", str(db), "--json", *run_args]
    first = run_child(cmd, env, logs / "run.log")

    print(f"run {first['wall_s']:.1f} s, CPU {first['cpu_s']:.1f} s, peak RSS "
          f"{first['peak_tree_mb']:.0f} MB; floor again …", flush=True)
    after = floor(files, workers)
    fl = bracketing_floor(before, after)
    print(f"floor {after['floor_s']:.1f} s, CPU {after['floor_cpu_s']:.1f} s; re-run …",
          flush=True)
    again = _step(cmd, env, logs / "rerun.log")

    print(f"re-run {again['wall_s']:.1f} s {again.get('error', '')}; start-up …", flush=True)
    one = _page_folder(workdir, "one-page", files[:1])
    few = _page_folder(workdir, "few-batches", files[1:1 + STARTUP_BATCHES * STARTUP_BATCH_SIZE])
    start_db = workdir / "db" / "startup.duckdb"

    def startup(folder: Path, extra: list[str], step_env: dict[str, str], log: str,
                ) -> dict[str, Any]:
        _clear_stage_cache(env)
        _fresh_db(start_db)
        return _step([str(FUPIN), "run", str(folder), "--db", str(start_db), "--json",
                      *run_args, *extra], step_env, logs / log)

    start = startup(one, [], env, "startup.log")
    batches = startup(few, ["--batch-size", str(STARTUP_BATCH_SIZE)], env,
                      "startup-batches.log")
    with prefect_server(workdir, env) as api_url:
        start_api = startup(one, [], {**env, "PREFECT_API_URL": api_url},
                            "startup-server.log")
        # how a deployment's scheduled run finds it: a server already up, nothing new
        again_api = _step(cmd, {**env, "PREFECT_API_URL": api_url}, logs / "rerun-server.log")

    s = first["summary"]
    r: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "commit": git_state(),
        "pages": len(files),
        "seed": seed,
        "run_args": run_args,
        "corpus_mb": counts["bytes"] / MB,
        "body_chars": counts["body_chars"],
        "gold_facts": counts["facts"],
        "number_share": counts["number_share"],
        "seed_number_share": seed_number_share(),
        **fl,
        "floor_pps": len(files) / fl["floor_s"],
        "run_s": first["wall_s"],
        "run_cpu_s": first["cpu_s"],
        "run_cpu_polled_s": first["cpu_polled_s"],
        "run_processes": first["processes"],
        "run_pps": len(files) / first["wall_s"],
        "flow_s": s.get("seconds", float("nan")),
        "documents_loaded": s.get("documents_loaded"),
        "facts_loaded": s.get("facts_loaded"),
        "pages_rejected": s.get("pages_rejected"),
        "run_over_floor": first["wall_s"] / fl["floor_s"],
        "cpu_over_floor": first["cpu_s"] / fl["floor_cpu_s"],
        "peak_tree_mb": first["peak_tree_mb"],
        "peak_proc_mb": first["peak_proc_mb"],
        "rerun_s": again["wall_s"],
        "rerun_share": again["wall_s"] / first["wall_s"],
        "rerun_unchanged": again["summary"].get("pages_unchanged"),
        "rerun_server_s": again_api["wall_s"],
        "rerun_server_share": again_api["wall_s"] / first["wall_s"],
        "rerun_server_unchanged": again_api["summary"].get("pages_unchanged"),
        "errors": {k: v["error"] for k, v in (("re-run", again), ("re-run (server)", again_api),
                                               ("start-up", start),
                                               ("start-up (server)", start_api),
                                               ("start-up (batches)", batches))
                   if "error" in v},
        "startup_s": start["wall_s"],
        "startup_server_s": start_api["wall_s"],
        "startup_batches_s": batches["wall_s"],
        "startup_peak_mb": start["peak_tree_mb"],
        # Other jobs on the machine skew every figure: the 1-minute load average
        # before and after the measurements says whether the box was shared.
        "load": f"{load_before:.1f}→{os.getloadavg()[0]:.1f}",
    }
    if do_eval:
        print("accuracy (fupin eval) …", flush=True)
        t0 = time.perf_counter()
        ev = run_child([str(FUPIN), "eval", "--gold", str(corpus / "gold.jsonl"),
                        str(pages_dir), "--json"], env, logs / "eval.log")
        rep = ev["summary"]
        r.update(precision=rep["precision"], recall=rep["recall"], f1=rep["f1"],
                 year_accuracy=rep["year_accuracy"] or 0.0, eval_s=time.perf_counter() - t0)
    return r


def run_only(pages: int, seed: int, workdir: Path, run_args: list[str]) -> dict[str, Any]:
    """Only the first run: for the memory target at sizes where the floor would take long."""
    workdir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    corpus, _ = ensure_corpus(workdir, pages, seed)
    (workdir / "logs").mkdir(exist_ok=True)
    _clear_stage_cache(fupin_env(workdir))
    db = _fresh_db(workdir / "db" / f"bench-{pages}.duckdb")
    db.parent.mkdir(exist_ok=True)
    first = run_child([str(FUPIN), "run", str(corpus / "pages"), "--db", str(db), "--json",
                       *run_args], fupin_env(workdir), workdir / "logs" / "run.log")
    n = len(page_files(corpus / "pages"))
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), "machine": machine(),
            "commit": git_state(), "pages": n, "run_args": run_args, "run_s": first["wall_s"],
            "run_cpu_s": first["cpu_s"], "run_pps": n / first["wall_s"],
            "peak_tree_mb": first["peak_tree_mb"], "peak_proc_mb": first["peak_proc_mb"],
            "load": f"{load_before:.1f}→{os.getloadavg()[0]:.1f}"}


def report_run_only(r: dict[str, Any], path: Path | None) -> None:
    ok = r["peak_tree_mb"] <= TARGET_PEAK_RSS_MB
    print(f"\n== fupin run only: {r['pages']} pages on {r['machine']}, commit {r['commit']}, "
          f"load average {r['load']}")
    print(f"run         {r['run_s']:8.1f} s  {r['run_pps']:7.1f} pages/s   "
          f"(CPU {r['run_cpu_s']:.1f} s over its process tree)")
    print(f"peak RSS    {r['peak_tree_mb']:8.0f} MB process tree "
          f"(largest single process {r['peak_proc_mb']:.0f} MB)")
    print(f"{'PASS' if ok else 'MISS'}  peak RSS ≤ 1.5 GB{'':27} {r['peak_tree_mb']:.0f} MB")
    if path is not None:
        _append_row(f"| {r['date']} | {r['commit']} | {r['machine']}, load {r['load']} | "
                    f"{r['pages']} | {' '.join(['run only', *r['run_args']])} | "
                    f"{' | '.join(['–'] * 5)} | {r['run_s']:.1f} | {r['run_cpu_s']:.1f} | – | – | "
                    f"{r['peak_tree_mb']:.0f} | {' | '.join(['–'] * 7)} |\n", path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, required=True,
                    help="corpus size: 10000 for the targets (make bench), 50000 with "
                         "--run-only for memory, 100000 for scale (see bench/README.md)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=REPO / "bench" / "out",
                    help="corpus, databases and logs (default bench/out, git-ignored)")
    ap.add_argument("--eval", action="store_true", help="also score accuracy with fupin eval")
    ap.add_argument("--run-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for every fupin run (repeatable), "
                         "e.g. --run-arg=--workers=1 (the floor follows --workers)")
    ap.add_argument("--results", type=Path, default=RESULTS,
                    help="markdown file the result row is appended to")
    ap.add_argument("--no-append", action="store_true", help="print only")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    ap.add_argument("--run-only", action="store_true",
                    help="only the first run (wall time, CPU, peak RSS): the memory target")
    args = ap.parse_args(argv)
    if args.run_only:
        report_run_only(run_only(args.pages, args.seed, args.workdir.resolve(), args.run_arg),
                        None if args.no_append else args.results)
        return 0
    r = bench(args.pages, args.seed, args.workdir.resolve(), args.eval, args.run_arg)
    print_report(r)
    if args.json:
        print(json.dumps(r, ensure_ascii=False))
    if not args.no_append:
        append_results(r, args.results)
        print(f"appended to {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
