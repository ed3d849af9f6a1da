"""The fupin-etl flow: discover → fetch → clean → extract → validate → load → report.

Pages move in batches. Each batch is submitted as fetch → clean → extract, batch
after batch, so batches stream through the stages: the thread runner's bounded
pool keeps a few batches in flight (memory does not grow with the corpus) and a
batch is cleaned while the next one is fetched. Clean and extract hand their
batch to warm local worker processes (tasks.workers), so every core is used.
Every VALIDATE_EVERY batches are validated together as soon as they are extracted;
the final validate task sums up and builds Data Docs, then load writes the run in
one transaction.
"""

from __future__ import annotations

from pathlib import Path

from fupin.settings import configure_environment, default_db, staging_dir

configure_environment()

from prefect import flow  # noqa: E402

from fupin.flows.runners import local_worker_count, make_task_runner  # noqa: E402
from fupin.tasks import prefect_tasks as t  # noqa: E402
from fupin.tasks.pipeline.records import RunRecord  # noqa: E402
from fupin.tasks.pipeline.run_folders import release_run_folder  # noqa: E402
from fupin.tasks.workers import local_workers, stop_validator  # noqa: E402

DEFAULT_BATCH_SIZE = 200
# Batches validated together, while the next ones are still being extracted. GE's
# cost is mostly per call and its memory per row: every 2 batches saved ≈ 100 MB in
# the validation process but cost ≈ 15 % more time at 10,000 pages.
VALIDATE_EVERY = 5


@flow(name="fupin-etl", log_prints=False, task_runner=make_task_runner())
def etl(
    sources: list[str],
    db: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    reprocess: bool = False,
    run_id: str | None = None,
) -> RunRecord:
    """Pull SOURCES into the warehouse ``db`` and return the run summary.

    ``reprocess`` cleans, extracts and validates pages again even when their bytes
    are unchanged (after a taxonomy or rule change). ``run_id`` names the run (a new
    id when not given).
    """
    db = str(db or default_db())
    plan = t.discover(sources, db, str(staging_dir()), batch_size, reprocess, run_id)
    refs = plan.refs
    try:
        with local_workers(min(local_worker_count(), len(refs))):
            checked = []
            for group, first in enumerate(range(0, len(refs), VALIDATE_EVERY)):
                extracted = [t.extract.submit(t.clean.submit(t.fetch.submit(ref)))
                             for ref in refs[first:first + VALIDATE_EVERY]]
                checked.append(t.validate_batches.submit(extracted, group))
            groups = [c.result() for c in checked]  # a failed batch fails the run with its error
            validated = t.validate(groups, db)
        run = t.load(plan, validated, db, sources)
    finally:  # loaded or failed, the run's staging folder and validation process go
        stop_validator()
        release_run_folder(Path(plan.run_dir))
    return t.report(run, db)
