"""Find the article URLs of ``sitemap``, ``feed`` and ``site`` sources, politely.

A run reads the frontier (what earlier runs found, ``tasks.warehouse.read_frontier``),
asks each discovery source for its URLs and hands on only what is worth fetching:
URLs never fetched, URLs whose re-check is due, and URLs whose sitemap ``lastmod``
moved. Everything it saw goes back to the frontier in the load transaction.

Every request goes through the run's fetcher (``tasks.acquire.fetch``: timeouts, a
total deadline, retries, size caps, per-host concurrency and delay), robots.txt is
read once per host per run (``protego``), and only the hosts a source names are
visited. Sitemaps are parsed by ``ultimate-sitemap-parser`` through a web client that
is this fetcher, feeds by ``feedparser``; URL variants collapse to one key
(``w3lib`` plus the parameter and page names of ``schemas/discovery.yaml``). A crawl
follows only listing pages (pagination links, to a depth and a page cap), so an
endless calendar or a session id in every link ends at the caps and at the key.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser
from protego import Protego
from usp.fetch_parse import SitemapFetcher
from usp.objects.sitemap import AbstractSitemap, InvalidSitemap
from usp.web_client.abstract_client import (
    AbstractWebClient,
    AbstractWebClientResponse,
    AbstractWebClientSuccessResponse,
    WebClientErrorResponse,
)

from fupin.tasks.acquire.decode import DecodeError, decode_bytes
from fupin.tasks.acquire.fetch import (
    TEXT_TYPES,
    FetchFailure,
    FetchOptions,
    HostGate,
    NotModified,
    fetch_url,
    make_client,
)
from fupin.tasks.acquire.inflate import InflateError, Inflater
from fupin.tasks.acquire.links import (
    host_of,
    is_attachment,
    is_pagination,
    key_twins,
    page_links,
    request_url,
    rules,
    url_key,
)
from fupin.tasks.models import (
    DiscoverOptions,
    DiscoveryEntry,
    Known,
    RawPage,
    Source,
    Validators,
)
from fupin.tasks.pipeline.records import DiscoveryCounts

ROBOTS_AGENT = "fupin"
# ultimate-sitemap-parser logs every sitemap it could not read or parse, a 304 too; each
# of those is a status in the frontier, so its lines would only repeat them on stderr.
logging.getLogger("usp").setLevel(logging.CRITICAL)
NOT_MODIFIED = "not_modified"  # the frontier's status of a 304 (tasks.warehouse too)


# --- what a discovery source says ---------------------------------------------------

@dataclass
class Discovery:
    sources: list[Source] = field(default_factory=list)
    frontier: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: DiscoveryCounts = field(default_factory=DiscoveryCounts)


@dataclass(frozen=True)
class Robots:
    """A host's robots.txt as this run read it: its rules (None: it could not be read, so
    the host is closed this run and tried again the next), the Crawl-delay kept, and
    what the frontier shows of it (its status, and a Crawl-delay that was capped)."""

    url: str
    rules: Protego | None
    delay: float
    status: str


def read_robots(url: str, get: Callable[[str], RawPage]) -> Robots:
    """The robots.txt of the URL's host. A 4xx answer means no rules; any other failure
    closes the host. A Crawl-delay above ``max_crawl_delay`` (schemas/discovery.yaml) is
    capped, so one site cannot stall a daily run, and the cap is noted in its status."""
    parts = urlsplit(url)
    robots_url = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
    try:
        page = get(robots_url)
    except FetchFailure as failure:
        if failure.status and 400 <= failure.status < 500:
            return Robots(robots_url, Protego.parse(""), 0.0, failure.reason)
        return Robots(robots_url, None, 0.0, f"{failure.reason}: host closed this run")
    rules_ = Protego.parse(page.content.decode("utf-8", errors="replace"))
    asked = float(rules_.crawl_delay(ROBOTS_AGENT) or 0.0)
    cap = rules().max_crawl_delay
    status = str(page.http_status)
    if asked > cap:
        status += f"; Crawl-delay {asked:g} s capped at {cap:g} s"
    return Robots(robots_url, rules_, min(asked, cap), status)


class Fetcher:
    """A source's fetcher for discovery requests: one client, one per-host gate, and the
    run's robots.txt (``robots``: host -> what it says, shared by the run's sources, so
    each host's robots.txt is read once per run). It visits only ``hosts``: a redirect to
    any other host fails as ``offsite_redirect`` before its request is sent."""

    def __init__(self, options: FetchOptions, robots: dict[str, Robots], hosts: set[str],
                 frontier: dict[str, Known] | None = None) -> None:
        self.options = replace(options, hosts=tuple(sorted(hosts)))
        self.hosts = hosts
        self._client = make_client(self.options)
        self._gate = HostGate(options.per_host, options.politeness)
        self._robots = robots
        self._frontier = frontier or {}
        self._listed: dict[str, list[str]] = {}
        for key, known in self._frontier.items():
            if known.found_in and known.kind not in ("sitemap", "feed", "robots"):
                self._listed.setdefault(known.found_in, []).append(key)

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, accept: tuple[str, ...] = TEXT_TYPES,
            known: Validators | None = None) -> RawPage:
        source = Source(location=url, kind="http", doc_key=url)
        return self._gate.run(host_of(url), lambda: fetch_url(
            self._client, source, self.options, known, accept=accept))

    def get_list(self, url: str) -> RawPage:
        """A sitemap or feed, asked for with the validators of its last answer when what it
        listed then is in the frontier; raises NotModified when it is unchanged."""
        known = self._frontier.get(url_key(url))
        conditional = known is not None and url in self._listed and (
            known.etag or known.last_modified)
        return self.get(url, (*TEXT_TYPES, *rules().discovery_types),
                        Validators(None, known.etag, known.last_modified)
                        if conditional and known else None)

    def listed(self, url: str) -> list[Found]:
        """What an unchanged sitemap or feed named the last time it was read."""
        return [Found(key, url, lastmod=self._frontier[key].lastmod)
                for key in self._listed.get(url, [])]

    def robots(self, url: str) -> Robots:
        host = host_of(url)
        if host not in self._robots:
            self._robots[host] = read_robots(
                url, lambda u: self.get(u, (*TEXT_TYPES, *rules().discovery_types)))
        robots = self._robots[host]
        if robots.delay:
            self._gate.slow_down(host, robots.delay)
        return robots

    def refusal(self, url: str) -> str | None:
        """Why robots.txt keeps the URL (as it would be requested) from being fetched:
        ``disallowed``, ``robots_unavailable``, or None when it may be fetched."""
        robots = self.robots(url)
        if robots.rules is None:
            return "robots_unavailable"
        return None if robots.rules.can_fetch(request_url(url), ROBOTS_AGENT) else "disallowed"

    def delay(self, url: str) -> float:
        """The seconds between two requests to the URL's host (politeness or Crawl-delay)."""
        self.robots(url)
        return self._gate.delay(host_of(url))


