"""Discovery sources (sitemap, feed, site) on small sites served from 127.0.0.1: what a
run fetches, what it records in the frontier, and what it never touches."""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fupin.tasks.acquire.discovery import Discovery, discover
from fupin.tasks.acquire.fetch import FetchOptions, fetch_batch
from fupin.tasks.acquire.links import listing_evidence, request_url, url_key
from fupin.tasks.acquire.sources import (
    SourcesFileError,
    discovery_entries,
    expand_sources,
    legacy_key,
    legacy_keys,
    read_sources_file,
)
from fupin.tasks.models import DiscoverOptions, DiscoveryEntry, Known, Source
from fupin.tasks.pipeline.kinds import RAW
from fupin.tasks.pipeline.records import DiscoveryCounts, RunCounts, RunRecord
from fupin.tasks.pipeline.stages import clean_stage
from fupin.tasks.pipeline.staging import BatchRef
from fupin.tasks.pipeline.summary import EXIT_NOTHING_LOADED, exit_status, summary_markdown
from tests.http_server import Reply, Request, always, serve, serve_handler

NOW = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)
FAST = FetchOptions(retries=0, connect_timeout=2, read_timeout=2, total_timeout=5)


def _html(body: str) -> Reply:
    return Reply(body=f"<html><body>{body}</body></html>".encode())


def _article(n: int) -> Reply:
    return _html(f"<h1>某县扶贫简讯{n}</h1><p>全县累计投入扶贫资金{n}亿元，退出贫困村{n}个。"
                 "这一段文字写得比较长，让正文远多于链接的文字。</p>"
                 "<a href='/xw/1.html'>相关</a>")


def _listing(links: list[tuple[str, str]]) -> Reply:
    return _html("<ul>" + "".join(f"<li><a href='{h}'>{t}</a></li>" for h, t in links) + "</ul>")


def _xml(text: str, gz: bool = False) -> Reply:
    if gz:
        return Reply(body=gzip.compress(text.encode()),
                     headers={"Content-Type": "application/gzip"})
    return Reply(body=text.encode(), headers={"Content-Type": "application/xml"})


ROBOTS = always(Reply(body=b"User-agent: *\nDisallow: /zc/\nCrawl-delay: 0.01\n",
                      headers={"Content-Type": "text/plain"}))


def _entry(kind: str, url: str, **options: object) -> DiscoveryEntry:
    return DiscoveryEntry(f"{kind}-source", kind, url, "", DiscoverOptions.of(dict(options)))


def _urlset(base: str, paths: list[str], lastmod: str = "2026-11-01") -> str:
    rows = "".join(f"<url><loc>{base}{p}</loc><lastmod>{lastmod}</lastmod></url>" for p in paths)
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{rows}</urlset>'


def test_url_variants_collapse_to_one_key() -> None:
    key = url_key("http://news.example.cn/xw/1.html")
    for variant in ("HTTP://News.Example.cn:80/xw/1.html#top",
                    "http://news.example.cn/xw/1.html?utm_source=wx&from=timeline",
                    "http://news.example.cn/xw/1.html?spm=a.b.c",
                    "http://news.example.cn/xw/1.html;jsessionid=ABC123"):
        assert url_key(variant) == key
    assert url_key("http://news.example.cn/xw/index.html") == "http://news.example.cn/xw/"
    assert url_key("http://a.cn/l?b=2&a=1&sid=9") == url_key("http://a.cn/l?a=1&b=2")
    assert url_key("http://a.cn/l?page=2") != url_key("http://a.cn/l?page=3")
    assert request_url("http://a.cn/s?id=%E4%B8%AD&utm_medium=x#c") == "http://a.cn/s?id=%E4%B8%AD"
    assert request_url("http://a.cn/show?123") == "http://a.cn/show?123"


