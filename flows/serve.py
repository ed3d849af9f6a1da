"""Serve the deployments of prefect.yaml from one process, without a work pool.

``fupin serve`` reads the same file ``prefect deploy --all`` reads, so the
schedules, parameters and tags of a served run and a deployed run never drift.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from fupin.settings import PROJECT_ROOT, configure_environment

configure_environment()

from prefect import serve  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

from fupin.flows.etl import etl  # noqa: E402


def deployment_specs(prefect_yaml: Path) -> list[dict[str, Any]]:
    """The deployments of prefect.yaml whose entrypoint is the fupin-etl flow."""
    spec = yaml.safe_load(prefect_yaml.read_text(encoding="utf-8"))
    return [d for d in spec.get("deployments", []) if d.get("entrypoint", "").endswith(":etl")]


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


def serve_deployments(
    prefect_yaml: Path = PROJECT_ROOT / "prefect.yaml",
    names: list[str] | None = None,
    limit: int | None = 1,
) -> None:
    """Register the deployments with their schedules and run them as they come due."""
    base = prefect_yaml.resolve().parent
    deployments = [
        etl.to_deployment(
            name=d["name"],
            description=d.get("description"),
            tags=d.get("tags"),
            parameters=anchored_parameters(d.get("parameters") or {}, base),
            schedules=[Cron(s["cron"], timezone=s.get("timezone", "UTC"),
                            active=s.get("active", True))
                       for s in d.get("schedules") or []],
        )
        for d in deployment_specs(prefect_yaml)
        if not names or d["name"] in names
    ]
    if not deployments:
        raise SystemExit(f"fupin serve: no matching deployment in {prefect_yaml}")
    os.chdir(PROJECT_ROOT)  # the flow's entrypoint is relative to the checkout
    serve(*deployments, limit=limit)
