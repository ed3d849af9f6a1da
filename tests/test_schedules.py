"""prefect.yaml's cron schedules, deployed to a real Prefect server, produce runs.

Prefect 3.8.8's scheduler fails on SQLAlchemy 2.1 ("Can't evaluate bulk DML
statement") and then never schedules anything, while deployments look fine in
the UI. This test deploys the repository's own prefect.yaml with the Prefect CLI
and waits for the server's scheduler to create upcoming runs for both
deployments; with the broken pin it times out with none.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _prefect(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prefect", "--no-prompt", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_both_deployments_get_scheduled_runs(
    prefect_server: str, prefect_api, tmp_path: Path
) -> None:
    env = {**os.environ, "PREFECT_API_URL": prefect_server}
    pool = _prefect("work-pool", "create", "fupin-local", "--type", "process", env=env)
    assert pool.returncode == 0 or "already exists" in pool.stdout + pool.stderr, pool.stderr
    deployed = _prefect("deploy", "--all", env=env)
    assert deployed.returncode == 0, deployed.stdout[-2000:] + deployed.stderr[-2000:]

    names = {"daily-incremental", "weekly-full"}
    deployments = prefect_api._post("deployments/filter", {"limit": 50})
    ids = {d["id"]: d["name"] for d in deployments if d["name"] in names}
    assert set(ids.values()) == names

    try:
        _expect_scheduled_runs(prefect_api, ids, names)
        _expect_a_worker_completes_a_run(prefect_api, env, tmp_path)
    finally:  # the session's server is shared: leave no deployments and upcoming runs
        for deployment_id in ids:
            prefect_api.http.delete(f"deployments/{deployment_id}")


def _expect_scheduled_runs(prefect_api, ids: dict[str, str], names: set[str]) -> None:
    scheduled: dict[str, list[dict]] = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = prefect_api._post("flow_runs/filter", {
            "deployments": {"id": {"any_": list(ids)}},
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
            "limit": 200,
        })  # fmt: skip
        scheduled = {name: [r for r in runs if ids[r["deployment_id"]] == name] for name in names}
        if all(scheduled.values()):
            break
        time.sleep(2)
    counts = {k: len(v) for k, v in scheduled.items()}
    assert all(counts.values()), f"no scheduled runs: {counts}"
    # the cron of prefect.yaml, in its time zone: 06:30 daily and 02:00 on Sundays
    shanghai = ZoneInfo("Asia/Shanghai")
    for run in scheduled["daily-incremental"]:
        when = datetime.fromisoformat(run["expected_start_time"]).astimezone(shanghai)
        assert (when.hour, when.minute) == (6, 30)
    for run in scheduled["weekly-full"]:
        when = datetime.fromisoformat(run["expected_start_time"]).astimezone(shanghai)
        assert (when.weekday(), when.hour, when.minute) == (6, 2, 0)


def _expect_a_worker_completes_a_run(prefect_api, env: dict[str, str], tmp_path: Path) -> None:
    """A run of the deployed flow, scheduled for now, is picked up by a process worker of
    the pool prefect.yaml names and reaches Completed with the warehouse written."""
    pages = tmp_path / "pages"
    pages.mkdir()
    sample = REPO / "samples" / "pages" / "longxi_2019_exit.html"
    (pages / "p.html").write_bytes(sample.read_bytes())
    db = tmp_path / "worker.duckdb"
    created = _prefect("deployment", "run", "fupin-etl/daily-incremental",
                       "--param", f'sources=["{pages}"]', "--param", f"db={db}", env=env)
    assert created.returncode == 0, created.stdout[-2000:] + created.stderr[-2000:]
    worker_env = {**env, "FUPIN_PROJECT_DIR": str(REPO)}
    worker = subprocess.run(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", "fupin-local", "--run-once"],
        cwd=REPO, env=worker_env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    runs = prefect_api._post("flow_runs/filter", {
        "flow_runs": {"state": {"type": {"any_": ["COMPLETED", "FAILED", "CRASHED"]}}},
        "deployments": {"name": {"any_": ["daily-incremental"]}},
    })  # fmt: skip
    assert [r["state"]["type"] for r in runs] == ["COMPLETED"], worker.stdout[-3000:]
    assert db.is_file()