@dataclass(frozen=True)
class Found:
    """A URL a source named, where it was named, and what the source said of it."""

    url: str
    found_in: str
    kind: str = "article"  # article | listing | sitemap | feed | robots_blocked | offsite
    lastmod: datetime | None = None
    status: str | None = None  # for a page discovery fetched itself
    etag: str | None = None  # validators of a sitemap or feed, for the next run's request
    last_modified: str | None = None


def _read(url: str, where: str, kind: str, page: RawPage) -> Found:
    return Found(url, where, kind, status=str(page.http_status), etag=page.etag,
                 last_modified=page.last_modified)


class _SitemapClient(AbstractWebClient):
    """ultimate-sitemap-parser's web client, made of the run's fetcher: a sitemap it may
    not read (another host, robots.txt) is an error answer, as is any failed fetch (the
    fetcher has retried already). Each sitemap is read once per source and run (an index
    that names itself or its siblings in a loop ends there) and at most ``limit`` of them
    (the source's ``max_listing_pages``): ``read`` holds what became of each."""

    def __init__(self, fetcher: Fetcher, root: str, limit: int) -> None:
        self._fetcher = fetcher
        self._root = root
        self._limit = limit
        self.read: dict[str, Found] = {}

    def set_max_response_data_length(self, max_response_data_length: int | None) -> None:
        """The fetcher's own max_bytes caps every body."""

    def _refuse(self, found: Found) -> AbstractWebClientResponse:
        self.read[found.url] = found
        return WebClientErrorResponse(found.status or found.kind, retryable=False)

    def get(self, url: str) -> AbstractWebClientResponse:
        where = self._root  # the parser does not say which index named a child
        if url in self.read:
            return WebClientErrorResponse("read already in this run", retryable=False)
        if host_of(url) not in self._fetcher.hosts:
            return self._refuse(Found(url, where, "offsite"))
        refusal = self._fetcher.refusal(url)
        if refusal:
            return self._refuse(Found(url, where, "robots_blocked", status=refusal))
        if len(self.read) >= self._limit:
            return self._refuse(Found(url, where, "sitemap",
                                      status=f"not_read: over max_listing_pages {self._limit}"))
        try:
            page = self._fetcher.get_list(url)
            _check_inflated(page.content, self._fetcher.options.max_bytes)
        except NotModified:
            return self._refuse(Found(url, where, "sitemap", status=NOT_MODIFIED))
        except FetchFailure as failure:
            return self._refuse(Found(url, where, "sitemap", status=failure.reason))
        self.read[url] = _read(url, where, "sitemap", page)
        return _Answer(page)