def test_sitemap_index_with_gzipped_children_robots_and_offsite() -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        routes["/sitemap.xml"] = always(_xml(
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{b}/sm/xw.xml.gz</loc></sitemap>"
            f"<sitemap><loc>{b}/sm/zc.xml.gz</loc></sitemap>"
            "<sitemap><loc>http://other.example.cn/sm.xml</loc></sitemap></sitemapindex>"))
        routes["/sm/xw.xml.gz"] = always(_xml(_urlset(b, [
            "/xw/1.html", "/xw/2.html", "/xw/2.html?utm_source=wx"]), gz=True))
        routes["/sm/zc.xml.gz"] = always(_xml(_urlset(b, ["/zc/1.html"]), gz=True))
        found = discover([_entry("sitemap", b + "/sitemap.xml")], {}, FAST, NOW)
    assert sorted(s.doc_key for s in found.sources) == [b + "/xw/1.html", b + "/xw/2.html"]
    assert all('"politeness": 0.01' in s.options for s in found.sources)  # Crawl-delay
    kinds = {url: row["kind"] for url, row in found.frontier.items()}
    assert kinds[b + "/zc/1.html"] == "robots_blocked"
    assert kinds["http://other.example.cn/sm.xml"] == "offsite"
    assert kinds[b + "/sm/xw.xml.gz"] == "sitemap"
    assert found.frontier[b + "/xw/1.html"]["lastmod"] == datetime(2026, 11, 1, tzinfo=UTC)
    c = found.counts
    assert (c.urls_discovered, c.urls_new, c.urls_robots_skipped, c.urls_offsite) == (2, 2, 1, 1)
    assert site.hits["/zc/1.html"] == 0 and site.hits["/robots.txt"] == 1


def test_a_second_run_fetches_only_what_is_new_due_or_moved() -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        routes["/sm.xml"] = always(_xml(
            _urlset(b, ["/xw/1.html", "/xw/2.html"]) .replace(
                "</urlset>", f"<url><loc>{b}/xw/3.html</loc><lastmod>2026-11-29</lastmod></url>"
                f"<url><loc>{b}/xw/4.html</loc></url></urlset>")))
        fetched = NOW - timedelta(days=1)
        frontier = {
            b + "/xw/1.html": Known("article", datetime(2026, 11, 1, tzinfo=UTC),
                                    NOW + timedelta(days=6), fetched),  # waiting
            b + "/xw/2.html": Known("article", datetime(2026, 11, 1, tzinfo=UTC),
                                    NOW - timedelta(hours=1), fetched),  # re-check due
            b + "/xw/3.html": Known("article", datetime(2026, 11, 1, tzinfo=UTC),
                                    NOW + timedelta(days=6), fetched),  # lastmod moved
        }
        found = discover([_entry("sitemap", b + "/sm.xml")], frontier, FAST, NOW)
        everything = discover([_entry("sitemap", b + "/sm.xml")], frontier, FAST, NOW,
                              recheck_all=True)  # the weekly full run
    assert sorted(s.doc_key.rsplit("/", 1)[1] for s in found.sources) == [
        "2.html", "3.html", "4.html"]
    c = found.counts
    assert (c.urls_discovered, c.urls_new, c.urls_due, c.urls_waiting) == (4, 1, 2, 1)
    assert found.frontier[b + "/xw/1.html"]["next_check"] == NOW + timedelta(days=6)
    assert not found.frontier[b + "/xw/1.html"]["scheduled"]
    assert found.frontier[b + "/xw/3.html"]["found_in"] == b + "/sm.xml"
    assert (everything.counts.urls_due, everything.counts.urls_waiting) == (3, 0)


def test_feeds_rss_and_atom() -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        routes["/rss.xml"] = always(Reply(body=(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>新闻</title>'
            f"<item><title>一</title><link>{b}/xw/1.html?from=rss</link>"
            "<pubDate>Mon, 30 Nov 2026 01:00:00 +0000</pubDate></item>"
            f"<item><title>二</title><link>{b}/zc/2.html</link></item>"
            "</channel></rss>").encode(), headers={"Content-Type": "application/rss+xml"}))
        routes["/atom.xml"] = always(Reply(body=(
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>新闻</title><entry><title>三</title><link href='{b}/tp/3.html'/>"
            "<updated>2026-11-29T08:00:00Z</updated></entry></feed>").encode(),
            headers={"Content-Type": "application/atom+xml"}))
        found = discover([_entry("feed", b + "/rss.xml"), _entry("feed", b + "/atom.xml")],
                         {}, FAST, NOW)
        assert site.hits["/robots.txt"] == 1  # once per host per run, for both sources
    assert [s.doc_key for s in found.sources] == [b + "/xw/1.html", b + "/tp/3.html"]
    assert found.frontier[b + "/tp/3.html"]["lastmod"] == datetime(2026, 11, 29, 8, tzinfo=UTC)
    assert found.frontier[b + "/zc/2.html"]["kind"] == "robots_blocked"


