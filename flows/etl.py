"""The fupin-etl flow: discover → fetch → clean → extract → validate → load → report.

Pages move in batches; fetch, clean and extract are mapped per batch so a
batch can be cleaned while the next one is still being fetched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fupin.settings import configure_environment, default_db, home_dir

configure_environment()

from prefect import flow  # noqa: E402

from flows.runners import make_task_runner  # noqa: E402
from tasks import prefect_tasks as t  # noqa: E402

DEFAULT_BATCH_SIZE = 200


@flow(name="fupin-etl", log_prints=False, task_runner=make_task_runner())
def etl(
    sources: list[str],
    db: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    reprocess: bool = False,
) -> dict[str, Any]:
    """Pull SOURCES into the warehouse ``db`` and return the run summary.

    ``reprocess`` cleans, extracts and validates pages again even when their bytes
    are unchanged (after a taxonomy or rule change).
    """
    db = str(db or default_db())
    plan = t.discover(sources, db, str(home_dir() / "staging"), batch_size, reprocess)
    fetched = t.fetch.map(plan["refs"])
    cleaned = t.clean.map(fetched)
    extracted = t.extract.map(cleaned)
    validated = t.validate(extracted, str(Path(db).resolve().parent / "data_docs"))
    run = t.load(plan, validated, db, sources)
    return t.report(run, db)
