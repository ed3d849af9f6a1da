"""Serve the deployments of prefect.yaml from one process, without a work pool.

``fupin serve`` reads prefect.yaml with the model ``prefect deploy --all`` reads it
with, and turns schedules the same way, so the schedules, parameters, tags and
concurrency limits of a served run and a deployed run never drift. It stops on
SIGINT or SIGTERM by stopping the runner from inside its event loop: Prefect's own
SIGTERM handler calls the synchronous ``Runner.stop`` from within the loop, where it
only creates a coroutine that is never awaited, and exits without pausing schedules.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import yaml

from fupin.settings import CODE_ROOT, configure_environment, work_root

configure_environment()

from prefect.cli.deploy._models import (  # noqa: E402
    ConcurrencyLimitSpec,
    DeploymentConfig,
    PrefectYamlModel,
)
from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule  # noqa: E402
from prefect.client.schemas.objects import (  # noqa: E402
    ConcurrencyLimitConfig,
    ConcurrencyLimitStrategy,
)
from prefect.deployments.runner import RunnerDeployment  # noqa: E402
from prefect.runner import Runner  # noqa: E402

from fupin.flows.etl import etl  # noqa: E402


class ServeError(Exception):
    """prefect.yaml cannot be served as it stands; the message says why."""


def deployment_specs(prefect_yaml: Path) -> list[tuple[DeploymentConfig, list[dict]]]:
    """The deployments of prefect.yaml whose entrypoint is the fupin-etl flow, each with
    its schedules as written (``prefect deploy`` converts those raw entries too)."""
    try:
        raw = yaml.safe_load(prefect_yaml.read_text(encoding="utf-8")) or {}
        model = PrefectYamlModel.model_validate(raw)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ServeError(f"{prefect_yaml}: {str(exc).splitlines()[0]}") from None
    return [(d, list(r.get("schedules") or ([r["schedule"]] if r.get("schedule") else [])))
            for d, r in zip(model.deployments, raw.get("deployments") or [], strict=True)
            if (d.entrypoint or "").endswith(":etl")]


def _anchor(path: str, base: Path) -> str:
    """A relative local path in a parameter means relative to the prefect.yaml holding it."""
    prefix = "@" if path.startswith("@") else ""
    bare = path[len(prefix):]
    if "://" in bare or Path(bare).is_absolute():
        return path
    return prefix + str(base / bare)


def anchored_parameters(parameters: dict[str, Any], base: Path) -> dict[str, Any]:
    out = dict(parameters)
    if isinstance(out.get("db"), str):
        out["db"] = _anchor(out["db"], base)
    if isinstance(out.get("sources"), list):
        out["sources"] = [_anchor(s, base) for s in out["sources"]]
    return out


def _concurrency(spec: int | ConcurrencyLimitSpec | None) -> int | ConcurrencyLimitConfig | None:
    if not isinstance(spec, ConcurrencyLimitSpec):
        return spec
    if spec.limit is None:
        return None
    strategy = spec.collision_strategy
    return ConcurrencyLimitConfig(
        limit=spec.limit,
        collision_strategy=ConcurrencyLimitStrategy(strategy) if strategy else None,
        grace_period_seconds=spec.grace_period_seconds,
    )


def runner_deployments(
    prefect_yaml: Path, names: list[str] | None = None
) -> list[RunnerDeployment]:
    """prefect.yaml's fupin-etl deployments, ready for a runner in this process."""
    base = prefect_yaml.resolve().parent
    specs = [(d, s) for d, s in deployment_specs(prefect_yaml) if not names or d.name in names]
    if not specs:
        wanted = f" named {', '.join(names)}" if names else ""
        raise ServeError(f"no fupin-etl deployment{wanted} in {prefect_yaml}")
    out = []
    for d, schedules in specs:
        tags = d.tags if isinstance(d.tags, list) else ([d.tags] if d.tags else None)
        try:
            out.append(etl.to_deployment(
                name=str(d.name),
                description=d.description,
                tags=tags,
                parameters=anchored_parameters(d.parameters, base),
                schedules=[_schedule_config_to_deployment_schedule(s) for s in schedules],
                concurrency_limit=_concurrency(d.concurrency_limit),
                paused=d.paused,
            ))
        except ValueError as exc:
            raise ServeError(f"{prefect_yaml}: deployment {d.name}: {exc}") from None
    return out


async def _serve(deployments: list[RunnerDeployment], limit: int | None) -> None:
    runner = Runner(limit=limit)
    for deployment in deployments:
        await runner.aadd_deployment(deployment)
    stop = asyncio.Event()

    async def stop_on_signal() -> None:
        while not runner.started:  # Runner.start installs its own SIGTERM handler first
            await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.astop()

    watcher = asyncio.create_task(stop_on_signal())
    try:
        await runner.start()
    finally:
        watcher.cancel()


def serve_deployments(
    prefect_yaml: Path | None = None,
    names: list[str] | None = None,
    limit: int | None = 1,
) -> None:
    """Register the deployments with their schedules and run them as they come due,
    until SIGINT or SIGTERM; then stop taking runs and pause the schedules."""
    prefect_yaml = (prefect_yaml or work_root() / "prefect.yaml").resolve()
    os.chdir(CODE_ROOT)  # entrypoints are taken relative to the folder holding flows/
    deployments = runner_deployments(prefect_yaml, names)
    names_served = ", ".join(d.name for d in deployments)
    print(f"fupin serve: serving {names_served} (Ctrl-C or SIGTERM stops)", flush=True)
    asyncio.run(_serve(deployments, limit))
    print("fupin serve: stopped", flush=True)
