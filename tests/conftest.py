"""Test-wide set-up: an isolated fupin home, a real Prefect server when a test needs one,
and the news site the crawler tests crawl."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from crawl_site import CrawlSite

from fupin.api_server import free_port, stop_process

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    # Before anything imports Prefect: keep its home and caches out of the user's.
    home = Path(os.environ.setdefault("FUPIN_HOME", str(REPO / ".fupin" / "test-home")))
    home.mkdir(parents=True, exist_ok=True)
    from fupin.settings import configure_environment

    configure_environment()


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `prefect server` on 127.0.0.1; flows run by the tests report to it."""
    port = free_port()
    home = tmp_path_factory.mktemp("prefect-server-home")
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_API_URL": "",
        # new deployments get their upcoming runs within seconds, not a minute
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
    }
    log = open(home / "server.log", "wb")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api"
    import httpx

    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            raise RuntimeError((home / "server.log").read_text(errors="replace")[-3000:])
        time.sleep(0.5)
    previous = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous
        stop_process(proc, timeout=20)
        log.close()



class PrefectApi:
    """What the Prefect UI shows, read from the server's REST API."""

    def __init__(self, url: str) -> None:
        import httpx

        self.http = httpx.Client(base_url=url.rstrip("/") + "/", timeout=30)

    def _post(self, path: str, body: dict) -> list[dict]:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def flow_run(self, run_id: object) -> dict:
        response = self.http.get(f"flow_runs/{run_id}")
        response.raise_for_status()
        return response.json()

    def flow_runs(self) -> list[dict]:
        return self._post("flow_runs/filter", {"limit": 200, "sort": "START_TIME_ASC"})

    def task_runs(self, flow_run_id: object) -> list[dict]:
        return self._post("task_runs/filter", {
            "flow_runs": {"id": {"any_": [str(flow_run_id)]}},
            "limit": 200, "sort": "EXPECTED_START_TIME_ASC"})

    def task_run_states(self, task_run_id: str) -> list[dict]:
        response = self.http.get("task_run_states/", params={"task_run_id": task_run_id})
        response.raise_for_status()
        return response.json()

    def artifacts(self, flow_run_id: object) -> list[dict]:
        return self._post("artifacts/filter", {
            "flow_runs": {"id": {"any_": [str(flow_run_id)]}},
            "limit": 200, "offset": 0, "sort": "CREATED_DESC"})


@pytest.fixture(scope="session")
def prefect_api(prefect_server: str) -> PrefectApi:
    return PrefectApi(prefect_server)


@pytest.fixture
def crawl_site() -> Iterator[CrawlSite]:
    """The test site to crawl (tests/crawl_site.py), served on 127.0.0.1 for one test."""
    with CrawlSite() as site:
        yield site
