"""Pull the bytes of pages from local files and http(s) URLs.

Failures never raise out of ``fetch_batch``: each becomes a ``Rejection`` with a
short reason code, so one bad page cannot stop a run.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tasks.models import RawPage, Rejection, Source, Validators

USER_AGENT = "fupin/0.1 (+poverty-alleviation statistics ETL; polite crawler)"
TEXT_TYPES = ("text/html", "text/plain", "application/xhtml+xml", "application/xml", "text/xml")
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class FetchOptions:
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    per_host: int = 2
    politeness: float = 0.0
    workers: int = 8

    def merged(self, options_json: str) -> FetchOptions:
        """These options overridden by a sources-file entry's ``options`` (JSON)."""
        if not options_json:
            return self
        given = json.loads(options_json)
        known = {f.name for f in fields(self)}
        unknown = set(given) - known
        if unknown:
            raise ValueError(f"unknown fetch options: {', '.join(sorted(unknown))}")
        return replace(self, **given)


class NotModified(Exception):
    """The server answered 304: the page is as it was when last loaded."""


class FetchFailure(Exception):
    def __init__(
        self,
        reason: str,
        detail: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.status = status
        self.retry_after = retry_after


def _raw(source: Source, content: bytes, **extra: object) -> RawPage:
    return RawPage(
        source=source,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        fetched_at=datetime.now(UTC),
        **extra,  # type: ignore[arg-type]
    )


def read_file(source: Source, options: FetchOptions) -> RawPage:
    path = Path(source.location)
    try:
        size = path.stat().st_size
        if size > options.max_bytes:
            raise FetchFailure("too_large", f"{size} bytes > cap {options.max_bytes}")
        data = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            data = gzip.decompress(data)
    except FetchFailure:
        raise
    except (OSError, EOFError, zlib.error) as exc:
        raise FetchFailure("unreadable", f"{type(exc).__name__}: {exc}") from exc
    return _raw(source, data)


def unchanged_files(
    sources: list[Source], known: dict[str, Validators], options: FetchOptions | None = None
) -> set[str]:
    """doc_keys of local files whose bytes are those already loaded.

    Hashing a file costs far less than a batch's task runs, so a re-run over an
    unchanged folder sets these pages aside before planning and may plan no batch
    at all. URLs are left to fetch (conditional requests), as is any file that
    cannot be read here: fetch records why.
    """
    base = options or FetchOptions()
    same = set()
    for source in sources:
        seen = known.get(source.doc_key)
        if source.kind != "file" or seen is None or seen.sha256 is None:
            continue
        try:
            page = read_file(source, base.merged(source.options))
        except (FetchFailure, ValueError, TypeError):
            continue
        if page.sha256 == seen.sha256:
            same.add(source.doc_key)
    return same


def _charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ").lower()
    return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _conditional_headers(known: Validators | None) -> dict[str, str]:
    headers = {}
    if known and known.etag:
        headers["If-None-Match"] = known.etag
    if known and known.last_modified:
        headers["If-Modified-Since"] = known.last_modified
    return headers


def _get(
    client: httpx.Client, source: Source, options: FetchOptions, known: Validators | None
) -> RawPage:
    headers = _conditional_headers(known)
    with client.stream("GET", source.location, headers=headers) as response:
        if response.status_code == 304 and headers:
            raise NotModified(source.location)
        final_url = str(response.url)
        if urlsplit(final_url).scheme not in ("http", "https"):
            raise FetchFailure("bad_redirect", f"redirected to {final_url}")
        if response.status_code >= 400:
            raise FetchFailure(
                f"http_{response.status_code}",
                response.reason_phrase,
                response.status_code,
                _retry_after(response),
            )
        content_type = response.headers.get("content-type")
        mime = (content_type or "").split(";")[0].strip().lower()
        if mime and not mime.startswith(TEXT_TYPES):
            raise FetchFailure("not_text", f"content-type {mime}", response.status_code)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > options.max_bytes:
            raise FetchFailure("too_large", f"content-length {length}")
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > options.max_bytes:
                raise FetchFailure("too_large", f"body over {options.max_bytes} bytes")
            chunks.append(chunk)
        return _raw(
            source,
            b"".join(chunks),
            url=final_url,
            http_status=response.status_code,
            content_type=content_type,
            declared_charset=_charset_of(content_type),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )


def fetch_url(
    client: httpx.Client,
    source: Source,
    options: FetchOptions,
    known: Validators | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RawPage:
    """GET with retries on connection errors, timeouts, 429 and 5xx (exponential backoff,
    full jitter, Retry-After honoured); other 4xx fail at once. Sends the validators
    the warehouse holds, so an unchanged page costs a 304 instead of a download."""
    attempt = 0
    while True:
        try:
            return _get(client, source, options, known)
        except FetchFailure as failure:
            if failure.status not in RETRY_STATUSES or attempt >= options.retries:
                raise
            last = failure
        except httpx.TimeoutException as exc:
            last = FetchFailure("timeout", f"{type(exc).__name__}: {exc}")
        except httpx.TooManyRedirects as exc:
            raise FetchFailure("too_many_redirects", str(exc)) from exc
        except httpx.TransportError as exc:
            last = FetchFailure("connection_error", f"{type(exc).__name__}: {exc}")
        if attempt >= options.retries:
            raise last
        attempt += 1
        backoff = min(options.max_backoff, options.backoff * 2 ** (attempt - 1))
        wait = random.uniform(0, backoff)
        if last.retry_after is not None:
            wait = min(options.max_backoff, last.retry_after)
        sleep(wait)


class _HostGate:
    """At most ``per_host`` requests in flight per host, spaced by ``politeness`` seconds."""

    def __init__(self, per_host: int, politeness: float) -> None:
        self._sems: dict[str, threading.Semaphore] = defaultdict(
            lambda: threading.Semaphore(per_host)
        )
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self._politeness = politeness

    def run(self, host: str, fn: Callable[[], RawPage]) -> RawPage:
        with self._lock:
            sem = self._sems[host]
        with sem:
            if self._politeness:
                with self._lock:
                    due = self._last.get(host, 0.0) + self._politeness
                    self._last[host] = max(time.monotonic(), due)
                time.sleep(max(0.0, due - time.monotonic()))
            return fn()


def make_client(options: FetchOptions) -> httpx.Client:
    timeout = httpx.Timeout(options.read_timeout, connect=options.connect_timeout)
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=10,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
    )


def _rejection(source: Source, failure: FetchFailure) -> Rejection:
    return Rejection(
        location=source.location,
        doc_key=source.doc_key,
        stage="fetch",
        reason=failure.reason,
        detail=failure.detail,
        url=source.location if source.kind == "http" else None,
    )


@dataclass
class FetchResult:
    pages: list[RawPage] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    not_modified: list[Source] = field(default_factory=list)


def _fetch_urls(
    urls: list[Source], options: FetchOptions, known: dict[str, Validators]
) -> dict[str, RawPage | Rejection | Source]:
    """Fetch URL sources that share options, per-host limits applying across them."""
    gate = _HostGate(options.per_host, options.politeness)
    outcomes: dict[str, RawPage | Rejection | Source] = {}
    with make_client(options) as client, ThreadPoolExecutor(options.workers) as pool:

        def one(source: Source) -> RawPage | Rejection | Source:
            host = urlsplit(source.location).hostname or ""
            fetch = partial(fetch_url, client, source, options, known.get(source.doc_key))
            try:
                return gate.run(host, fetch)
            except NotModified:
                return source
            except FetchFailure as failure:
                return _rejection(source, failure)

        for source, outcome in zip(urls, pool.map(one, urls), strict=True):
            outcomes[source.doc_key] = outcome
    return outcomes


def fetch_batch(
    sources: list[Source],
    options: FetchOptions | None = None,
    known: dict[str, Validators] | None = None,
) -> FetchResult:
    """Fetch one batch; every source ends up in exactly one list of the result."""
    base = options or FetchOptions()
    known = known or {}
    outcomes: dict[str, RawPage | Rejection | Source] = {}
    groups: dict[str, list[Source]] = {}
    for source in sources:
        try:
            opts = base.merged(source.options)
        except (ValueError, TypeError) as exc:
            outcomes[source.doc_key] = _rejection(source, FetchFailure("bad_options", str(exc)))
            continue
        if source.kind == "file":
            try:
                outcomes[source.doc_key] = read_file(source, opts)
            except FetchFailure as failure:
                outcomes[source.doc_key] = _rejection(source, failure)
        else:
            groups.setdefault(source.options, []).append(source)
    for options_json, urls in groups.items():
        outcomes.update(_fetch_urls(urls, base.merged(options_json), known))
    result = FetchResult()
    for source in sources:
        outcome = outcomes[source.doc_key]
        if isinstance(outcome, RawPage):
            result.pages.append(outcome)
        elif isinstance(outcome, Rejection):
            result.rejections.append(outcome)
        else:
            result.not_modified.append(outcome)
    return result
