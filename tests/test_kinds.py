"""The registry of staged kinds is the one place a staged file's name and columns come from."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fupin.tasks.pipeline import kinds
from fupin.tasks.pipeline.records import BatchCounts
from fupin.tasks.pipeline.staging import BatchRef, StagedFileError
from fupin.tasks.warehouse import SCHEMA_SQL


def _keyword(rank: int) -> dict:
    return {"doc_key": "p", "rank": rank, "keyword": "扶贫", "weight": 0.5}


def test_a_table_that_lacks_a_declared_column_is_refused_naming_the_file_and_column(
    tmp_path: Path,
) -> None:
    ref = BatchRef(0, str(tmp_path / "batch-00000"))
    short = pa.Table.from_pylist([_keyword(1)], schema=kinds.KEYWORDS.schema).drop_columns(
        ["weight"])
    with pytest.raises(StagedFileError, match=r"batch-00000/keywords\.parquet lacks the column "
                                              r"weight .*tasks/pipeline/kinds\.py"):
        ref.write_table(kinds.KEYWORDS, short)
    assert not Path(ref.path(kinds.KEYWORDS)).exists()


def test_rows_with_a_column_too_few_or_too_many_are_refused(tmp_path: Path) -> None:
    ref = BatchRef(0, str(tmp_path / "batch-00000"))
    row = _keyword(1)
    del row["weight"]
    with pytest.raises(StagedFileError, match="a row lacks weight"):
        ref.write(kinds.KEYWORDS, [_keyword(1), row])
    with pytest.raises(StagedFileError, match="has score, which keywords does not declare"):
        ref.write(kinds.KEYWORDS, [{**_keyword(1), "score": 3}])


def test_a_staged_file_of_other_columns_is_refused_when_read(tmp_path: Path) -> None:
    # e.g. a file an older version wrote, with a column since retyped
    ref = BatchRef(0, str(tmp_path / "batch-00000"))
    Path(ref.path(kinds.KEYWORDS)).parent.mkdir()
    stale = pa.table({"doc_key": ["p"], "rank": ["1"], "keyword": ["扶贫"], "weight": [0.5]})
    pq.write_table(stale, ref.path(kinds.KEYWORDS))
    with pytest.raises(StagedFileError, match="its column rank is string, not int32"):
        ref.read(kinds.KEYWORDS)


def test_what_a_batch_counts_is_the_rows_it_wrote(tmp_path: Path) -> None:
    ref = BatchRef(0, str(tmp_path / "batch-00000"))
    out = ref.write(kinds.FACTS_OK, []).write(kinds.KEYWORDS, [_keyword(1), _keyword(2)])
    out = out.write_table(kinds.FACTS, pa.Table.from_pylist([], schema=kinds.FACTS.schema))
    assert out.counts == BatchCounts()
    docs = kinds.DOCS.schema.empty_table()
    assert out.write_table(kinds.DOCS, pa.concat_tables([docs])).counts.cleaned == 0
    rejected = [{"location": f"/p/{i}.html", "url": None, "doc_key": f"p{i}", "stage": "clean",
                 "reason": "undecodable", "detail": None, "recorded_at": None} for i in range(3)]
    counted = out.write(kinds.REJECTED_CLEAN, rejected).counts
    assert counted.rejected_clean == counted.pages_rejected == 3
    assert out.recount((kinds.KEYWORDS,)).counts == out.counts


def test_every_count_a_kind_names_is_a_batch_count() -> None:
    names = {f.name for f in fields(BatchCounts)}
    assert {k.count for k in kinds.KINDS if k.count} <= names


def test_every_loaded_kind_matches_the_columns_of_its_warehouse_table() -> None:
    # The load inserts staged rows by name: a column declared in the registry must
    # exist in schema.sql, or the load fails after all the work is done.
    con = duckdb.connect(":memory:")
    con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
    tables: dict[str, set[str]] = {}
    for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns()").fetchall():
        tables.setdefault(table, set()).add(column)
    con.close()
    for kind in kinds.KINDS:
        if kind.table:
            assert kind.table in tables, kind.name
            extra = set(kind.schema.names) - tables[kind.table] - set(kind.unloaded)
            assert not extra, f"{kind.name}: {sorted(extra)} not in {kind.table}"


def test_file_names_are_unique() -> None:
    files = [k.file for k in kinds.KINDS]
    assert len(files) == len(set(files))
