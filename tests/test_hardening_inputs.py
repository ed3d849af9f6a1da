"""Hostile or careless inputs, through `fupin run` as a user runs it, on a real DuckDB file.

Document keys, list files, sources files, symlinks and odd file names: each bad input
must end as a queryable rejected page or a one-line usage error, and never cost
another page its document.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "pages"
FUPIN = Path(sys.executable).with_name("fupin")

pytestmark = pytest.mark.slow


def fupin(*args: str, api: str, cwd: Path = REPO,
          timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_API_URL": api}
    return subprocess.run([str(FUPIN), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=cwd)


def run_json(*args: str, api: str, cwd: Path = REPO) -> dict[str, Any]:
    proc = fupin("run", *args, "--json", api=api, cwd=cwd)
    # 4 or 5 (README: its exit status table) when pages were rejected, as these inputs often are
    assert proc.returncode in (0, 4, 5), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def page(path: Path, sample: str = "xiji_2016_briefing.html") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / sample, path)
    return path


# --- D2: keys are unique and stable across runs -------------------------------------


def test_same_file_name_in_two_folders_keeps_both_documents_across_runs(
    prefect_server: str, tmp_path: Path
) -> None:
    page(tmp_path / "A" / "index.html", "xiji_2016_briefing.html")
    page(tmp_path / "B" / "index.html", "longxi_2019_exit.html")
    db = tmp_path / "wh.duckdb"
    run_json(str(tmp_path / "A"), "--db", str(db), api=prefect_server)
    run_json(str(tmp_path / "B"), "--db", str(db), api=prefect_server)
    docs = rows(db, "SELECT doc_key, location FROM dim_document ORDER BY 1")
    assert docs == [("A/index.html", str(tmp_path / "A" / "index.html")),
                    ("B/index.html", str(tmp_path / "B" / "index.html"))]
    per_doc = dict(rows(db, "SELECT doc_key, count(*) FROM fact_indicator GROUP BY 1"))
    assert per_doc.get("A/index.html", 0) > 0 and per_doc.get("B/index.html", 0) > 0
    # The same folder spelled another way, or one of its files named alone, is the same page.
    again = run_json("./A/", "B/index.html", "--db", str(db), api=prefect_server, cwd=tmp_path)
    assert again["pages_unchanged"] == 2 and again["documents_loaded"] == 0


def test_folders_of_the_same_name_loaded_in_two_runs_keep_both_documents(
    prefect_server: str, tmp_path: Path
) -> None:
    first = page(tmp_path / "east" / "pages" / "index.html", "xiji_2016_briefing.html")
    second = page(tmp_path / "west" / "pages" / "index.html", "longxi_2019_exit.html")
    db = tmp_path / "wh.duckdb"
    run_json(str(first.parent), "--db", str(db), api=prefect_server)
    run_json(str(second.parent), "--db", str(db), api=prefect_server)
    docs = dict(rows(db, "SELECT location, doc_key FROM dim_document"))
    assert set(docs) == {str(first), str(second)}
    assert docs[str(first)] == "pages/index.html"
    assert docs[str(second)].startswith("pages/index.html~")
    # The second folder's key is its own from now on: a re-run finds it unchanged.
    again = run_json(str(second.parent), str(first.parent), "--db", str(db),
                     api=prefect_server)
    assert again["pages_unchanged"] == 2 and again["documents_loaded"] == 0


def test_a_warehouse_keyed_by_file_stems_moves_to_the_new_keys(
    prefect_server: str, tmp_path: Path
) -> None:
    pages = tmp_path / "pages"
    for sample in SAMPLES.iterdir():
        page(pages / sample.name, sample.name)
    db = tmp_path / "wh.duckdb"
    run_json(str(pages), "--db", str(db), api=prefect_server)
    facts_before = rows(db, "SELECT count(*) FROM fact_indicator")[0][0]
    # Leave the warehouse as an earlier version did: every key the file stem.
    with duckdb.connect(str(db)) as con:
        for table in ("fact_indicator", "fact_keyword", "extraction_skips",
                      "quarantined_facts", "dim_document"):
            con.execute(f"UPDATE {table} SET doc_key = "
                        "regexp_replace(doc_key, '^.*/([^/]*)\\.[a-z]+$', '\\1')")
    assert sorted(r[0] for r in rows(db, "SELECT doc_key FROM dim_document")) == sorted(
        p.stem for p in SAMPLES.iterdir())
    summary = run_json(str(pages), "--db", str(db), api=prefect_server)
    assert summary["pages_unchanged"] == 3 and summary["documents_loaded"] == 0
    assert sorted(r[0] for r in rows(db, "SELECT doc_key FROM dim_document")) == sorted(
        f"pages/{p.name}" for p in SAMPLES.iterdir())
    assert rows(db, "SELECT count(*) FROM fact_indicator")[0][0] == facts_before
    orphans = rows(db, "SELECT count(*) FROM fact_indicator WHERE doc_key NOT IN "
                       "(SELECT doc_key FROM dim_document)")
    assert orphans == [(0,)]


# --- D25: an existing file is that file, whatever its name looks like -----------------


def test_an_existing_file_named_like_a_glob_is_loaded(prefect_server: str, tmp_path: Path) -> None:
    report = page(tmp_path / "in" / "report[1].html")
    db = tmp_path / "wh.duckdb"
    summary = run_json(str(report), "--db", str(db), api=prefect_server)
    assert summary["documents_loaded"] == 1 and summary["pages_rejected"] == 0
    assert rows(db, "SELECT doc_key FROM dim_document") == [("in/report[1].html",)]


# --- D11: bad lines of a list file are rejected pages, the run goes on ---------------


def test_bad_list_lines_become_rejected_pages_and_the_rest_loads(
    prefect_server: str, tmp_path: Path
) -> None:
    lists = tmp_path / "lists"
    page(lists / "good.html")
    long_line = "县" * 5000
    (lists / "mixed.txt").write_text(
        f"good.html\nhttps://[::1\n{long_line}\n@mixed.txt\n", encoding="utf-8")
    (lists / "gbk.txt").write_bytes("良好.html\n".encode("gbk"))
    db = tmp_path / "wh.duckdb"
    summary = run_json(f"@{lists / 'mixed.txt'}", f"@{lists / 'gbk.txt'}", "--db", str(db),
                       api=prefect_server)
    assert summary["documents_loaded"] == 1
    assert summary["pages_in"] == summary["documents_loaded"] + summary["pages_rejected"]
    reasons = sorted(r[0] for r in rows(db, "SELECT reason FROM rejected_pages"))
    assert reasons == ["bad_url", "list_cycle", "too_long", "undecodable_source_list"]
    assert max(len(r[0]) for r in rows(db, "SELECT location FROM rejected_pages")) <= 200


# --- D7, D8: list files and the files they name stay inside their roots --------------


def test_lists_cannot_reach_files_outside_their_roots(prefect_server: str, tmp_path: Path) -> None:
    secret = tmp_path / "private" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("口令 hunter2\n", encoding="utf-8")
    outside_list = tmp_path / "private" / "names.txt"
    outside_list.write_text(f"{secret}\n", encoding="utf-8")
    project = tmp_path / "project"
    page(project / "data" / "ok.html")
    (project / "data" / "inside.txt").write_text(f"ok.html\n{secret}\n", encoding="utf-8")
    (project / "sources.yaml").write_text(
        "roots: [data]\n"
        "sources:\n"
        "  - {name: stray, kind: list, location: ../private/names.txt}\n", encoding="utf-8")
    db = tmp_path / "wh.duckdb"
    summary = run_json(str(project / "sources.yaml"), f"@{project / 'data' / 'inside.txt'}",
                       "--db", str(db), api=prefect_server)
    assert summary["documents_loaded"] == 1
    rejected = rows(db, "SELECT location, reason FROM rejected_pages ORDER BY 1")
    assert rejected == [(str(secret), "outside_roots"),
                        ("@../private/names.txt", "outside_roots")]
    assert rows(db, "SELECT count(*) FROM raw_pages WHERE contains(content::VARCHAR, "
                    "'hunter2')") == [(0,)]
    assert rows(db, "SELECT count(*) FROM raw_pages") == [(1,)]


# --- D24: links are recorded, never silently skipped ---------------------------------


def test_symlinks_in_a_folder_are_recorded(prefect_server: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    page(tree / "real.html")
    page(tmp_path / "elsewhere" / "other.html", "longxi_2019_exit.html")
    (tree / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tree / "gone.html").symlink_to(tmp_path / "nowhere.html")
    (tree / "loop.html").symlink_to(tree / "loop.html")
    db = tmp_path / "wh.duckdb"
    summary = run_json(str(tree), "--db", str(db), api=prefect_server)
    assert summary["documents_loaded"] == 1 and summary["pages_rejected"] == 3
    assert rows(db, "SELECT location, reason FROM rejected_pages ORDER BY 1") == [
        (str(tree / "gone.html"), "dangling_link"),
        (str(tree / "linked"), "symlinked_directory"),
        (str(tree / "loop.html"), "symlink_loop"),
    ]


# --- D4, D12, D13, D15: bad numbers and bad configuration stop before any work -------


@pytest.mark.parametrize("value", ["-5", "0", "many"])
def test_a_bad_batch_size_is_a_usage_error(prefect_server: str, tmp_path: Path,
                                           value: str) -> None:
    db = tmp_path / "wh.duckdb"
    proc = fupin("run", str(SAMPLES), "--db", str(db), "--batch-size", value,
                 api=prefect_server)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith(
        f"argument --batch-size: expected a whole number ≥ 1, got '{value}'")
    assert not db.exists()


SOURCES_FILES = {
    "wrong types": (
        "roots: samples\nsources:\n  - {name: a, kind: files, location: [1, 2]}\n",
        ["roots: expected a list of folder names, got 'samples'",
         "sources[1] (a).location: expected a non-empty text, got [1, 2]"],
    ),
    "bad options": (
        "defaults: {read_timeout: abc}\nsources:\n"
        "  - {name: site, kind: url, location: 'http://127.0.0.1:9/x.html',"
        " options: {workers: 0}}\n",
        ["defaults.read_timeout: expected a number > 0, got 'abc'",
         "sources[1] (site).options.workers: expected a whole number ≥ 1, got 0"],
    ),
    "per_host zero": (
        "sources:\n  - {name: site, kind: url, location: 'http://127.0.0.1:9/x.html',"
        " options: {per_host: 0}}\n",
        ["sources[1] (site).options.per_host: expected a whole number ≥ 1, got 0"],
    ),
}


@pytest.mark.parametrize("case", sorted(SOURCES_FILES))
def test_a_bad_sources_file_is_refused_line_by_line(prefect_server: str, tmp_path: Path,
                                                     case: str) -> None:
    text, expected = SOURCES_FILES[case]
    spec = tmp_path / "sources.yaml"
    spec.write_text(text, encoding="utf-8")
    db = tmp_path / "wh.duckdb"
    proc = fupin("run", str(spec), "--db", str(db), api=prefect_server, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines() == [f"fupin run: {spec}: {e}" for e in expected]
    assert not db.exists()


def test_a_sources_file_that_is_not_utf8_is_refused(prefect_server: str, tmp_path: Path) -> None:
    spec = tmp_path / "sources.yaml"
    head = b"sources:\n  - {name: "
    spec.write_bytes(head + "扶贫, kind: files, location: .}\n".encode("gbk"))
    proc = fupin("run", str(spec), "--db", str(tmp_path / "wh.duckdb"), api=prefect_server)
    assert proc.returncode == 2
    first = "扶".encode("gbk")[0]
    assert proc.stderr.strip().splitlines() == [
        f"fupin run: {spec}: not UTF-8 text (byte {first:#04x} at offset {len(head)})"]
