"""The fupin-etl flow: discover → fetch → clean → extract → validate → load → report.

Pages move in batches. Discover is a generator task: each batch is submitted as
fetch → clean → extract as soon as discover has written it, while discover walks
on, so a large run starts fetching at once and batches stream through the stages:
the thread runner's bounded pool keeps a few batches in flight (memory does not
grow with the corpus) and a batch is cleaned while the next one is fetched. Clean
and extract hand their batch to warm local worker processes (tasks.pipeline.runtime),
so every core is used.
Batches of about VALIDATE_PAGES pages (``tasks.pipeline.validation_stage``) are
validated together as soon as they are extracted;
the final validate task sums up and builds Data Docs, then load writes the run in
one transaction.
"""

from __future__ import annotations

from fupin.settings import configure_environment, settings

configure_environment()

import contextvars  # noqa: E402
import functools  # noqa: E402

from prefect import flow  # noqa: E402
from prefect.futures import PrefectFuture, wait  # noqa: E402

from fupin.flows.runners import Yields, make_task_runner, submit  # noqa: E402
from fupin.tasks import prefect_tasks as t  # noqa: E402
from fupin.tasks.pipeline.records import RunRecord  # noqa: E402
from fupin.tasks.pipeline.run_folders import release_run_folder  # noqa: E402
from fupin.tasks.pipeline.runtime import Runtime, local_workers  # noqa: E402
from fupin.tasks.pipeline.staging import BatchRef  # noqa: E402
from fupin.tasks.pipeline.validation_stage import batches_per_validation  # noqa: E402


@flow(name="fupin-etl", log_prints=False)
def etl(
    sources: list[str],
    db: str | None = None,
    batch_size: int | None = None,
    reprocess: bool = False,
    run_id: str | None = None,
    task_runner: str | None = None,
    workers: int | None = None,
) -> RunRecord:
    """Pull SOURCES into the warehouse ``db`` and return the run summary.

    ``reprocess`` cleans, extracts and validates pages again even when their bytes
    are unchanged (after a taxonomy or rule change). ``run_id`` names the run (a new
    id when not given). ``task_runner`` (threads, processes[:N], dask or
    dask:ADDRESS) and ``workers`` (processes for clean and extract with threads)
    choose how the batches run; unset, they and ``db`` and ``batch_size`` come from
    the FUPIN_* settings.
    """
    config = settings()
    db = str(db or config.db)
    runner_spec = task_runner or config.task_runner
    count = workers or config.workers
    size = batch_size or config.batch_size
    every = batches_per_validation(size)
    with Runtime(local_workers(runner_spec, count)) as runtime:
        planning = Yields(t.discover(sources, db, config.staging_dir, size, reprocess, run_id,
                                      runtime))
        copies: PrefectFuture[dict[str, str]] | None = None
        try:
            with make_task_runner(runner_spec, count) as runner:
                # While discover is suspended at a yield, its task run's context (and
                # transaction) is still the current one; the batch tasks are submitted in
                # the flow's own, so they are not children of discover (fetch depends on
                # it through its batch).
                flow_context = contextvars.copy_context()
                run = functools.partial(flow_context.run, submit, runner)
                checked: list[PrefectFuture[list[BatchRef]]] = []
                extracted: list[PrefectFuture[BatchRef]] = []
                every_extract: list[PrefectFuture[BatchRef]] = []
                for ref in planning:  # each batch as soon as discover has written it
                    fetched = run(t.fetch, ref=ref)
                    cleaned = run(t.clean, ref=fetched, runtime=runtime)
                    extracted.append(run(t.extract, ref=cleaned, runtime=runtime))
                    every_extract.append(extracted[-1])
                    if len(extracted) == every:
                        checked.append(run(t.validate_batches, refs=extracted,
                                           group=len(checked), runtime=runtime))
                        extracted = []
                if extracted:
                    checked.append(run(t.validate_batches, refs=extracted,
                                       group=len(checked), runtime=runtime))
                wait(every_extract)
                runtime.end_stage_workers()  # their memory is free for what follows
                groups = [c.result() for c in checked]  # a failed batch fails the run
            plan = planning.returned
            # on a thread of this process (it reads the warehouse), beside validate
            copies = t.find_copies.submit(plan, db)
            validated = t.validate(groups, db, runtime)  # and ends the run's processes
            loaded = t.load(plan, validated, db, sources, copies.result())
        finally:  # loaded or failed, the run's staging folder goes
            if copies is not None:  # it reads the folder
                copies.wait()
            planning.close()  # a discover stopped midway removes the folder itself
            if planning.returned is not None:
                release_run_folder(planning.returned.run_dir)
    return t.report(loaded, db)
