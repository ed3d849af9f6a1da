"""Discover hands each batch on as soon as it is written: a run fetches its first batch
while a slow discovery source named after it is still being read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from http_server import Reply, Request, serve_handler

REPO = Path(__file__).resolve().parents[1]
FUPIN = Path(sys.executable).with_name("fupin")
PAGE = (REPO / "samples" / "pages" / "longxi_2019_exit.html").read_bytes()
# Long enough for a loaded machine to start the flow's first fetch; a run that plans
# every batch before fetching waits it out and is caught by the order of the log.
HOLD_S = 90


@pytest.mark.slow
def test_the_first_batch_is_fetched_while_a_sitemap_named_last_is_still_read(
    tmp_path: Path,
) -> None:
    log: list[str] = []
    page_asked = threading.Event()

    def pages(request: Request) -> Reply:
        log.append(f"page {request.path}")
        page_asked.set()
        return Reply(200, PAGE)

    def slow_site(request: Request) -> Reply:
        if request.path == "/sitemap.xml":
            log.append("sitemap asked")
            page_asked.wait(HOLD_S)  # held until the named page is fetched, or given up
            log.append("sitemap served")
            return Reply(200, SITEMAP.format(base=site).encode(),
                         {"Content-Type": "application/xml"})
        if request.path == "/news/2.html":
            log.append("article asked")
            return Reply(200, PAGE)
        return Reply(404, b"not found")

    with serve_handler(pages) as named, serve_handler(slow_site) as site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(f"""
sources:
  - {{name: named, kind: url, location: "{named}/news/1.html"}}
  - name: map
    kind: sitemap
    location: "{site}/sitemap.xml"
    options: {{read_timeout: {2 * HOLD_S}, total_timeout: {3 * HOLD_S}, retries: 0}}
""", encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(REPO), "FUPIN_HOME": str(tmp_path / "home"),
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        done = subprocess.run(
            [str(FUPIN), "run", str(sources), "--db", str(tmp_path / "fupin.duckdb"),
             "--batch-size", "1", "--json", "-q"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    print(log, {k: summary[k] for k in ("pages_in", "documents_loaded", "pages_rejected")})
    # the named page's batch was fetched while the sitemap after it was held
    assert log.index("page /news/1.html") < log.index("sitemap served")
    assert log[-1] == "article asked"  # and the sitemap's article came after, in its batch
    assert (summary["pages_in"], summary["documents_loaded"]) == (2, 2)
    assert summary["discovery"]["urls_new"] == 1


SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>{base}/news/2.html</loc></url>
</urlset>
"""
