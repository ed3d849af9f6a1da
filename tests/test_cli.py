"""The `fupin` command as a user runs it: a subprocess with the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from shared_data import shared_path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "pages"
FUPIN = Path(sys.executable).with_name("fupin")

pytestmark = pytest.mark.slow


def fupin(*args: str, api: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_API_URL": api}
    proc = subprocess.run([str(FUPIN), *args], capture_output=True, text=True, env=env,
                          timeout=600, cwd=REPO)
    if check and proc.returncode != 0:
        raise AssertionError(f"fupin {args} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def sample_db(prefect_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "fupin.duckdb"
    proc = fupin("run", str(SAMPLES), "--db", str(db), "--json", api=prefect_server)
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["documents_loaded"] == 3
    for key in ("pages_in", "pages_unchanged", "documents_loaded", "pages_rejected",
                "facts_loaded", "facts_quarantined", "seconds"):
        assert key in summary
    return db


def test_sql_prints_a_table_and_json(sample_db: Path, prefect_server: str) -> None:
    table = fupin("sql", "SELECT count(*) AS n FROM dim_document", "--db", str(sample_db),
                  api=prefect_server).stdout
    assert "n" in table.splitlines()[0] and "3" in table
    rows = json.loads(fupin("sql", "SELECT doc_key FROM dim_document ORDER BY 1", "--json",
                            "--db", str(sample_db), api=prefect_server).stdout)
    assert [r["doc_key"] for r in rows] == sorted(f"pages/{p.name}" for p in SAMPLES.iterdir())


def test_sql_refuses_writes_with_a_clear_message(sample_db: Path, prefect_server: str) -> None:
    proc = fupin("sql", "DELETE FROM fact_indicator", "--db", str(sample_db),
                 api=prefect_server, check=False)
    assert proc.returncode != 0
    assert "read-only" in proc.stderr and "Traceback" not in proc.stderr


def test_export_facts_jsonl_and_csv(sample_db: Path, prefect_server: str) -> None:
    lines = fupin("export", "facts", "--db", str(sample_db), api=prefect_server).stdout
    rows = [json.loads(line) for line in lines.splitlines()]
    assert rows and list(rows[0])[:2] == ["fact_id", "doc_key"]
    csv_text = fupin("export", "facts", "--db", str(sample_db), "--format", "csv",
                     api=prefect_server).stdout
    assert csv_text.splitlines()[0].startswith("fact_id,doc_key,")
    assert len(csv_text.splitlines()) == len(rows) + 1


def test_a_run_against_a_server_of_the_users_sends_heartbeats(
    sample_db: Path, prefect_server: str
) -> None:
    """The server tells a crashed flow run by its missing heartbeats; only a run's own
    temporary API, which ends with the run, goes without them (test_workers)."""
    with duckdb.connect(str(sample_db), read_only=True) as con:
        (flow_run_id,), = con.execute("SELECT flow_run_id FROM etl_runs").fetchall()
    query = {"filter": {"event": {"name": ["prefect.flow-run.heartbeat"]},
                        "any_resource": {"id": [f"prefect.flow-run.{flow_run_id}"]}},
             "limit": 10}
    deadline = time.monotonic() + 60  # the server stores events a few seconds late
    while True:
        events = httpx.post(f"{prefect_server}/events/filter", json=query, timeout=10)
        events.raise_for_status()
        if events.json()["events"] or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert events.json()["events"], f"no heartbeat from flow run {flow_run_id}"


def test_clean_jsonl_reads_a_gbk_page(prefect_server: str) -> None:
    out = fupin("clean", str(SAMPLES / "bijie_2020_relocation_gbk.html"), "--jsonl",
                api=prefect_server).stdout
    record = json.loads(out)
    assert set(record) >= {"path", "title", "published", "source_site", "author", "body",
                           "flags"}
    assert record["title"] == "毕节市易地扶贫搬迁工作综述"
    assert "打印本页" not in record["body"] and "ICP" not in record["body"]


def test_run_on_the_seeds_loads_five_documents_and_eval_scores(
    prefect_server: str, tmp_path: Path
) -> None:
    seeds = shared_path("seeds")
    gold = shared_path("gold", "facts.jsonl")
    proc = fupin("run", str(seeds), "--db", str(tmp_path / "s.duckdb"), "--json",
                 api=prefect_server)
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["documents_loaded"] == 5 and summary["pages_rejected"] == 0
    report = json.loads(fupin("eval", "--gold", str(gold), str(seeds), "--json",
                              api=prefect_server).stdout
                        .strip().splitlines()[-1])
    assert report["seeds"] == sorted(p.stem for p in seeds.glob("*.txt"))
    # development figures; the year bar is explained in test_extract_gold.py
    assert report["f1"] >= 0.95 and report["year_accuracy"] >= 0.8
