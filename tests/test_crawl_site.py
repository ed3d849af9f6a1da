"""The test site of the crawler serves what it claims to serve (tests/crawl_site.py).

A crawler test that passes against a site that does not have the trap, the variant or
the figure it is about proves nothing, so each of them is checked here over real HTTP,
and every article is run through the cleaner and the extractor to show that the facts
the site promises are the facts fupin reads.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx
import pytest
from bs4 import BeautifulSoup
from courlan import normalize_url
from crawl_site import FEED_SIZE, PAGE_SIZE, CrawlSite

from fupin.tasks.acquire.decode import decode_bytes
from fupin.tasks.clean import clean_page
from fupin.tasks.clean.dedupe import body_signature, find_near_duplicates
from fupin.tasks.extract import extract

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as client:
        yield client


def hrefs(page: bytes, base: str) -> list[tuple[str, str]]:
    """Every link of a page as (absolute URL, link text)."""
    soup = BeautifulSoup(page, "html.parser")
    return [(urljoin(base, a["href"]), a.get_text(strip=True))
            for a in soup.find_all("a", href=True)]


def canonical(url: str) -> str:
    return normalize_url(url, strict=True)


def link_to(page: bytes, base: str, text: str) -> str | None:
    return next((url for url, label in hrefs(page, base) if label == text), None)


def sitemap_entries(site: CrawlSite, http: httpx.Client) -> dict[str, str]:
    index = http.get(site.url("/sitemap.xml"))
    assert index.status_code == 200
    children = [e.text for e in ET.fromstring(index.content).iter(f"{SITEMAP}loc")]
    assert sorted(urlsplit(c).path for c in children) == [
        "/sitemaps/tp.xml.gz", "/sitemaps/xw.xml.gz", "/sitemaps/zc.xml.gz"]
    entries: dict[str, str] = {}
    for child in children:
        reply = http.get(child)
        assert reply.headers["Content-Type"] in ("application/gzip", "application/x-gzip")
        for url in ET.fromstring(gzip.decompress(reply.content)).iter(f"{SITEMAP}url"):
            entries[url.findtext(f"{SITEMAP}loc")] = url.findtext(f"{SITEMAP}lastmod")
    return entries


def feed_links(site: CrawlSite, http: httpx.Client) -> tuple[list[str], list[str]]:
    """The canonical article URLs of the RSS feed and of the Atom feed, in feed order."""
    rss = ET.fromstring(http.get(site.url("/rss.xml")).content)
    atom = ET.fromstring(http.get(site.url("/atom.xml")).content)
    rss_links = [canonical(item.findtext("link")) for item in rss.iter("item")]
    atom_links = [e.find(f"{ATOM}link").get("href") for e in atom.iter(f"{ATOM}entry")]
    return rss_links, atom_links


def newest(site: CrawlSite, count: int, section: str | None = None) -> list[str]:
    articles = [a for a in site.articles if section in (None, a.section)]
    articles.sort(key=lambda a: (a.published, a.id), reverse=True)
    return [site.url(a.path) for a in articles[:count]]


def walk(site: CrawlSite, http: httpx.Client, start: str) -> list[list[str]]:
    """The article links of each listing page, following 下一页 from ``start``."""
    pages, url = [], site.url(start)
    while url is not None:
        reply = http.get(url)
        assert reply.status_code == 200, url
        links = [canonical(u) for u, _ in hrefs(reply.content, url) if "/art_" in u]
        pages.append(links)
        url = link_to(reply.content, url, "下一页")
        assert len(pages) <= 50, "pagination does not end"
    return pages


def test_the_site_has_three_sections_of_articles_and_robots_keeps_one_out(
        crawl_site: CrawlSite, http: httpx.Client) -> None:
    site = crawl_site
    assert len(site.article_urls()) == 300
    assert {urlsplit(u).path.split("/")[1] for u in site.article_urls()} == {"xw", "zc", "tp"}
    reply = http.get(site.url("/robots.txt"))
    robots = RobotFileParser()
    robots.parse(reply.text.splitlines())
    allowed, disallowed = site.allowed_article_urls(), site.disallowed_article_urls()
    assert len(allowed) == 200 and len(disallowed) == 100
    assert sorted(allowed + disallowed) == sorted(site.article_urls())
    assert all(robots.can_fetch("fupin", u) for u in allowed)
    assert not any(robots.can_fetch("fupin", u) for u in disallowed)
    assert robots.can_fetch("fupin", site.url("/tp/list?page=2"))
    assert "Crawl-delay: 0.05" in reply.text.splitlines()
    assert f"Sitemap: {site.url('/sitemap.xml')}" in reply.text.splitlines()


def test_the_crawl_delay_is_the_one_given(http: httpx.Client) -> None:
    with CrawlSite(articles=12, crawl_delay=1.5) as slow, CrawlSite(articles=12,
                                                                    crawl_delay=None) as free:
        assert "Crawl-delay: 1.5" in http.get(slow.url("/robots.txt")).text.splitlines()
        assert "Crawl-delay" not in http.get(free.url("/robots.txt")).text


def test_the_sitemap_index_lists_every_article_with_its_lastmod(
        crawl_site: CrawlSite, http: httpx.Client) -> None:
    entries = sitemap_entries(crawl_site, http)
    assert sorted(entries) == sorted(crawl_site.article_urls())
    for article in crawl_site.articles:
        assert entries[crawl_site.url(article.path)] == article.modified.isoformat()


def test_both_feeds_carry_the_newest_twenty_articles(crawl_site: CrawlSite,
                                                      http: httpx.Client) -> None:
    rss, atom = feed_links(crawl_site, http)
    assert rss == atom == newest(crawl_site, FEED_SIZE)
    raw_rss = http.get(crawl_site.url("/rss.xml")).text
    assert "utm_source=rss" in raw_rss, "the RSS links carry tracking parameters"


def test_listings_page_through_every_article_of_their_section(crawl_site: CrawlSite,
                                                               http: httpx.Client) -> None:
    site = crawl_site
    for section, start in (("xw", "/xw/index.html"), ("tp", "/tp/list"), ("zc", "/zc/")):
        pages = walk(site, http, start)
        listed = [u for page in pages for u in page]
        assert listed == newest(site, 300, section), section
        assert all(len(page) == PAGE_SIZE for page in pages[:-1])
    second = http.get(site.url("/xw/index_1.html")).content
    assert link_to(second, site.url("/xw/index_1.html"), "上一页") == site.url("/xw/index.html")
    assert http.get(site.url("/tp/list?page=2")).status_code == 200
    assert http.get(site.url("/xw/index_99.html")).status_code == 404
    front = {http.get(site.url(p)).content for p in ("/xw/", "/xw/index.html")}
    assert len(front) == 1, "a section's front page answers with and without index.html"
    bare = http.get(site.url("/xw"))
    assert bare.status_code == 301 and bare.headers["Location"] == "/xw/"


def test_a_listing_page_is_mostly_links_and_an_article_is_not(crawl_site: CrawlSite,
                                                               http: httpx.Client) -> None:
    def link_share(url: str) -> float:
        soup = BeautifulSoup(http.get(url).content, "html.parser")
        linked = sum(len(a.get_text(strip=True)) for a in soup.find_all("a"))
        return linked / len(soup.body.get_text(strip=True))

    assert link_share(crawl_site.url("/xw/index_2.html")) > 0.5
    assert link_share(crawl_site.url("/tp/list?page=3")) > 0.5
    assert link_share(crawl_site.url(crawl_site.articles[0].path)) < 0.4


def test_articles_link_to_other_articles_through_variants_that_canonicalise(
        crawl_site: CrawlSite, http: httpx.Client) -> None:
    site = crawl_site
    host = urlsplit(site.base_url).netloc
    known = set(site.article_urls())
    written: set[str] = set()
    for article in site.articles[:30]:
        url = site.url(article.path)
        page = http.get(url).content
        soup = BeautifulSoup(page, "html.parser")
        written |= {a["href"] for a in soup.find_all("a", href=True)}
        links = [u for u, _ in hrefs(page, url)
                 if urlsplit(u).netloc == host and "/art_" in u]
        others = {canonical(u) for u in links} - {url}
        assert len(others) == 3 and others <= known
        assert canonical(url + "#comments") == url and url + "#comments" in links
    assert any("?utm_source=wx&from=timeline" in h for h in written)
    assert any("?spm=" in h and h.startswith("http://") for h in written)
    assert any(h.startswith("../") for h in written)


def test_pages_link_to_hosts_the_crawler_must_not_fetch(crawl_site: CrawlSite,
                                                         http: httpx.Client) -> None:
    site = crawl_site
    host = urlsplit(site.base_url).netloc
    for path in (site.articles[5].path, "/xw/index.html", "/tp/list", "/"):
        hosts = {urlsplit(u).netloc for u, _ in hrefs(http.get(site.url(path)).content,
                                                      site.url(path))}
        assert {"www.gov.cn", "other.example.cn"} <= hosts, path
        assert host in hosts


def test_a_crawl_from_the_home_page_reaches_every_article_through_working_links(
        crawl_site: CrawlSite, http: httpx.Client) -> None:
    """Following the site's own links, each made canonical in courlan's strict mode
    (which drops the session id and the calendar's month), ends, every page it
    reaches answers 200, and every article is among them."""
    site = crawl_site
    host = urlsplit(site.base_url).netloc
    seen: set[str] = set()
    queue = [site.url("/")]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        assert len(seen) < 1000, "the crawl does not end"
        reply = http.get(url, follow_redirects=True)
        assert reply.status_code == 200, url
        url = str(reply.url)
        if reply.headers["Content-Type"].startswith("text/html"):
            queue += [canonical(link) for link, _ in hrefs(reply.content, url)
                      if urlsplit(link).scheme == "http" and urlsplit(link).netloc == host]
    assert set(site.article_urls()) <= seen
    assert all(site.article_at(u) is not None for u in site.article_urls())
    assert site.article_at(site.url("/xw/index.html")) is None


def test_the_calendar_never_ends(crawl_site: CrawlSite, http: httpx.Client) -> None:
    seen = set()
    for direction in ("下个月", "上个月"):
        url = crawl_site.url("/xw/calendar?month=2021-03")
        for _ in range(40):
            reply = http.get(url)
            assert reply.status_code == 200, url
            seen.add(url)
            url = link_to(reply.content, url, direction)
            assert url is not None and url not in seen
    assert len(seen) == 79  # the start month is seen from both sides
    march = http.get(crawl_site.url("/xw/calendar?month=2020-04")).content
    listed = [u for u, _ in hrefs(march, crawl_site.base_url) if "/xw/2020/04/art_" in u]
    assert listed, "a month of the site's own lists its news"


def test_tp_listing_links_carry_a_new_session_id_on_every_request(
        crawl_site: CrawlSite, http: httpx.Client) -> None:
    url = crawl_site.url("/tp/list")
    first = link_to(http.get(url).content, url, "下一页")
    second = link_to(http.get(url).content, url, "下一页")
    assert first != second and "sid=" in first and "sid=" in second
    assert canonical(first) == canonical(second) == crawl_site.url("/tp/list?page=2")
    assert http.get(first).status_code == 200


def test_conditional_get_answers_304_when_nothing_changed(crawl_site: CrawlSite,
                                                           http: httpx.Client) -> None:
    site = crawl_site
    url = site.url(site.articles[0].path)
    first = http.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert http.get(url).headers["ETag"] == etag
    assert http.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert http.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert http.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert http.get(url, headers={"If-None-Match": '"other"',
                                  "If-Modified-Since": modified}).status_code == 200
    not_modified = http.get(url, headers={"If-None-Match": etag})
    assert not_modified.content == b""
    for path in ("/sitemap.xml", "/rss.xml", "/atom.xml", "/sitemaps/xw.xml.gz"):
        reply = http.get(site.url(path))
        assert "Last-Modified" in reply.headers, path
        again = http.get(site.url(path), headers={"If-None-Match": reply.headers["ETag"]})
        assert again.status_code == 304, path


def test_publish_puts_new_articles_first_everywhere(crawl_site: CrawlSite,
                                                    http: httpx.Client) -> None:
    site = crawl_site
    before = sitemap_entries(site, http)
    page_one = walk(site, http, "/xw/index.html")[0]
    fresh = site.publish(10)
    urls = [site.url(a.path) for a in fresh]
    assert all(a.allowed for a in fresh) and {a.section for a in fresh} == {"xw", "tp"}
    after = sitemap_entries(site, http)
    assert sorted(set(after) - set(before)) == sorted(urls)
    assert all(after[u] == before[u] for u in before)
    rss, atom = feed_links(site, http)
    assert sorted(rss[:10]) == sorted(atom[:10]) == sorted(urls)
    xw = [u for u, a in zip(urls, fresh, strict=True) if a.section == "xw"]
    pages = walk(site, http, "/xw/index.html")
    assert sorted(pages[0][:len(xw)]) == sorted(xw)
    assert pages[0][len(xw):] == page_one[:PAGE_SIZE - len(xw)]
    assert pages[1][:len(xw)] == page_one[PAGE_SIZE - len(xw):]
    tp = {u for u, a in zip(urls, fresh, strict=True) if a.section == "tp"}
    assert tp <= set(walk(site, http, "/tp/list")[0])
    assert len(site.allowed_article_urls()) == 210


def test_edit_changes_the_figure_lastmod_and_validators(crawl_site: CrawlSite,
                                                        http: httpx.Client) -> None:
    site = crawl_site
    target = site.articles[-1]  # newest, so it is in the feeds
    url = site.url(target.path)
    old = http.get(url)
    old_facts = target.facts
    before = sitemap_entries(site, http)
    (edited,) = site.edit([target.id])
    assert edited.facts != old_facts and edited.modified > target.modified
    new = http.get(url)
    assert new.content != old.content
    assert new.headers["ETag"] != old.headers["ETag"]
    assert new.headers["Last-Modified"] != old.headers["Last-Modified"]
    assert http.get(url, headers={"If-None-Match": old.headers["ETag"]}).status_code == 200
    assert http.get(url, headers={"If-Modified-Since": old.headers["Last-Modified"]}
                    ).status_code == 200
    after = sitemap_entries(site, http)
    assert [u for u in after if after[u] != before[u]] == [url]
    atom = ET.fromstring(http.get(site.url("/atom.xml")).content)
    updated = {e.findtext(f"{ATOM}id"): e.findtext(f"{ATOM}updated")
               for e in atom.iter(f"{ATOM}entry")}
    assert updated[url] == edited.modified.isoformat()
    assert site.expected_facts()[url] == edited.facts


def test_the_request_log_records_what_was_asked(crawl_site: CrawlSite,
                                                 http: httpx.Client) -> None:
    site = crawl_site
    article = site.articles[3]
    etag = http.get(site.url(article.path)).headers["ETag"]
    http.get(site.url(article.path), headers={"If-None-Match": etag})
    http.get(site.url("/tp/list?page=2"))
    http.get(site.url("/nowhere.html"))
    log = site.requests
    assert [(r.path, r.status) for r in log] == [
        (article.path, 200), (article.path, 304), ("/tp/list", 200), ("/nowhere.html", 404)]
    assert [r.article_id for r in log] == [article.id, article.id, None, None]
    assert log[1].if_none_match == etag and log[0].if_none_match is None
    assert log[2].query == "page=2" and log[0].method == "GET"
    site.reset_log()
    assert site.requests == []


def test_the_same_seed_builds_the_same_site() -> None:
    def content(site: CrawlSite) -> list[tuple[str, str, list[str]]]:
        return [(a.path, a.title, a.paragraphs) for a in site.articles]

    assert content(CrawlSite(seed=3, articles=40)) == content(CrawlSite(seed=3, articles=40))
    assert content(CrawlSite(seed=3, articles=40)) != content(CrawlSite(seed=4, articles=40))


def test_no_article_is_a_near_copy_of_another(crawl_site: CrawlSite) -> None:
    """The warehouse links near-duplicates to an original; the site's articles are all
    originals, so a crawl loads each as its own document."""
    signatures = [(str(a.id), body_signature("\n".join(a.paragraphs))) for a in crawl_site.articles]
    assert find_near_duplicates(signatures, []) == {}


def test_every_article_gives_the_facts_it_promises(crawl_site: CrawlSite,
                                                   http: httpx.Client) -> None:
    """Served bytes → decode → clean → extract, as a crawl would, for every article and
    for the published and edited ones of a second crawl."""
    site = crawl_site
    site.publish(10)
    site.edit([1, 5])
    kinds = set()
    for article in site.articles:
        url = site.url(article.path)
        reply = http.get(url)
        text, _ = decode_bytes(reply.content, reply.charset_encoding)
        doc = clean_page(text, url=url)
        assert doc.published == article.published.date(), url
        assert "版权所有" not in doc.body and "相关新闻" not in doc.body, url
        found = extract(doc.body, title=doc.title, published=doc.published,
                        source_site=doc.source_site)
        got = sorted((f.indicator, f.region_code, f.year, f.value) for f in found.facts)
        want = sorted((e.indicator, e.region_code, e.year, e.value) for e in article.facts)
        assert got == want, (url, doc.body)
        assert 1 <= len(article.figures) <= 3 and 3 <= len(article.paragraphs) <= 6
        kinds |= {f.indicator for f in found.facts}
    assert len(kinds) >= 12, "the articles state many kinds of figure"