def test_site_follows_pagination_only_within_depth_and_page_cap() -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        routes["/xw/index.html"] = always(_listing(
            [("/xw/a1.html?utm_source=x", "一"), ("/xw/a2.html", "二"),
             ("/xw/index_1.html", "下一页"), ("/xw/calendar?month=1", "日历"),
             ("http://other.example.cn/x.html", "外站"),
             ("/zc/p.html", "政策")]))
        routes["/xw/index_1.html"] = always(_listing(
            [("/xw/a3.html", "三"), ("/xw/a1.html", "一"), ("/xw/index_2.html", "下一页"),
             ("/xw/index.html;jsessionid=42", "首页")]))
        routes["/xw/index_2.html"] = always(_listing([("/xw/a4.html", "四")]))
        entry = _entry("site", b + "/xw/index.html", include=[r"/xw/a\d+\.html"], depth=1)
        found = discover([entry], {}, FAST, NOW)
        assert site.hits["/xw/index_2.html"] == 0  # past the depth
        assert site.hits["/xw/calendar?month=1"] == 0  # not a listing, not an article
        assert site.hits["/xw/index.html;jsessionid=42"] == 0  # the same listing
        capped = discover([_entry("site", b + "/xw/index.html", max_listing_pages=1,
                                  max_pages=1)], {}, FAST, NOW)
    assert sorted(s.doc_key.rsplit("/", 1)[1] for s in found.sources) == [
        "a1.html", "a2.html", "a3.html"]
    assert found.frontier[b + "/xw/"]["kind"] == "listing"
    assert found.frontier[b + "/xw/index_1.html"]["kind"] == "listing"
    assert found.frontier["http://other.example.cn/x.html"]["kind"] == "offsite"
    assert found.counts.listing_pages == 2 and found.counts.urls_offsite == 1
    assert len(capped.sources) == 1 and capped.counts.urls_waiting > 0
    assert capped.counts.listing_pages == 1


def test_a_closed_robots_txt_closes_its_host() -> None:
    routes = {"/robots.txt": always(Reply(503, b"down"))}
    with serve(routes) as site:
        routes["/sm.xml"] = always(_xml(_urlset(site.base, ["/xw/1.html"])))
        found = discover([_entry("sitemap", site.base + "/sm.xml")], {}, FAST, NOW)
        assert site.hits["/sm.xml"] == 0
    assert found.sources == [] and found.counts.urls_robots_skipped == 1


def test_a_page_of_links_is_a_listing_not_a_document(tmp_path: Path) -> None:
    heads = [(f"/xw/{i}.html", f"某县召开第{i}次脱贫攻坚推进会") for i in range(20)]
    listing = _listing(heads).body
    article = _article(3).body
    assert listing_evidence(listing.decode()) is not None
    assert listing_evidence(article.decode()) is None
    ref = BatchRef(0, str(tmp_path / "batch-00000"))
    rows = [{"sha256": str(i), "location": f"http://a.cn/{i}", "url": f"http://a.cn/{i}",
             "doc_key": f"http://a.cn/{i}", "fetched_at": NOW, "http_status": 200,
             "content_type": "text/html", "declared_charset": "utf-8", "etag": None,
             "last_modified": None, "size_bytes": len(body), "content": body}
            for i, body in enumerate([listing, article])]
    out = clean_stage(ref.write(RAW, rows))
    assert (out.counts.cleaned, out.counts.rejected_clean) == (1, 1)


def _yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sources_file_takes_discovery_entries_and_refuses_bad_options(tmp_path: Path) -> None:
    good = _yaml(tmp_path, """
defaults: {politeness: 0.5}
sources:
  - {name: map, kind: sitemap, location: "http://a.cn/sitemap.xml"}
  - name: section
    kind: site
    location: http://a.cn/xw/index.html
    discover: {include: ['/xw/\\d+'], depth: 3, max_pages: 50, recheck_days: 0.5}
""")
    entries = discovery_entries([str(good)])
    assert [(e.name, e.kind) for e in entries] == [("map", "sitemap"), ("section", "site")]
    assert entries[1].options.include == (r"/xw/\d+",) and entries[1].options.depth == 3
    assert '"politeness": 0.5' in entries[0].fetch_options
    assert list(expand_sources([str(good)])) == []  # found at run time, not named
    bad = _yaml(tmp_path, """
sources:
  - {name: m, kind: sitemap, location: a.cn/sitemap.xml}
  - {name: s, kind: site, location: "http://a.cn/", discover: {depth: -1, include: ['(']}}
  - {name: u, kind: url, location: "http://a.cn/1.html", discover: {depth: 1}}
  - {name: f, kind: feed, location: "http://a.cn/rss", discover: {speed: 3}}
""")
    with pytest.raises(SourcesFileError) as err:
        read_sources_file(bad)
    problems = "\n".join(err.value.problems)
    assert len(err.value.problems) == 5
    for part in ("(m).location: expected an http(s) URL", "(s).discover.depth: expected a whole",
                 "(s).discover.include: '(' is not a regular expression",
                 "(u).discover: only a sitemap, feed, site entry",
                 "(f).discover.speed: unknown option"):
        assert part in problems


