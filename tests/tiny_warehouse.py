"""A small fupin warehouse written directly, for tests of the commands that read one."""

from __future__ import annotations

from pathlib import Path

from fupin.tasks.warehouse import connect, ensure_schema


def tiny_warehouse(db: Path, body: str, facts: list[tuple[str, float, str]]) -> Path:
    """One completed run, one document with ``body``, and ``facts`` as (indicator, value,
    unit), each with a three-character span of its own."""
    with connect(db) as con:
        ensure_schema(con)
        con.execute("INSERT INTO etl_runs (run_id, started_at, status) VALUES "
                    "('r1', now(), 'completed')")
        con.execute("INSERT INTO dim_document (doc_key, location, content_sha256, body, "
                    "body_chars, run_id) VALUES ('d1', 'd1.html', 'abc', ?, ?, 'r1')",
                    [body, len(body)])
        for n, (indicator, value, unit) in enumerate(facts):
            con.execute(
                "INSERT INTO fact_indicator (fact_id, doc_key, ordinal, indicator, value, unit, "
                "qualifier, evidence, sentence, char_start, char_end, rule, confidence, run_id) "
                "VALUES (?, 'd1', ?, ?, ?, ?, 'exact', 'e', 's', ?, ?, 'cue_left', 0.9, 'r1')",
                [f"f{n}", n, indicator, value, unit, n * 10, n * 10 + 3])
    return db
