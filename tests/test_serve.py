"""`fupin serve` on a real Prefect server: it serves prefect.yaml as `prefect deploy`
reads it (schedules, tags, concurrency limit), runs what the schedule brings due to
Completed, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FUPIN = Path(sys.executable).with_name("fupin")
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "pages" / "longxi_2019_exit.html"

pytestmark = pytest.mark.slow

PREFECT_YAML = """\
definitions:
  one_at_a_time: &one_at_a_time
    limit: 1
    collision_strategy: ENQUEUE
deployments:
  - name: serve-probe-{tag}
    entrypoint: flows/etl.py:etl
    tags: [fupin, probe]
    parameters: {{sources: [sources.yaml], db: wh/fupin.duckdb}}
    schedules:
      - cron: "15 4 * * *"
        timezone: Asia/Shanghai
    concurrency_limit: *one_at_a_time
  - name: serve-soon-{tag}
    entrypoint: flows/etl.py:etl
    parameters: {{sources: [pages], db: wh/soon.duckdb}}
    schedules:
      - interval: 20
    concurrency_limit: *one_at_a_time
"""


def _deployment(prefect_api, name: str) -> dict | None:
    found = prefect_api._post("deployments/filter", {"deployments": {"name": {"any_": [name]}}})
    return found[0] if found else None


def test_serve_honours_the_yaml_and_stops_cleanly_on_sigterm(
    prefect_server: str, prefect_api, tmp_path: Path
) -> None:
    name = f"serve-probe-{os.getpid()}"
    (tmp_path / "pages").mkdir()
    shutil.copy(SAMPLE, tmp_path / "pages")
    (tmp_path / "prefect.yaml").write_text(PREFECT_YAML.format(tag=os.getpid()), encoding="utf-8")
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(FUPIN), "serve", "--prefect-yaml", str(tmp_path / "prefect.yaml")],
            env={**os.environ, "PREFECT_API_URL": prefect_server},
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deployment = soon = None
        try:
            for _ in range(240):  # polls 0.5 s apart; a serve that never registers fails
                deployment = _deployment(prefect_api, name)
                soon = _deployment(prefect_api, f"serve-soon-{os.getpid()}")
                if (deployment and soon) or proc.poll() is not None:
                    break
                time.sleep(0.5)
            assert deployment and soon, log_path.read_text(errors="replace")[-3000:]
            assert deployment["global_concurrency_limit"]["limit"] == 1
            assert deployment["concurrency_options"]["collision_strategy"] == "ENQUEUE"
            assert set(deployment["tags"]) == {"fupin", "probe"}
            [schedule] = deployment["schedules"]
            assert schedule["schedule"]["cron"] == "15 4 * * *"
            assert schedule["schedule"]["timezone"] == "Asia/Shanghai"
            assert not deployment["paused"]
            state = None
            for _ in range(300):  # polls 1 s apart: the first scheduled run, run to its end
                runs = prefect_api._post("flow_runs/filter", {
                    "deployments": {"id": {"any_": [soon["id"]]}},
                    "flow_runs": {"state": {"type": {"any_": ["COMPLETED", "FAILED", "CRASHED"]}}},
                })  # fmt: skip
                if runs:
                    state = runs[0]["state"]["type"]
                    break
                time.sleep(1)
            assert state == "COMPLETED", log_path.read_text(errors="replace")[-3000:]
            assert (tmp_path / "wh" / "soon.duckdb").is_file()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    out = log_path.read_text(errors="replace")
    try:
        assert code == 0, out[-3000:]
        assert "never awaited" not in out and "Traceback" not in out, out[-3000:]
        assert "fupin serve: stopped" in out
        assert _deployment(prefect_api, name)["paused"], "schedules left running after stop"
    finally:
        for served in filter(None, (deployment, soon)):
            prefect_api.http.delete(f"deployments/{served['id']}")


def test_serve_names_a_broken_prefect_yaml_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "prefect.yaml"
    bad.write_text("deployments:\n  - name: x\n    entrypoint: flows/etl.py:etl\n"
                   "    schedules:\n      - cron: '0 1 * * *'\n        interval: 60\n",
                   encoding="utf-8")  # fmt: skip
    done = subprocess.run([str(FUPIN), "serve", "--prefect-yaml", str(bad)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("fupin serve: ") and str(bad) in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
