"""Parquet load packages: how batches hand their rows to the next stage.

Stages pass small ``BatchRef`` records (a folder and counts) instead of page
contents, so orchestration stays cheap, memory stays flat as the corpus grows,
and the final load reads every batch with one ``read_parquet`` glob. A batch's
folder is a location of ``tasks.pipeline.storage``: a local folder or a prefix in
object storage, so workers on other machines read and write the same batches. Every file
follows its entry in ``tasks.pipeline.kinds``: one whose columns differ is refused
here, when it is written and when it is read, naming the file and the column.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from fupin.tasks.pipeline import storage
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

    def path(self, kind: Kind) -> str:
        return storage.join(storage.parent(self.folder) if kind.per_run else self.folder,
                            kind.file)

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
            ref = ref.counted(kind, pq.read_metadata(_opened(self.path(kind))).num_rows)
        return ref


def table_of(kind: Kind, rows: list[dict[str, Any]], path: str) -> pa.Table:
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


def write_table(path: str, kind: Kind, table: pa.Table) -> None:
    """Write whole or not at all (``storage.write_file``), so a reader never sees half a
    batch."""
    _check(path, kind, table.schema)
    storage.write_file(path, lambda target: pq.write_table(table, target, compression="zstd"))


def write_rows(path: str, kind: Kind, rows: list[dict[str, Any]]) -> None:
    write_table(path, kind, table_of(kind, rows, path))


def read_table(path: str, kind: Kind, columns: list[str] | None = None) -> pa.Table:
    """A staged file as Arrow (empty with the kind's schema when the stage wrote none)."""
    source = _opened(path)
    if source is None:
        empty = kind.schema.empty_table()
        return empty.select(columns) if columns else empty
    with pq.ParquetFile(source) as file:
        _check(path, kind, file.schema_arrow)
        return file.read(columns=columns)


def _opened(path: str) -> str | pa.BufferReader | None:
    """What pyarrow reads a staged file from: a local path as it is (pyarrow maps it),
    an object's bytes fetched with one GET; None when there is no such file."""
    if not storage.is_remote(path):
        return path if os.path.exists(path) else None
    data = storage.read_bytes(path)
    return None if data is None else pa.BufferReader(data)


def _check(path: str, kind: Kind, found: pa.Schema) -> None:
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


def _shown(path: str) -> str:
    """A staged file as a person finds it: its batch folder and its name."""
    return f"{storage.name(storage.parent(path))}/{storage.name(path)}"