def test_the_summary_shows_discovery_and_a_run_with_nothing_due_is_no_fault() -> None:
    found = DiscoveryCounts(urls_discovered=210, urls_new=10, urls_due=3, urls_waiting=197,
                            urls_robots_skipped=101, urls_offsite=2, listing_pages=20)
    run = RunRecord("r1", None, NOW, ["sources.yaml"], RunCounts(), 1.0, discovery=found)
    text = summary_markdown(run, {})
    assert "## Discovery" in text and "| 210 | 10 | 3 | 197 | 101 | 2 | 20 |" in text
    assert "## Discovery" not in summary_markdown(replace(run, discovery=DiscoveryCounts()), {})
    assert exit_status(RunCounts(), DiscoveryCounts(urls_discovered=5, urls_waiting=5)) == 0
    assert exit_status(RunCounts(), DiscoveryCounts()) == EXIT_NOTHING_LOADED


def test_batches_fetched_at_once_keep_to_one_per_host_limit() -> None:
    """A run keeps several batches in flight; a site crawled through them must still see
    no more than ``per_host`` requests at a time."""
    lock = threading.Lock()
    now = {"in": 0, "most": 0}

    def handle(_request: Request) -> Reply:
        with lock:
            now["in"] += 1
            now["most"] = max(now["most"], now["in"])
        time.sleep(0.2)  # long enough for a second batch's request to overlap this one
        with lock:
            now["in"] -= 1
        return _article(1)

    with serve_handler(handle) as base:
        options = FetchOptions(per_host=1, retries=0)
        batches = [[Source(f"{base}/{b}/{i}.html", "http", f"{base}/{b}/{i}.html")
                    for i in range(3)] for b in range(2)]
        threads = [threading.Thread(target=fetch_batch, args=(batch, options))
                   for batch in batches]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert now["most"] == 1


# --- what a hostile or careless site does -------------------------------------------

def _rows(found: Discovery) -> dict[str, tuple[str, str | None]]:
    return {url: (row["kind"], row["last_status"]) for url, row in found.frontier.items()}


def test_a_robots_txt_that_fails_is_recorded_and_read_again_next_run() -> None:
    answers = iter([Reply(503, b"down"), Reply(body=b"User-agent: *\nDisallow:\n",
                                                headers={"Content-Type": "text/plain"})])
    routes = {"/robots.txt": lambda _n: next(answers)}
    with serve(routes) as site:
        b = site.base
        routes["/sm.xml"] = always(_xml(_urlset(b, ["/xw/1.html"])))
        closed = discover([_entry("sitemap", b + "/sm.xml")], {}, FAST, NOW)
        reopened = discover([_entry("sitemap", b + "/sm.xml")], {}, FAST, NOW)
    rows = _rows(closed)
    assert rows[b + "/sm.xml"] == ("robots_blocked", "robots_unavailable")
    assert rows[b + "/robots.txt"] == ("robots", "http_503: host closed this run")
    assert [s.doc_key for s in reopened.sources] == [b + "/xw/1.html"]
    assert _rows(reopened)[b + "/robots.txt"] == ("robots", "200")


def test_a_huge_crawl_delay_is_capped_and_noted() -> None:
    routes = {"/robots.txt": always(Reply(body=b"User-agent: *\nCrawl-delay: 3600\n",
                                          headers={"Content-Type": "text/plain"}))}
    with serve(routes) as site:
        b = site.base
        routes["/sm.xml"] = always(_xml(_urlset(b, ["/xw/1.html", "/xw/2.html"])))
        done: list[Discovery] = []
        worker = threading.Thread(target=lambda: done.append(
            discover([_entry("sitemap", b + "/sm.xml")], {}, FAST, NOW)), daemon=True)
        worker.start()
        worker.join(timeout=60)  # an uncapped delay would hold the sitemap's request an hour
        assert done, "discovery waited out the Crawl-delay"
    found = done[0]
    assert {json.loads(s.options)["politeness"] for s in found.sources} == {10.0}
    assert _rows(found)[b + "/robots.txt"] == ("robots", "200; Crawl-delay 3600 s capped at 10 s")


