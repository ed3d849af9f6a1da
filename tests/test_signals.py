"""A `fupin run` stopped by a signal, killed outright or failing: what is left behind.

Each run is a real `fupin run` subprocess in a session of its own, signalled at a
stage it reports itself. Its processes are found by a FUPIN_HOME that only that
test uses (every process a run starts inherits it), never by looking at every
process on the machine. Timeouts are generous: they turn a hang into a failure.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from http_server import Reply, always, serve

from fupin.tasks.pipeline.kinds import FACTS, batch_folder_name
from fupin.tasks.pipeline.run_folders import (
    claim_run_folder,
    release_run_folder,
    remove_orphaned_run_folders,
)

REPO = Path(__file__).resolve().parents[1]
FUPIN = REPO / ".venv" / "bin" / "fupin"
SAMPLES = REPO / "samples" / "pages"
HANG_S = 600  # a run that takes this long is stuck
GONE_S = 30  # children of a stopped run must be gone by then



def run_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    # task runs' "Finished" lines on the console tell the test where the run is
    return {**env, "FUPIN_HOME": str(home), "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "INFO",
            **extra}


class Run:
    """A `fupin run` in its own session; its output is read line by line as it comes."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.home = Path(env["FUPIN_HOME"])
        self.proc = subprocess.Popen([str(FUPIN), "run", *args], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.lines: list[str] = []
        self.sent: float | None = None
        self._seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()
        with self._seen:
            self.lines.append("")  # end of output
            self._seen.notify_all()

    def wait_for(self, pattern: str) -> None:
        """Block until the run prints a line matching ``pattern``; fail if it ends first."""
        def printed() -> bool:
            return any(re.search(pattern, line) for line in self.lines)

        with self._seen:
            self._seen.wait_for(lambda: printed() or "" in self.lines, timeout=HANG_S)
            assert printed(), f"no {pattern!r} in:\n{''.join(self.lines)}"

    def send(self, signum: int, *, group: bool = False) -> None:
        """Signal the run (``group``: with every process of its group, as a terminal does)."""
        self.sent = time.monotonic()
        (os.killpg if group else os.kill)(self.proc.pid, signum)

    def exit_code(self, timeout: float = HANG_S) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
            if self.sent is not None:  # reported, not asserted on: a loaded machine is slow
                print(f"exited {time.monotonic() - self.sent:.2f} s after the signal")
            return code
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            pytest.fail(f"the run did not end in {timeout} s:\n{self.output()}")

    def output(self) -> str:
        with self._seen:
            return "".join(self.lines)

    def staging(self) -> list[Path]:
        root = self.home / "staging"
        return sorted(root.iterdir()) if root.exists() else []


def run_processes(home: Path, running: bytes = b"") -> list[int]:
    """Live processes that carry this FUPIN_HOME in their environment (and ``running``
    in their command line)."""
    marker = f"FUPIN_HOME={home}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if marker not in Path(entry.path, "environ").read_bytes().split(b"\0"):
                continue
            if Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # exited, not yet reaped
            if running not in Path(entry.path, "cmdline").read_bytes():
                continue
        except OSError:
            continue
        found.append(int(entry.name))
    return found


def wait_until_gone(home: Path) -> list[int]:
    deadline = time.monotonic() + GONE_S
    while (left := run_processes(home)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def warehouse_rows(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}
    finally:
        con.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough pages for a run to be caught in the middle of any stage."""
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run([str(FUPIN), "synth", "--pages", "1500", "--out", str(out)],
                   check=True, capture_output=True, timeout=HANG_S)
    return out / "pages"


@pytest.fixture(scope="module")
def loaded_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the sample pages loaded, to be copied by each test."""
    base = tmp_path_factory.mktemp("base")
    db = base / "fupin.duckdb"
    subprocess.run([str(FUPIN), "run", str(SAMPLES), "--db", str(db)], check=True,
                   env=run_env(base / "home"), capture_output=True, timeout=HANG_S)
    return db


@pytest.fixture
def warehouse(loaded_warehouse: Path, tmp_path: Path) -> Path:
    db = tmp_path / "fupin.duckdb"
    shutil.copyfile(loaded_warehouse, db)
    return db


def assert_stopped_cleanly(run: Run, code: int, name: str) -> None:
    """Exit code, the one line, no staging folder and no process of the run left."""
    assert run.exit_code() == code, run.output()
    output = run.output()
    assert f"interrupted by {name}; nothing was loaded" in output
    assert "Traceback" not in output
    assert run.staging() == []
    assert wait_until_gone(run.home) == []


@pytest.mark.slow
def test_ctrl_c_to_the_process_group_stops_a_run_during_extract(
    corpus: Path, warehouse: Path, tmp_path: Path
) -> None:
    before = sha256(warehouse)
    run = Run([str(corpus), "--db", str(warehouse), "--batch-size", "100"],
              run_env(tmp_path / "home"))
    run.wait_for(r"'clean-batch-0' - Finished")  # batches are on the worker processes now
    assert len(run_processes(run.home)) >= 3  # the run, its API server and its workers
    run.send(signal.SIGINT, group=True)  # what a terminal's Ctrl-C does
    assert_stopped_cleanly(run, 130, "SIGINT")
    assert sha256(warehouse) == before


@pytest.mark.slow
def test_sigterm_stops_a_run_during_validation(
    corpus: Path, warehouse: Path, tmp_path: Path
) -> None:
    before = sha256(warehouse)
    run = Run([str(corpus), "--db", str(warehouse), "--batch-size", "100"],
              run_env(tmp_path / "home"))
    run.wait_for(r"'extract-batch-4' - Finished")
    first_group = [folder / batch_folder_name(i) / FACTS.file
                   for folder in run.staging() for i in range(5)]
    while not all(path.exists() for path in first_group):  # its validation has begun
        assert run.proc.poll() is None, run.output()
        time.sleep(0.05)
    run.send(signal.SIGTERM)
    assert_stopped_cleanly(run, 143, "SIGTERM")
    assert sha256(warehouse) == before


@pytest.mark.slow
def test_sigint_to_the_run_alone_rolls_back_its_load(
    corpus: Path, warehouse: Path, tmp_path: Path
) -> None:
    before = warehouse_rows(warehouse)
    run = Run([str(corpus), "--db", str(warehouse)], run_env(tmp_path / "home"))
    run.wait_for(r"'validate-[0-9a-f]+' - Finished")  # the load task follows at once
    run.send(signal.SIGINT)  # `kill -INT PID`: the run's process only
    assert_stopped_cleanly(run, 130, "SIGINT")
    # DuckDB may have written the uncommitted rows' blocks into the file, so the bytes
    # can differ; what the file holds cannot.
    assert warehouse_rows(warehouse) == before


@pytest.mark.slow
def test_sigterm_stops_a_run_waiting_on_a_server_that_stalls(tmp_path: Path) -> None:
    page = SAMPLES / "longxi_2019_exit.html"
    stall = always(Reply(200, page.read_bytes(), delay=HANG_S))
    db = tmp_path / "fupin.duckdb"
    with serve({f"/news/{i}.html": stall for i in range(4)}) as site:
        urls = tmp_path / "urls.txt"
        urls.write_text("".join(site.url(f"/news/{i}.html") + "\n" for i in range(4)))
        run = Run([f"@{urls}", "--db", str(db)], run_env(tmp_path / "home"))
        deadline = time.monotonic() + HANG_S
        while not site.hits and time.monotonic() < deadline:  # the run is fetching
            assert run.proc.poll() is None, run.output()
            time.sleep(0.05)
        assert site.hits
        run.send(signal.SIGTERM)
        assert_stopped_cleanly(run, 143, "SIGTERM")
    assert not db.exists()


@pytest.mark.slow
def test_a_killed_run_leaves_no_process_and_the_next_run_removes_its_staging(
    corpus: Path, warehouse: Path, tmp_path: Path
) -> None:
    before = sha256(warehouse)
    env = run_env(tmp_path / "home")
    run = Run([str(corpus), "--db", str(warehouse), "--batch-size", "100"], env)
    run.wait_for(r"'clean-batch-0' - Finished")
    assert len(run_processes(run.home)) >= 3
    run.send(signal.SIGKILL)
    assert run.exit_code() == -signal.SIGKILL
    assert wait_until_gone(run.home) == []  # each child noticed on its own
    print(f"children gone {time.monotonic() - run.sent:.2f} s after the SIGKILL")
    assert sha256(warehouse) == before
    assert len(run.staging()) == 1  # nothing could remove it ...
    again = Run([str(SAMPLES), "--db", str(tmp_path / "other.duckdb")], env)
    assert again.exit_code() == 0, again.output()
    assert again.staging() == []  # ... until the next run


@pytest.mark.slow
def test_a_failed_run_removes_its_staging_and_its_processes(
    warehouse: Path, corpus: Path, tmp_path: Path
) -> None:
    before = warehouse_rows(warehouse)
    run = Run([str(corpus), "--db", str(warehouse), "--batch-size", "300"],
              run_env(tmp_path / "home", FUPIN_LOCK_WAIT="1"))
    run.wait_for(r"'fetch-batch-0' - Finished")  # batches are staged
    writer = duckdb.connect(str(warehouse))  # another process holds the warehouse
    try:
        assert run.exit_code() == 3, run.output()  # the load gave up waiting
    finally:
        writer.close()
    assert "is being written by another process" in run.output()
    assert run.staging() == []
    assert wait_until_gone(run.home) == []
    assert warehouse_rows(warehouse) == before


@pytest.fixture
def silent_api() -> Iterator[str]:
    """A socket that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/api"
    finally:
        server.close()


@pytest.mark.slow
def test_an_api_that_never_answers_fails_the_run_at_once_naming_it(
    silent_api: str, tmp_path: Path
) -> None:
    db = tmp_path / "fupin.duckdb"
    run = Run([str(SAMPLES), "--db", str(db)],
              {**run_env(tmp_path / "home"), "PREFECT_API_URL": silent_api})
    assert run.exit_code(timeout=120) == 1
    lines = run.output().splitlines()
    assert len(lines) == 1 and silent_api in lines[0] and "PREFECT_API_URL" in lines[0]
    assert not db.exists()
    assert run.staging() == []
    assert wait_until_gone(run.home) == []


def test_only_folders_of_runs_whose_process_is_gone_count_as_orphans(tmp_path: Path) -> None:
    killed = tmp_path / "run-killed"  # claimed by a process that is gone now
    subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c",
                    "import sys; from pathlib import Path; "
                    "from fupin.tasks.pipeline.run_folders import claim_run_folder; "
                    "claim_run_folder(Path(sys.argv[1]))", str(killed)],
                   cwd=REPO, check=True, timeout=60)
    mine = claim_run_folder(tmp_path / "run-mine")
    older = tmp_path / "run-older"  # staged by a version that recorded no owner
    older.mkdir()
    assert remove_orphaned_run_folders(tmp_path) == [str(killed)]
    assert sorted(tmp_path.iterdir()) == [mine, older]
    release_run_folder(mine)
    assert not mine.exists()
