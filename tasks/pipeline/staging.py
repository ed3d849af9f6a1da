"""Parquet load packages: how batches hand their rows to the next stage.

Stages pass small ``BatchRef`` records (a folder and counts) instead of page
contents, so orchestration stays cheap, memory stays flat as the corpus grows,
and the final load reads every batch with one ``read_parquet`` glob. Every file
follows its entry in ``tasks.pipeline.kinds``: one whose columns differ is refused
here, when it is written and when it is read, naming the file and the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from fupin.tasks.pipeline.kinds import Kind
from fupin.tasks.pipeline.records import BatchCounts


class StagedFileError(ValueError):
    """A staged file's columns are not those its kind declares (tasks/pipeline/kinds.py)."""


@dataclass(frozen=True)
class BatchRef:
    """A staged batch: its folder and the counts the run summary adds up.

    ``write`` returns the batch with the written kind's count set, so a stage's
    counts are the rows it wrote, never a number kept beside them.
    """

    index: int
    folder: str
    counts: BatchCounts = field(default_factory=BatchCounts)

    def path(self, kind: Kind) -> Path:
        folder = Path(self.folder)
        return (folder.parent if kind.per_run else folder) / kind.file

    def read(self, kind: Kind, columns: list[str] | None = None) -> list[dict[str, Any]]:
        """The kind's rows (none when the stage wrote no file)."""
        return self.read_table(kind, columns).to_pylist()

    def read_table(self, kind: Kind, columns: list[str] | None = None) -> pa.Table:
        return read_table(self.path(kind), kind, columns)

    def write(self, kind: Kind, rows: list[dict[str, Any]]) -> BatchRef:
        return self.write_table(kind, table_of(kind, rows, self.path(kind)))

    def write_table(self, kind: Kind, table: pa.Table) -> BatchRef:
        write_table(self.path(kind), kind, table)
        return self.counted(kind, table.num_rows)

    def counted(self, kind: Kind, rows: int) -> BatchRef:
        if kind.count is None:
            return self
        return replace(self, counts=replace(self.counts, **{kind.count: rows}))

    def recount(self, kinds: tuple[Kind, ...]) -> BatchRef:
        """The batch with the counts of files put in place by other means (the stage cache)."""
        ref = self
        for kind in kinds:
            ref = ref.counted(kind, pq.read_metadata(self.path(kind)).num_rows)
        return ref


def table_of(kind: Kind, rows: list[dict[str, Any]], path: Path) -> pa.Table:
    """Rows as a table of the kind's schema; a row with a column too many or too few is
    refused rather than losing the column or leaving it empty."""
    schema = kind.schema
    names = set(schema.names)
    for row in rows:
        if row.keys() != names:
            missing, extra = sorted(names - row.keys()), sorted(row.keys() - names)
            raise StagedFileError(
                f"{_shown(path)}: a row " + "; ".join(
                    ([f"lacks {', '.join(missing)}"] if missing else [])
                    + ([f"has {', '.join(extra)}, which {kind.name} does not declare"]
                       if extra else []))
                + " (the columns are declared in tasks/pipeline/kinds.py)")
    return pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()


def write_table(path: Path, kind: Kind, table: pa.Table) -> None:
    """Write through a temporary file, so a reader never sees half a batch.

    The batch folder is made here, but never the run's folder above it: a run stopped
    by a signal removes that folder while a thread may still be writing a batch, and
    the write must fail rather than bring the folder back.
    """
    _check(path, kind, table.schema)
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)


def write_rows(path: Path, kind: Kind, rows: list[dict[str, Any]]) -> None:
    write_table(path, kind, table_of(kind, rows, path))


def read_table(path: Path, kind: Kind, columns: list[str] | None = None) -> pa.Table:
    """A staged file as Arrow (empty with the kind's schema when the stage wrote none)."""
    if not path.exists():
        empty = kind.schema.empty_table()
        return empty.select(columns) if columns else empty
    with pq.ParquetFile(path) as file:
        _check(path, kind, file.schema_arrow)
        return file.read(columns=columns)


def _check(path: Path, kind: Kind, found: pa.Schema) -> None:
    """Refuse a table whose columns or types are not the kind's."""
    wanted = kind.schema
    if found.equals(wanted):
        return
    missing = [n for n in wanted.names if n not in found.names]
    extra = [n for n in found.names if n not in wanted.names]
    retyped = [f"its column {n} is {found.field(n).type}, not {wanted.field(n).type}"
               for n in wanted.names
               if n in found.names and found.field(n).type != wanted.field(n).type]
    problems = ([f"lacks the column {', '.join(missing)}"] if missing else []) + (
        [f"has the undeclared column {', '.join(extra)}"] if extra else []) + retyped
    if not problems:  # the same columns in another order
        problems = [f"has its columns in the order {', '.join(found.names)}"]
    raise StagedFileError(f"{_shown(path)} {'; '.join(problems)} "
                          f"(its kind {kind.name} is declared in tasks/pipeline/kinds.py)")


def _shown(path: Path) -> str:
    """A staged file as a person finds it: its batch folder and its name."""
    return f"{path.parent.name}/{path.name}"