def test_robots_rules_for_our_agent_with_wildcards_apply_to_the_url_requested() -> None:
    robots = ("User-agent: *\nDisallow: /\n\nUser-agent: fupin\nDisallow: /xw/\n"
              "Allow: /xw/open/\nDisallow: /*.shtml$\nDisallow: /tp/1.html$\n")
    routes = {"/robots.txt": always(Reply(body=robots.encode(),
                                          headers={"Content-Type": "text/plain"}))}
    with serve(routes) as site:
        b = site.base
        routes["/sm.xml"] = always(_xml(_urlset(b, [
            "/xw/1.html", "/xw/open/2.html", "/tp/3.shtml", "/tp/4.html",
            "/tp/1.html?utm_source=wx"])))  # requested as /tp/1.html, which is disallowed
        found = discover([_entry("sitemap", b + "/sm.xml")], {}, FAST, NOW)
    assert sorted(s.doc_key for s in found.sources) == [b + "/tp/4.html", b + "/xw/open/2.html"]
    rows = _rows(found)
    for path in ("/xw/1.html", "/tp/3.shtml", "/tp/1.html"):
        assert rows[b + path] == ("robots_blocked", "disallowed")


def test_sitemaps_that_name_each_other_are_read_once_and_capped() -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        children = [f"/sm/{i}.xml" for i in range(5)]
        index = _xml('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                     + "".join(f"<sitemap><loc>{b}{c}</loc></sitemap>" for c in children)
                     + "</sitemapindex>")
        routes["/sitemap.xml"] = always(index)
        for child in children:  # every child is the index again: a loop through siblings
            routes[child] = always(index)
        found = discover([_entry("sitemap", b + "/sitemap.xml")], {}, FAST, NOW)
        assert all(site.hits[p] == 1 for p in ("/sitemap.xml", *children))
        capped = discover([_entry("sitemap", b + "/sitemap.xml", max_listing_pages=3)],
                          {}, FAST, NOW)
    assert found.counts.listing_pages == 6
    rows = _rows(capped)
    assert capped.counts.listing_pages == 6
    assert sum(status.startswith("not_read: over max_listing_pages 3")
               for kind, status in rows.values() if kind == "sitemap") == 3


def test_what_is_no_sitemap_or_feed_says_so_in_the_frontier() -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        routes["/broken.xml"] = always(_xml("<urlset><url><loc>" + b + "/xw/1.ht"))
        routes["/page.xml"] = always(_html("<p>站点地图</p>"))
        routes["/page-feed"] = always(_listing([("/xw/2.html", "二")]))
        routes["/cut.rss"] = always(Reply(body=(
            f"<rss version='2.0'><channel><item><link>{b}/xw/3.html</link></item>"
            "<item><link>/xw/4.ht").encode(), headers={"Content-Type": "application/rss+xml"}))
        found = discover([_entry("sitemap", b + "/broken.xml"), _entry("sitemap", b + "/page.xml"),
                          _entry("feed", b + "/page-feed"), _entry("feed", b + "/cut.rss")],
                         {}, FAST, NOW)
    rows = _rows(found)
    assert rows[b + "/broken.xml"] == ("sitemap", "200; lists no pages")
    assert rows[b + "/page.xml"][1].startswith("invalid_sitemap: ")
    assert rows[b + "/page-feed"] == ("feed", "not_a_feed: neither RSS nor Atom")
    assert rows[b + "/cut.rss"][1].startswith("malformed_feed: ")
    assert [s.doc_key for s in found.sources] == [b + "/xw/3.html"]  # what could be read


def test_redirects_off_the_source_hosts_are_not_followed() -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        elsewhere = b.replace("127.0.0.1", "localhost")  # the same server, another host
        routes["/xw/index.html"] = always(Reply(301, b"", {"Location": elsewhere + "/o/list"}))
        routes["/sm.xml"] = always(Reply(302, b"", {"Location": elsewhere + "/o/sm.xml"}))
        routes["/o/list"] = always(_listing([("/xw/1.html", "一")]))
        routes["/o/sm.xml"] = always(_xml(_urlset(b, ["/xw/2.html"])))
        found = discover([_entry("site", b + "/xw/index.html"), _entry("sitemap", b + "/sm.xml")],
                         {}, FAST, NOW)
        assert site.hits["/o/list"] == site.hits["/o/sm.xml"] == 0
    assert found.sources == []
    rows = _rows(found)
    assert rows[b + "/xw/"] == ("listing", "offsite_redirect")
    assert rows[b + "/sm.xml"] == ("sitemap", "offsite_redirect")


