"""Issue #17's acceptance: the daily deployment's flow (`fupin run sources.yaml`) crawls a
news site served from 127.0.0.1 through a sitemap index, two feeds and its listing
pages; a second run after the site publishes and edits brings in only what changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from crawl_site import CrawlSite

REPO = Path(__file__).resolve().parents[1]
FUPIN = Path(sys.executable).with_name("fupin")
ARTICLE = r"/(xw|zc|tp)/\d{4}/\d{2}/art_\d+\.html"


def _sources(path: Path, base: str) -> Path:
    # The Atom feed comes first and re-checks what it names on every run (recheck_days 0):
    # the second run's conditional GETs of those articles must be answered 304.
    path.write_text(f"""
defaults: {{retries: 1, per_host: 2}}
sources:
  - name: atom
    kind: feed
    location: {base}/atom.xml
    discover: {{recheck_days: 0}}
  - {{name: sitemap, kind: sitemap, location: "{base}/sitemap.xml"}}
  - {{name: rss, kind: feed, location: "{base}/rss.xml"}}
  - name: sections
    kind: site
    location: {base}/xw/index.html
    discover:
      start: ["{base}/tp/list", "{base}/zc/index.html"]
      include: ['{ARTICLE}']
""", encoding="utf-8")
    return path


def _fupin(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    done = subprocess.run([str(FUPIN), *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _run(sources: Path, db: Path) -> dict:
    done = _fupin("run", str(sources), "--db", str(db), "--json", "-q")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps({k: summary[k] for k in (
        "pages_in", "pages_unchanged", "documents_loaded", "pages_rejected", "facts_candidate",
        "facts_loaded", "facts_quarantined", "discovery")}, ensure_ascii=False))
    return summary


def _article_requests(site: CrawlSite) -> Counter:
    return Counter((r.path, r.status) for r in site.requests if r.article_id is not None)


def _frontier(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT kind, coalesce(last_status, '-'), count(*) FROM frontier "
                           "GROUP BY ALL ORDER BY ALL").fetchall()
    print("frontier:", rows)
    return rows


@pytest.mark.slow
def test_two_daily_runs_load_every_allowed_article_once_then_only_what_changed(
    crawl_site: CrawlSite, tmp_path: Path,
) -> None:
    site = crawl_site
    sources = _sources(tmp_path / "sources.yaml", site.base_url)
    db = tmp_path / "fupin.duckdb"
    allowed = set(site.allowed_article_urls())

    first = _run(sources, db)
    assert first["documents_loaded"] == len(allowed) == 200
    assert first["pages_in"] == first["pages_unchanged"] + first["documents_loaded"] \
        + first["pages_rejected"]
    assert first["pages_rejected"] == 0
    found = first["discovery"]
    assert found["urls_discovered"] == found["urls_new"] == len(allowed)
    assert found["urls_robots_skipped"] >= 100 and found["urls_offsite"] > 0
    with duckdb.connect(str(db), read_only=True) as con:
        keys = {k for (k,) in con.execute("SELECT doc_key FROM dim_document").fetchall()}
        articles = {u for (u,) in con.execute(
            "SELECT url FROM frontier WHERE kind = 'article'").fetchall()}
        blocked = {u for (u,) in con.execute(
            "SELECT url FROM frontier WHERE kind = 'robots_blocked'").fetchall()}
        from_atom = {u for (u,) in con.execute(
            "SELECT url FROM frontier WHERE kind = 'article' AND source = 'atom'").fetchall()}
    assert keys == allowed == articles
    assert set(site.disallowed_article_urls()) <= blocked
    fetched = _article_requests(site)
    assert all(path.split("/")[1] != "zc" for path, _ in fetched)  # robots.txt kept out
    assert set(fetched.values()) == {1}  # each allowed article fetched once
    assert not [r for r in site.requests if r.path.startswith("/xw/calendar")]
    first_frontier = _frontier(db)
    assert ("offsite", "-", found["urls_offsite"]) in first_frontier

    site.reset_log()
    published = site.publish(10)
    edited = site.edit([a.id for a in site.articles if a.allowed][:2])
    second = _run(sources, db)
    changed = {a.path for a in [*published, *edited]}
    fetched = _article_requests(site)
    assert {path for path, status in fetched if status == 200} == changed
    # what the Atom feed named in the first run is due on every run: a conditional GET
    due = {site.url(path) for path, status in fetched if status == 304}
    assert due == from_atom - {site.url(p) for p in changed} and len(due) > 5
    assert all(r.if_none_match for r in site.requests if r.status == 304)
    assert set(fetched.values()) == {1}
    # a sitemap whose section did not change is asked for with its validators: a 304
    sitemaps = {r.path: r.status for r in site.requests if r.path.startswith("/sitemaps/")}
    assert sitemaps == {"/sitemaps/zc.xml.gz": 304, "/sitemaps/xw.xml.gz": 200,
                        "/sitemaps/tp.xml.gz": 200}
    assert second["documents_loaded"] == 12 and second["pages_unchanged"] == len(due)
    assert second["pages_in"] == 12 + len(due) and second["pages_rejected"] == 0
    again = second["discovery"]
    assert (again["urls_new"], again["urls_due"]) == (10, 2 + len(due))
    assert again["urls_discovered"] == len(allowed) + 10
    assert again["urls_robots_skipped"] == found["urls_robots_skipped"]
    assert again["urls_waiting"] == again["urls_discovered"] - second["pages_in"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM dim_document").fetchall()[0][0] == 210
        for article in edited:
            url = site.url(article.path)
            stated = {(f.indicator, f.value) for f in article.facts}
            loaded = set(con.execute("SELECT indicator, value FROM v_facts WHERE doc_key = ?",
                                     [url]).fetchall())
            assert stated <= loaded, url
        runs = con.execute("SELECT urls_new, urls_due, listing_pages FROM etl_runs "
                           "ORDER BY started_at").fetchall()
    assert [r[:2] for r in runs] == [(200, 0), (10, 2 + len(due))]
    _frontier(db)

    # what is waiting, by source and kind, and in the HTML report
    by_kind, next_up = map(json.loads, _fupin("frontier", "--db", str(db), "--json",
                                              "--next", "5").stdout.splitlines())
    articles = {r["source"]: r for r in by_kind if r["kind"] == "article"}
    assert sum(r["urls"] for r in articles.values()) == 210
    assert articles["atom"]["due"] > 0 and len(next_up) == 5
    report = tmp_path / "report.html"
    _fupin("report", "--db", str(db), "--out", str(report))
    html = report.read_text(encoding="utf-8")
    assert 'id="discovery-counts"' in html and 'id="frontier"' in html