def _check_inflated(content: bytes, max_bytes: int) -> None:
    """A gzipped sitemap file must inflate within the fetcher's cap (the parser inflates it)."""
    if content[:2] != b"\x1f\x8b":
        return
    inflater = Inflater(["gzip"], max_bytes)
    try:
        for start in range(0, len(content), 65536):
            inflater.feed(content[start:start + 65536])
        inflater.finish()
    except InflateError as exc:
        raise FetchFailure(exc.reason, exc.detail) from exc


class _Answer(AbstractWebClientSuccessResponse):
    def __init__(self, page: RawPage) -> None:
        self._page = page

    def status_code(self) -> int:
        return self._page.http_status or 200

    def status_message(self) -> str:
        return "OK"

    def header(self, case_insensitive_name: str) -> str | None:
        return self._page.content_type if case_insensitive_name.lower() == "content-type" else None

    def raw_data(self) -> bytes:
        return self._page.content

    def url(self) -> str:
        return self._page.url or self._page.source.location


def _leaves(sitemap: AbstractSitemap) -> Iterable[AbstractSitemap]:
    subs = sitemap.sub_sitemaps
    if not subs:
        yield sitemap
    for sub in subs:
        yield from _leaves(sub)


def sitemap_urls(entry: DiscoveryEntry, fetcher: Fetcher) -> list[Found]:
    """The pages a sitemap (an index or a urlset, gzipped or not) lists, with lastmod. A
    sitemap that was read but is none (malformed XML, a web page) keeps why in its status."""
    client = _SitemapClient(fetcher, entry.location, entry.options.max_listing_pages)
    tree = SitemapFetcher(url=entry.location, recursion_level=0, web_client=client).sitemap()
    pages: list[Found] = []
    for leaf in _leaves(tree):
        read = client.read.get(leaf.url)
        answered = read is not None and read.kind == "sitemap" and (read.status or "").isdigit()
        if isinstance(leaf, InvalidSitemap):
            if answered:
                client.read[leaf.url] = replace(read, status=f"invalid_sitemap: {leaf.reason}")
            continue
        if answered and not leaf.pages:  # the parser keeps what it could read of broken XML
            client.read[leaf.url] = replace(read, status=f"{read.status}; lists no pages")
        pages.extend(Found(p.url, leaf.url, lastmod=_utc(p.last_modified)) for p in leaf.pages)
    for url, read in client.read.items():
        if read.status == NOT_MODIFIED:
            pages.extend(fetcher.listed(url))
    return [*client.read.values(), *pages]