def test_a_site_crawl_skips_attachments_and_stops_where_pages_repeat() -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        links = [("/tp/1.html", "一"), ("/tp/notice.pdf", "附件"), ("/tp/chart.PNG", "图"),
                 ("/tp/list?page=2", "下一页")]
        routes["/tp/list"] = always(_listing(links))
        for n in range(2, 12):  # every page past the last answers with the last list
            routes[f"/tp/list?page={n}"] = always(_listing([("/tp/2.html", "二"), (
                f"/tp/list?page={n + 1}", "下一页")]))
        found = discover([_entry("site", b + "/tp/list")], {}, FAST, NOW)
        assert site.hits["/tp/list?page=4"] == 0 and site.hits["/tp/notice.pdf"] == 0
    assert sorted(s.doc_key for s in found.sources) == [b + "/tp/1.html", b + "/tp/2.html"]
    rows = _rows(found)
    assert rows[b + "/tp/notice.pdf"][0] == rows[b + "/tp/chart.PNG"][0] == "attachment"
    assert rows[b + "/tp/list?page=3"] == (
        "listing", "200; no new links, its pagination not followed")


def test_a_page_named_by_url_and_by_a_sitemap_has_one_key() -> None:
    spellings = {  # as a sources file or list names it: as a sitemap or feed does
        "http://A.cn:80/xw/扶贫.html": "http://a.cn/xw/%E6%89%B6%E8%B4%AB.html",
        "http://a.cn/xw/%e6%89%b6.html?utm_source=wx#top": "http://a.cn/xw/%E6%89%B6.html",
        "http://a.cn/xw/index.html": "http://a.cn/xw/",
        "http://a.cn/show?b=2&a=1&spm=x": "http://a.cn/show?a=1&b=2",
        "http://a.cn/xw/./a/../1.html": "http://a.cn/xw/1.html",
    }
    for named, mapped in spellings.items():
        (source,) = expand_sources([named])
        assert source.doc_key == url_key(mapped), named
    # a document an earlier run keyed by the old canonical form keeps its facts
    old = "http://a.cn/xw/扶贫.html"
    (source,) = expand_sources([old])
    assert legacy_key(source, legacy_keys({old: old})) == old != source.doc_key == url_key(old)


def _reconciles(found: Discovery) -> None:
    kinds = Counter(row["kind"] for row in found.frontier.values())
    c = found.counts
    assert c.urls_discovered == kinds["article"] == c.urls_new + c.urls_due + c.urls_waiting
    assert c.urls_new + c.urls_due == len(found.sources) == sum(
        row["scheduled"] for row in found.frontier.values())
    assert (c.urls_offsite, c.urls_robots_skipped) == (kinds["offsite"], kinds["robots_blocked"])


def test_what_one_source_reads_as_a_listing_or_another_names_on_its_host_is_counted_once() -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        there = b.replace("127.0.0.1", "localhost")  # the same server, another host
        routes["/sm.xml"] = always(_xml(_urlset(b, ["/xw/index.html", "/xw/1.html"])))
        routes["/xw/index.html"] = always(_listing([("/xw/2.html", "二"),
                                                    (there + "/tp/3.html", "三")]))
        routes["/there.xml"] = always(_xml(_urlset(there, ["/tp/3.html"])))
        entries = [_entry("sitemap", b + "/sm.xml"), _entry("site", b + "/xw/index.html"),
                   _entry("sitemap", there + "/there.xml")]
        found = discover(entries, {}, FAST, NOW)
        # a page the clean stage rejected as a list of links is not fetched again
        learnt = {b + "/xw/1.html": Known("listing", None, NOW - timedelta(days=1),
                                          NOW - timedelta(days=8))}
        again = discover(entries[:1], learnt, FAST, NOW)
    assert sorted(s.doc_key for s in found.sources) == [
        b + "/xw/1.html", b + "/xw/2.html", there + "/tp/3.html"]
    assert found.frontier[b + "/xw/"]["kind"] == "listing"
    assert found.frontier[there + "/tp/3.html"]["kind"] == "article"
    _reconciles(found)
    assert found.counts.urls_offsite == 0
    assert again.frontier[b + "/xw/1.html"]["kind"] == "listing"
    assert [s.doc_key for s in again.sources] == [b + "/xw/"]
    _reconciles(again)


