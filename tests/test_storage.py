"""Staged batches, run folders and the stage cache in object storage (a real S3 API on
127.0.0.1), as Dask workers on other machines use them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fupin.settings import SettingError, Settings
from fupin.tasks.models import Source
from fupin.tasks.pipeline import kinds, stages, storage
from fupin.tasks.pipeline.run_folders import (
    claim_run_folder,
    release_run_folder,
    remove_orphaned_run_folders,
)
from fupin.tasks.pipeline.staging import BatchRef, StagedFileError
from fupin.tasks.pipeline.summary import ProgressPlan, batch_progress, write_progress_plan
from tests.s3_server import S3, s3_server

REPO = Path(__file__).resolve().parents[1]
PAGE = ("<html><head><title>某县脱贫简报</title></head><body><div><p>"
        "2018年底,全县建档立卡贫困人口减少到0.8万人,贫困发生率降至2.1%。</p>" * 3
        + "</div></body></html>")


@pytest.fixture(scope="module")
def s3() -> Iterator[S3]:
    with s3_server() as server:
        yield server


def _objects(s3: S3, *prefix: str) -> list[str]:
    fs, path = storage.filesystem(s3.url(*prefix))
    return sorted(fs.find(path))


def _keyword(rank: int) -> dict:
    return {"doc_key": "p", "rank": rank, "keyword": "帮扶", "weight": 0.25}


def test_a_batch_in_object_storage_reads_back_what_was_written(s3: S3) -> None:
    ref = BatchRef(0, s3.url("staging", "run-a", "batch-00000"))
    out = ref.write(kinds.KEYWORDS, [_keyword(1), _keyword(2)])
    assert out.read(kinds.KEYWORDS) == [_keyword(1), _keyword(2)]
    assert ref.read(kinds.FACTS) == []  # a file no stage wrote: none, not an error
    assert _objects(s3, "staging", "run-a") == [
        f"{s3.bucket}/staging/run-a/batch-00000/{kinds.KEYWORDS.file}"]


def test_object_storage_refuses_other_columns_when_written_and_when_read(s3: S3) -> None:
    ref = BatchRef(0, s3.url("staging", "run-b", "batch-00000"))
    short = pa.Table.from_pylist([_keyword(1)], schema=kinds.KEYWORDS.schema).drop_columns(
        ["weight"])
    with pytest.raises(StagedFileError, match=r"batch-00000/keywords\.parquet lacks the column "
                                              r"weight"):
        ref.write_table(kinds.KEYWORDS, short)
    assert _objects(s3, "staging", "run-b") == []  # nothing half-written is left
    stale = pa.table({"doc_key": ["p"], "rank": ["1"], "keyword": ["帮扶"], "weight": [0.5]})
    storage.write_file(ref.path(kinds.KEYWORDS), lambda target: pq.write_table(stale, target))
    with pytest.raises(StagedFileError, match="its column rank is string, not int32"):
        ref.read(kinds.KEYWORDS)


def test_a_run_folder_in_object_storage_is_removed_whole(s3: S3) -> None:
    run_dir = claim_run_folder(s3.url("staging", "run-c"))
    for index in range(3):
        BatchRef(index, storage.join(run_dir, kinds.batch_folder_name(index))).write(
            kinds.KEYWORDS, [_keyword(index + 1)])
    assert len(_objects(s3, "staging", "run-c")) == 4  # the owner and three batches
    release_run_folder(run_dir)
    assert _objects(s3, "staging", "run-c") == []


def test_in_object_storage_only_this_hosts_runs_whose_process_is_gone_are_orphans(
    s3: S3,
) -> None:
    root = s3.url("orphans")
    subprocess.run([sys.executable, "-c",
                    "import sys; from fupin.tasks.pipeline.run_folders import claim_run_folder; "
                    "claim_run_folder(sys.argv[1])", storage.join(root, "run-killed")],
                   cwd=REPO, check=True, timeout=60)
    mine = claim_run_folder(storage.join(root, "run-mine"))
    # a run on another machine: its process cannot be seen from here, so it stays
    elsewhere = storage.join(root, "run-elsewhere")
    storage.write_bytes(storage.join(elsewhere, kinds.OWNER.file), b"1 1\nanother-host")
    assert socket.gethostname() != "another-host"
    assert remove_orphaned_run_folders(root) == [storage.join(root, "run-killed")]
    assert sorted(storage.name(f) for f in storage.glob(root, "*")) == [
        "run-elsewhere", "run-mine"]
    release_run_folder(mine)


def test_the_stage_cache_in_object_storage_restores_a_batch_it_has_seen(
    s3: S3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    cache = s3.url("cache")

    def cleaned(run: str) -> BatchRef:
        (ref,) = stages.plan_batches([Source(str(page), "file", "p")], {},
                                     s3.url("staging", run), 10)
        return stages.clean_stage(stages.fetch_stage(ref), cache)

    first = cleaned("run-d")
    docs = first.read(kinds.DOCS)
    assert len(docs) == 1 and first.counts.cleaned == 1

    def broken(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("recomputed")

    monkeypatch.setattr(stages, "clean_page", broken)
    again = cleaned("run-e")
    assert again.read(kinds.DOCS) == docs and again.counts.cleaned == 1


def test_progress_of_a_run_in_object_storage_is_read_from_one_listing(s3: S3) -> None:
    run_dir = s3.url("staging", "run-f")
    write_progress_plan(run_dir, ProgressPlan("flow-1", [("batch-00000", 5),
                                                         ("batch-00001", 7)]))
    BatchRef(1, storage.join(run_dir, "batch-00001")).write(kinds.FACTS, [])
    progress = batch_progress(run_dir)
    assert progress is not None
    assert (progress.batches, progress.extracted, progress.pages_extracted) == (2, 1, 7)


def test_the_storage_setting_takes_a_folder_or_a_url_fsspec_can_open(tmp_path: Path) -> None:
    home = {"FUPIN_HOME": str(tmp_path / "home")}
    assert Settings.from_env(home).staging_dir == str(tmp_path / "home" / "staging")
    assert Settings.from_env({**home, "FUPIN_STORAGE": "s3://archive/fupin/"}).cache_dir == (
        "s3://archive/fupin/cache")
    with pytest.raises(SettingError, match=r"^FUPIN_STORAGE='nosuch://x' cannot be opened"):
        Settings.from_env({**home, "FUPIN_STORAGE": "nosuch://x"})


def test_a_run_whose_storage_cannot_be_written_stops_before_any_work_naming_it(
    s3: S3, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(FUPIN_HOME=str(tmp_path / "home"), FUPIN_STORAGE="s3://no-such-bucket/fupin",
               PYTHONPATH=str(REPO))
    db = tmp_path / "fupin.duckdb"
    run = subprocess.run([str(Path(sys.executable).with_name("fupin")), "run",
                          str(REPO / "samples" / "pages"), "--db", str(db), "-q"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        "fupin: cannot write the staging area s3://no-such-bucket/fupin/staging "
        "(FUPIN_STORAGE): The specified bucket does not exist"]
    assert not db.exists()