def _utc(when: object) -> datetime | None:
    """A lastmod in UTC; None for none (the parser hands an empty ``<lastmod>`` on as text)."""
    if not isinstance(when, datetime):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _feed_status(parsed: Any, http_status: int | None) -> str:
    """The feed's HTTP status, or why what came is no feed or only part of one."""
    if not parsed.version:
        return "not_a_feed: neither RSS nor Atom"
    problem = parsed.get("bozo_exception")
    if parsed.bozo and not isinstance(problem, feedparser.CharacterEncodingOverride):
        return f"malformed_feed: {problem}"
    return str(http_status)


def feed_urls(entry: DiscoveryEntry, fetcher: Fetcher) -> list[Found]:
    """The articles an RSS or Atom feed links, with their updated time as lastmod."""
    where = entry.location
    refusal = fetcher.refusal(where)
    if refusal:
        return [Found(where, where, "robots_blocked", status=refusal)]
    try:
        page = fetcher.get_list(where)
    except NotModified:
        return [Found(where, where, "feed", status=NOT_MODIFIED), *fetcher.listed(where)]
    except FetchFailure as failure:
        return [Found(where, where, "feed", status=failure.reason)]
    parsed = feedparser.parse(page.content, response_headers={
        "content-location": page.url or where, "content-type": page.content_type or ""})
    found = [replace(_read(where, where, "feed", page),
                     status=_feed_status(parsed, page.http_status))]
    for item in parsed.entries:
        link = item.get("link")
        if not link:
            continue
        # asked for by their own names: feedparser warns when one stands in for the other
        stamp = (dict.get(item, "updated_parsed") or dict.get(item, "published_parsed"))
        lastmod = datetime(*stamp[:6], tzinfo=UTC) if stamp else None
        found.append(Found(urljoin(page.url or where, link), where, lastmod=lastmod))
    return found


def _wanted(url: str, options: DiscoverOptions) -> bool:
    if options.include and not any(re.search(p, url) for p in options.include):
        return False
    return not any(re.search(p, url) for p in options.exclude)


def site_urls(entry: DiscoveryEntry, fetcher: Fetcher) -> list[Found]:
    """A crawl of listing pages from the start pages: pagination links (by their text or
    address) are followed to ``depth`` and ``max_listing_pages``; every other link of a
    listing is an article candidate. Articles are not fetched here. A page reached by
    pagination that names no article the crawl has not seen (``?page=N`` past the last
    page, answering with the same list) ends its chain."""
    options = entry.options
    hosts = fetcher.hosts
    queue = [(url, 0, url) for url in (entry.location, *options.start)]
    visited: set[str] = set()
    seen: set[str | None] = set()  # article keys the listings read so far named
    found: list[Found] = []
    while queue:
        url, depth, parent = queue.pop(0)
        try:
            key = url_key(url)
        except ValueError:
            continue
        if key in visited or len(visited) >= options.max_listing_pages:
            continue
        if host_of(url) not in hosts:
            found.append(Found(url, parent, "offsite"))
            continue
        refusal = fetcher.refusal(url)
        if refusal:
            found.append(Found(url, parent, "robots_blocked", status=refusal))
            continue
        visited.add(key)
        try:
            page = fetcher.get(request_url(url))
            html, _ = decode_bytes(page.content, page.declared_charset)
        except FetchFailure as failure:
            found.append(Found(url, parent, "listing", status=failure.reason))
            continue
        except DecodeError as exc:
            found.append(Found(url, parent, "listing", status=exc.reason))
            continue
        pages, articles = [], []
        for link in page_links(html, page.url or url):
            if is_pagination(link.url, link.text) and host_of(link.url) in hosts:
                pages.append(link.url)
            elif host_of(link.url) not in hosts:
                found.append(Found(link.url, url, "offsite"))
            elif _wanted(link.url, options):
                articles.append(Found(link.url, url))
        fresh = {_key(a.url) for a in articles} - seen - {None}
        seen |= fresh
        found.extend(articles)
        status = str(page.http_status)
        if depth and not fresh:  # a page past the last one, answering with the same list
            status += "; no new links, its pagination not followed"
        elif depth < options.depth:
            queue.extend((link, depth + 1, url) for link in pages)
        found.append(Found(url, parent, "listing", status=status))
    return found