def test_odd_lastmods_never_stop_the_run() -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        odd = _urlset(b, ["/xw/1.html"], lastmod="2026/11/01").replace("</urlset>", "".join(
            f"<url><loc>{b}/xw/{n}.html</loc><lastmod>{when}</lastmod></url>"
            for n, when in ((2, ""), (3, " "), (4, "昨天"), (5, "2026-11-01T08:00+08:00")))
            + "</urlset>")
        routes["/odd.xml"] = always(_xml(odd))
        routes["/hostile.xml"] = always(_xml(_urlset(b, ["/tp/1.html"], lastmod="9" * 30)))
        found = discover([_entry("sitemap", b + "/hostile.xml"), _entry("sitemap", b + "/odd.xml")],
                         {}, FAST, NOW)
    assert sorted(s.doc_key.rsplit("/", 1)[1] for s in found.sources) == [
        "1.html", "2.html", "3.html", "4.html", "5.html"]
    lastmods = {k.rsplit("/", 1)[1]: row["lastmod"] for k, row in found.frontier.items()}
    assert lastmods["2.html"] is None and lastmods["4.html"] is None
    assert lastmods["5.html"] == datetime(2026, 11, 1, tzinfo=UTC)
    kind, status = _rows(found)[b + "/hostile.xml"]
    assert kind == "sitemap" and status.startswith("discovery_error: ")


def test_http_and_https_or_a_final_slash_of_one_page_are_one_frontier_row() -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        secure = b.replace("http://", "https://")
        routes["/sm.xml"] = always(_xml(_urlset(b, ["/xw/1.html", "/xw/2/"])))
        routes["/rss.xml"] = always(Reply(body=(
            "<rss version='2.0'><channel>"
            f"<item><link>{secure}/xw/1.html</link></item><item><link>{b}/xw/2</link></item>"
            "</channel></rss>").encode(), headers={"Content-Type": "application/rss+xml"}))
        both = discover([_entry("sitemap", b + "/sm.xml"), _entry("feed", b + "/rss.xml")],
                        {}, FAST, NOW)
        known = {secure + "/xw/1.html": Known("article", datetime(2026, 11, 1, tzinfo=UTC),
                                              NOW + timedelta(days=3),
                                              NOW - timedelta(days=1))}
        later = discover([_entry("sitemap", b + "/sm.xml")], known, FAST, NOW)
    assert sorted(both.frontier) == [b + "/robots.txt", b + "/rss.xml", b + "/sm.xml",
                                     b + "/xw/1.html", b + "/xw/2/"]
    assert both.counts.urls_discovered == 2
    assert secure + "/xw/1.html" in later.frontier and b + "/xw/1.html" not in later.frontier
    assert [s.doc_key for s in later.sources] == [b + "/xw/2/"]  # 1.html waits, as known


def test_links_resolve_against_the_pages_base_href() -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        routes["/xw/index.html"] = always(Reply(body=(
            "<html><head><base href='/xw/2020/'></head><body><a href='a.html'>一</a>"
            "<a href='./b.html'>二</a><a href='//other.example.cn/c.html'>三</a>"
            "</body></html>").encode()))
        found = discover([_entry("site", b + "/xw/index.html")], {}, FAST, NOW)
    assert sorted(s.doc_key for s in found.sources) == [b + "/xw/2020/a.html",
                                                       b + "/xw/2020/b.html"]
    assert found.frontier["http://other.example.cn/c.html"]["kind"] == "offsite"


def test_a_robots_txt_served_as_bytes_is_still_read() -> None:
    routes = {"/robots.txt": always(Reply(body=b"User-agent: *\nDisallow: /zc/\n",
                                          headers={"Content-Type": "application/octet-stream"}))}
    with serve(routes) as site:
        b = site.base
        routes["/sm.xml"] = always(_xml(_urlset(b, ["/xw/1.html", "/zc/2.html"])))
        found = discover([_entry("sitemap", b + "/sm.xml")], {}, FAST, NOW)
    assert [s.doc_key for s in found.sources] == [b + "/xw/1.html"]
    assert _rows(found)[b + "/zc/2.html"] == ("robots_blocked", "disallowed")


def test_a_discovered_article_that_redirects_off_site_is_not_followed(tmp_path: Path) -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        elsewhere = b.replace("127.0.0.1", "localhost")  # the same server, another host
        routes["/sm.xml"] = always(_xml(_urlset(b, ["/xw/1.html", "/xw/2.html"])))
        routes["/xw/1.html"] = always(Reply(302, b"", {"Location": elsewhere + "/spam.html"}))
        routes["/xw/2.html"] = always(_article(2))
        routes["/spam.html"] = always(_article(9))
        found = discover([_entry("sitemap", b + "/sm.xml")], {}, FAST, NOW)
        fetched = fetch_batch(found.sources, FAST)
        assert site.hits["/spam.html"] == 0
    assert [p.source.doc_key for p in fetched.pages] == [b + "/xw/2.html"]
    assert [(r.doc_key, r.reason) for r in fetched.rejections] == [
        (b + "/xw/1.html", "offsite_redirect")]
    # the same option keeps a url entry's redirects on the hosts its sources file names
    path = _yaml(tmp_path, 'sources:\n  - {name: u, kind: url, location: "http://a.cn/1.html",'
                 ' options: {hosts: [a.cn, www.a.cn]}}\n')
    assert read_sources_file(path).entries[0].options == {"hosts": ["a.cn", "www.a.cn"]}
    with pytest.raises(SourcesFileError, match=r"\(u\).options.hosts: expected a list of host"):
        read_sources_file(_yaml(tmp_path, 'sources:\n  - {name: u, kind: url, location: '
                                '"http://a.cn/1.html", options: {hosts: a.cn}}\n'))


