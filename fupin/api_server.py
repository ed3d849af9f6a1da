"""A run-scoped Prefect API, started before the heavy imports instead of after them.

A flow needs a Prefect API. With no PREFECT_API_URL, Prefect starts a temporary
server only when the flow begins and then waits several seconds for it to import
and come up, while the CLI sits idle. Starting the same server (Prefect's own app,
``create_app(ephemeral=True)``: no UI, no background services) first lets it boot
on the second core while this process imports Prefect and the stages. Unlike
Prefect's, it ends with the run even when the run is killed outright
(``fupin.lifeline``), and it stops at once when the run exits; a one-page run is
several seconds faster with it (measured in bench/README.md). A configured
PREFECT_API_URL (a real server, a deployment's worker) is left alone.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, closing, nullcontext
from pathlib import Path

from fupin.lifeline import live_with_parent
from fupin.settings import collector_paused, settings

STARTUP_TIMEOUT_S = 90.0
POLL_S = 0.05
# A configured API must answer its health check this fast; Prefect's own client
# would otherwise wait a minute per request and retry, silently.
PROBE_TIMEOUT_S = 5.0


# The run's API serves one flow run and no UI, so it registers no block types: to
# decide whether it must, Prefect imports every installed collection first (here
# prefect-dask, and with it dask.distributed and numpy), 0.6 of the server's 3 s of
# start-up. Blocks are what a UI edits; a run needs none. Public settings, and the
# user's environment still wins.
SERVER_DEFAULTS = {"PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
                   "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false"}


class ApiStartError(RuntimeError):
    """The Prefect API (temporary or configured) did not answer in time."""


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_path() -> Path:
    """The server's own output: kept out of the user's terminal (its shutdown is noisy)."""
    return settings().home / "api-server.log"


def _start(port: int) -> subprocess.Popen[bytes]:
    """The server Prefect itself would start: no UI, no background services.

    It gets a session of its own, so a terminal's Ctrl-C (sent to the whole
    foreground process group) reaches only the run, which stops the server itself.
    """
    env = {**SERVER_DEFAULTS,
           **{k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}}
    log_path().parent.mkdir(parents=True, exist_ok=True)
    with log_path().open("wb") as log:  # the child keeps its own handle
        return subprocess.Popen(
            [sys.executable, "-m", "fupin.api_server", str(os.getpid()), str(port)],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def serve(parent_pid: int, port: int) -> None:
    """The server process's body: it exits when the run that started it is gone."""
    live_with_parent(parent_pid)
    with collector_paused():
        import uvicorn
        from prefect.server.api.server import create_app

        app = create_app(ephemeral=True, final=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", lifespan="on")


def _wait_ready(proc: subprocess.Popen[bytes], url: str, timeout: float,
                meanwhile: Iterator[object]) -> None:
    """Poll the server's health every POLL_S seconds, taking steps of ``meanwhile``
    between polls instead of sleeping, while it has any."""
    import httpx  # here, not at the top: the server starts 50 ms sooner without it

    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = log_path().read_text(errors="replace")[-2000:]
                raise ApiStartError(
                    f"the Prefect API server exited with code {proc.returncode}:\n{tail}")
            try:
                if client.get(f"{url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            poll = time.monotonic() + POLL_S
            for _ in meanwhile:
                if time.monotonic() >= poll:
                    break
            else:
                time.sleep(max(0.0, poll - time.monotonic()))
    raise ApiStartError(f"the Prefect API server did not answer within {timeout:.0f} s")


def check_api(url: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Fail at once, naming the URL, when a configured API does not answer its health check."""
    import httpx

    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=timeout)
    except httpx.TimeoutException:
        raise ApiStartError(f"the Prefect API at {url} (PREFECT_API_URL) did not answer "
                            f"within {timeout:.0f} s") from None
    except httpx.HTTPError as exc:
        raise ApiStartError(f"the Prefect API at {url} (PREFECT_API_URL) cannot be "
                            f"reached: {exc}") from None
    if response.status_code != 200:
        raise ApiStartError(f"the Prefect API at {url} (PREFECT_API_URL) answered its "
                            f"health check with HTTP {response.status_code}")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Ask a server to stop; kill it when it does not within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class LocalApi:
    """Handle on the server: ``ready()`` blocks until it answers (once)."""

    def __init__(self, url: str, proc: subprocess.Popen[bytes] | None) -> None:
        self.url = url
        self._proc = proc
        self._ready = proc is None

    def ready(self, meanwhile: Iterable[object] = ()) -> str:
        """The API's URL once it answers. ``meanwhile``: work to do in steps while it
        boots; the step under way when the API answers is finished, the rest dropped."""
        if not self._ready and self._proc is not None:
            work = iter(meanwhile)
            try:
                _wait_ready(self._proc, self.url, STARTUP_TIMEOUT_S, work)
            finally:
                close = getattr(work, "close", None)
                if close is not None:  # a generator: let it release what it holds
                    close()
            self._ready = True
        return self.url

    def flow_settings(self) -> AbstractContextManager[object]:
        """Prefect settings for the flow run against this API.

        A flow run sends a heartbeat so that a server can tell it from a crashed
        one; the run's own temporary API dies with the run, and has no services that
        read heartbeats. The heartbeat thread sleeps in one-second steps and the flow
        joins it at its end: up to a second (0.85 s measured) added to every run.
        A configured server keeps them.
        """
        if self._proc is None:
            return nullcontext()
        from prefect.settings import temporary_settings

        return temporary_settings(updates={"flows.heartbeat_frequency": None})


def run_scoped_api() -> LocalApi:
    """Start a temporary API unless one is configured; PREFECT_API_URL points at it.

    Enter this before importing Prefect: Prefect reads PREFECT_API_URL on import.
    The server stops at interpreter exit, after Prefect has sent the logs and events
    it still holds (Prefect flushes them when threads shut down, before ``atexit``
    handlers run); stopped earlier, Prefect would retry sending them for a minute.
    """
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        check_api(configured)
    if configured or "prefect" in sys.modules:  # too late to redirect an imported Prefect
        return LocalApi(configured or "", None)
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    proc = _start(port)
    atexit.register(stop_process, proc)
    os.environ["PREFECT_API_URL"] = url
    return LocalApi(url, proc)


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