def _key(url: str) -> str | None:
    try:
        return url_key(url)
    except ValueError:
        return None


FINDERS: dict[str, Callable[[DiscoveryEntry, Fetcher], list[Found]]] = {
    "sitemap": sitemap_urls, "feed": feed_urls, "site": site_urls,
}
# the frontier kind of a source's own location
READ_AS = {"sitemap": "sitemap", "feed": "feed", "site": "listing"}


# --- what the run fetches -------------------------------------------------------------

def _row(key: str, found: Found, entry: str, now: datetime, kind: str,
         next_check: datetime | None, status: str | None) -> dict[str, Any]:
    return {"url": key, "location": request_url(found.url), "host": host_of(found.url),
            "source": entry, "found_in": found.found_in, "kind": kind, "first_seen": now,
            "last_seen": now, "lastmod": found.lastmod, "next_check": next_check,
            "scheduled": False, "last_status": status, "etag": found.etag,
            "last_modified": found.last_modified}


def _due(known: Known | None, lastmod: datetime | None, now: datetime,
         recheck_all: bool) -> str | None:
    """Why an article is fetched this run (new, due), or None to leave it waiting."""
    if known is None or known.last_fetched is None:
        return "new"
    if recheck_all:
        return "due"
    if lastmod is not None and (known.lastmod is None or lastmod > known.lastmod):
        return "due"
    if known.next_check is None or known.next_check <= now:
        return "due"
    return None