def test_an_unchanged_sitemap_or_feed_is_asked_for_conditionally() -> None:
    """A urlset and a feed that answer 304 name what they named last time; an index is
    always read (its children may have changed behind it). A page a feed named first
    belongs to the sitemap that lists it too, so it stays found when the feed moves on."""
    bodies: dict[str, bytes] = {}
    asked: list[tuple[str, str | None]] = []

    def handle(request: Request) -> Reply:
        asked.append((request.path, request.headers.get("If-None-Match")))
        if request.path == "/robots.txt":
            return Reply(body=b"User-agent: *\nDisallow: /zc/\n",
                         headers={"Content-Type": "text/plain"})
        body = bodies.get(request.path)
        if body is None:
            return Reply(404)
        tag = f'"{len(body)}-{hash(body) & 0xffff}"'
        if request.headers.get("If-None-Match") == tag:
            return Reply(304, headers={"ETag": tag})
        return Reply(body=body, headers={"Content-Type": "application/xml", "ETag": tag})

    with serve_handler(handle) as b:
        bodies["/index.xml"] = ('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                                f"<sitemap><loc>{b}/sm/a.xml</loc></sitemap></sitemapindex>").encode()
        bodies["/sm/a.xml"] = _urlset(b, ["/xw/1.html", "/zc/2.html"]).encode()
        rss = "<rss version='2.0'><channel>{}</channel></rss>"
        bodies["/rss.xml"] = rss.format("".join(f"<item><link>{b}{p}</link></item>"
                                                for p in ("/xw/1.html", "/tp/3.html"))).encode()
        entries = [_entry("feed", b + "/rss.xml"), _entry("sitemap", b + "/index.xml")]
        first = discover(entries, {}, FAST, NOW)
        frontier = {key: Known(row["kind"], row["lastmod"], row["next_check"],
                               NOW if row["scheduled"] else None, row["found_in"], row["etag"],
                               row["last_modified"]) for key, row in first.frontier.items()}
        asked.clear()
        second = discover(entries, frontier, FAST, NOW + timedelta(days=1))
        bodies["/rss.xml"] = rss.format(f"<item><link>{b}/tp/4.html</link></item>").encode()
        asked.clear()
        third = discover(entries, frontier, FAST, NOW + timedelta(days=1))
    assert {path for path, tag in asked if tag} == {"/sm/a.xml", "/rss.xml"}
    rows = _rows(second)
    assert rows[b + "/sm/a.xml"] == ("sitemap", "not_modified")
    assert rows[b + "/rss.xml"] == ("feed", "not_modified")
    assert rows[b + "/zc/2.html"] == ("robots_blocked", "disallowed")
    assert (second.counts.urls_discovered, second.counts.urls_waiting) == (2, 2)
    assert second.sources == []
    assert _rows(third)[b + "/rss.xml"] == ("feed", "200")
    assert third.frontier[b + "/xw/1.html"]["found_in"] == b + "/sm/a.xml"
    assert (third.counts.urls_discovered, third.counts.urls_waiting) == (2, 1)
    assert [s.doc_key for s in third.sources] == [b + "/tp/4.html"]


def test_sitemaps_that_fail_are_told_by_the_frontier_not_by_log_lines(
        caplog: pytest.LogCaptureFixture) -> None:
    routes = {"/robots.txt": ROBOTS}
    with serve(routes) as site:
        b = site.base
        routes["/page.xml"] = always(_html("<p>站点地图</p>"))
        with caplog.at_level(logging.DEBUG):
            found = discover([_entry("sitemap", b + "/gone.xml"),
                              _entry("sitemap", b + "/page.xml")], {}, FAST, NOW)
    assert _rows(found)[b + "/gone.xml"] == ("sitemap", "http_404")
    assert not [r.getMessage() for r in caplog.records
                if r.name.startswith("usp") and r.levelno >= logging.WARNING]