def discover(
    entries: list[DiscoveryEntry], frontier: dict[str, Known], base: FetchOptions,
    now: datetime, recheck_all: bool = False,
) -> Discovery:
    """Ask every discovery source for its URLs and choose what this run fetches.

    ``recheck_all`` (a run that reprocesses every page) makes every known article due,
    within the caps, so the weekly full run re-reads what discovery found too.
    """
    out = Discovery()
    per_host: dict[str, int] = {}
    counts = {"new": 0, "due": 0, "waiting": 0, "robots": 0, "offsite": 0, "listings": 0}
    articles: dict[str, str] = {}  # key -> how it was counted: new, due or waiting
    in_sitemaps: set[str] = set()  # keys whose row names the sitemap that lists them
    robots: dict[str, Robots] = {}

    def forget(key: str) -> None:
        """Take back a row a later mention overrules, with what it counted."""
        row = out.frontier.pop(key)
        if row["kind"] == "offsite":
            counts["offsite"] -= 1
            return
        counts[articles.pop(key)] -= 1
        if row["scheduled"]:
            per_host[row["host"]] -= 1
            out.sources[:] = [s for s in out.sources if s.doc_key != key]

    for entry in entries:
        options = base.merged(entry.fetch_options)
        hosts = {host_of(u) for u in (entry.location, *entry.options.start)}
        hosts |= {h.lower() for h in entry.options.hosts}
        fetcher = Fetcher(options, robots, hosts, frontier)
        try:
            try:
                found = FINDERS[entry.kind](entry, fetcher)
            except Exception as exc:  # a parser failing on a hostile file costs this source
                found = [Found(entry.location, entry.location, READ_AS[entry.kind],
                               status=f"discovery_error: {type(exc).__name__}: {exc}")]
            taken = 0
            for item in found:
                try:
                    key = url_key(item.url)
                except ValueError:
                    continue
                if key not in out.frontier and key not in frontier:  # http/https, slash
                    key = next((t for t in key_twins(key) if t in out.frontier or t in frontier),
                               key)
                prior = out.frontier.get(key, {}).get("kind")
                # The first mention counts (an article seen twice is one), but a page one
                # source reads as a listing, sitemap or feed is no article, and a URL off
                # one source's hosts is an article of a source whose host it is.
                if (prior == "article" and item.kind in ("listing", "sitemap", "feed")) or (
                        prior == "offsite" and item.kind == "article"):
                    forget(key)
                elif prior is not None:
                    if entry.kind == "sitemap" and item.kind == "article" \
                            and key not in in_sitemaps:
                        # a sitemap is where a page stays listed (feeds and listings roll
                        # on), so an unchanged sitemap (a 304) names it again next run
                        out.frontier[key]["found_in"] = item.found_in
                        in_sitemaps.add(key)
                    continue
                if entry.kind == "sitemap":
                    in_sitemaps.add(key)
                kind = item.kind
                known = frontier.get(key)
                if kind == "article":
                    if host_of(item.url) not in hosts:
                        kind = "offsite"
                    elif not _wanted(item.url, entry.options):
                        continue
                    elif is_attachment(item.url):
                        kind = "attachment"
                    elif refusal := fetcher.refusal(item.url):
                        kind, item = "robots_blocked", replace(item, status=refusal)
                    elif known is not None and known.kind == "listing":
                        kind = "listing"  # the clean stage found it to be a list of links
                if kind != "article":
                    counts["listings"] += item.kind in ("listing", "sitemap", "feed")
                    counts["robots"] += kind == "robots_blocked"
                    counts["offsite"] += kind == "offsite"
                    out.frontier[key] = _row(key, item, entry.name, now, kind, now, item.status)
                    continue
                why = _due(known, item.lastmod, now, recheck_all)
                host = host_of(item.url)
                capped = taken >= entry.options.max_pages or \
                    per_host.get(host, 0) >= entry.options.max_per_host
                row = _row(key, item, entry.name, now, "article",
                           known.next_check if known else now, None)
                articles[key] = "waiting" if why is None or capped else why
                if why is None or capped:
                    counts["waiting"] += 1
                    if capped and why is not None:
                        row["next_check"] = now  # over a cap: due on the next run
                    out.frontier[key] = row
                    continue
                counts[why] += 1
                taken += 1
                per_host[host] = per_host.get(host, 0) + 1
                recheck = now + timedelta(days=entry.options.recheck_days)
                out.frontier[key] = {**row, "next_check": recheck, "scheduled": True}
                politeness = max(options.politeness, fetcher.delay(item.url))
                fetch_json = json.dumps({**json.loads(entry.fetch_options or "{}"),
                                         "politeness": politeness, "hosts": sorted(hosts)},
                                        sort_keys=True)
                out.sources.append(Source(location=request_url(item.url), kind="http",
                                          doc_key=key, origin=entry.name, options=fetch_json))
        finally:
            fetcher.close()
        for read in robots.values():  # how each host's robots.txt answered this run
            key = url_key(read.url)
            if key not in out.frontier:
                item = Found(read.url, read.url, "robots", status=read.status)
                out.frontier[key] = _row(key, item, entry.name, now, "robots", now, read.status)
    out.counts = DiscoveryCounts(len(articles), counts["new"], counts["due"], counts["waiting"],
                                 counts["robots"], counts["offsite"], counts["listings"])
    return out
