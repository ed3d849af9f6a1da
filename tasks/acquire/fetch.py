"""Pull the bytes of pages from local files and http(s) URLs.

Failures never raise out of ``fetch_batch``: each becomes a ``Rejection`` with a
short reason code, so one bad page cannot stop a run.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import ssl
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from fupin.tasks.acquire.inflate import (
    CODINGS,
    DEFAULT_MAX_BYTES,
    InflateError,
    Inflater,
    read_capped,
)
from fupin.tasks.ahead import Ahead, file_stamp, settled
from fupin.tasks.models import RawPage, Rejection, Source, Validators

USER_AGENT = "fupin/0.1 (+poverty-alleviation statistics ETL; polite crawler)"
TEXT_TYPES = ("text/html", "text/plain", "application/xhtml+xml", "application/xml", "text/xml")
RETRY_STATUSES = {429, 500, 502, 503, 504}
# Content codings we do not ask for and cannot undo; any other unknown value
# (a charset put there by mistake, "identity") leaves the body as it is.
UNSUPPORTED_CODINGS = frozenset({"br", "zstd", "compress", "x-compress"})


@dataclass(frozen=True)
class FetchOptions:
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    # seconds one request may take from connecting to its last byte, whatever the
    # pace: a server that trickles a byte now and then never hits read_timeout
    total_timeout: float = 60.0
    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_bytes: int = DEFAULT_MAX_BYTES
    per_host: int = 2
    politeness: float = 0.0
    workers: int = 8
    # the hosts a request may lead to (none: any): a redirect elsewhere fails as
    # offsite_redirect before it is sent (discovery keeps its articles on the source's hosts)
    hosts: tuple[str, ...] = ()

    def merged(self, options_json: str) -> FetchOptions:
        """These options overridden by a sources-file entry's ``options`` (JSON)."""
        if not options_json:
            return self
        given = json.loads(options_json)
        known = {f.name for f in fields(self)}
        unknown = set(given) - known
        if unknown:
            raise ValueError(f"unknown fetch options: {', '.join(sorted(unknown))}")
        if "hosts" in given:
            given["hosts"] = tuple(str(h).lower() for h in given["hosts"])
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
    """A local file's bytes; ``*.gz`` files are inflated, under the same cap as a download."""
    try:
        data = read_capped(Path(source.location), options.max_bytes)
    except InflateError as exc:
        raise FetchFailure(exc.reason, exc.detail) from exc
    except (OSError, ValueError) as exc:  # ValueError: a path holding a NUL character
        raise FetchFailure("unreadable", f"{type(exc).__name__}: {exc}") from exc
    return _raw(source, data)


def unchanged_files(
    sources: list[Source], known: dict[str, Validators], options: FetchOptions | None = None
) -> set[str]:
    """doc_keys of local files whose bytes are those already loaded.

    Hashing a file costs far less than a batch's task runs, so a re-run over an
    unchanged folder sets these pages aside before planning and may plan no batch
    at all. URLs are left to fetch (conditional requests), as is any file that
    cannot be read here: fetch records why. A digest ``hash_ahead`` took is used
    while the file's size, modification time and inode are still those it saw.
    """
    base = options or FetchOptions()
    same = set()
    for source in sources:
        seen = known.get(source.doc_key)
        if source.kind != "file" or seen is None or seen.sha256 is None:
            continue
        try:
            digest = _file_digest(source, base.merged(source.options))
        except (FetchFailure, ValueError, TypeError):
            continue
        if digest == seen.sha256:
            same.add(source.doc_key)
    return same


# Digests taken by ``hash_ahead``: a file's path -> its sha256 as ``read_file`` gave it,
# stamped with the file's ``file_stamp`` and the byte cap it was read under.
_DIGESTS: Ahead[str] = Ahead()


def _file_digest(source: Source, options: FetchOptions) -> str:
    return _DIGESTS.take_or(source.location,
                            lambda: (file_stamp(source.location), options.max_bytes),
                            lambda: read_file(source, options).sha256)


def hash_ahead(sources: Iterable[Source]) -> Iterator[None]:
    """Hash local files before the flow asks (``unchanged_files``), one per step.

    A re-run over an unchanged folder spends most of its time waiting: for the Prefect
    API to boot, then for discover, which reads and hashes every file (a third of a
    second per 10,000 pages here). ``fupin run`` takes these steps while it waits for
    the API, and stops when the API answers; discover then only compares a file's
    size, modification time and inode with what was seen here. The file is looked at
    before it is read, and one modified in the last ``SETTLED_S`` seconds is not kept,
    so a change during the read, or soon after within the same clock tick, shows as
    a changed stamp. A step per source, a file or not.
    """
    for source in sources:
        try:
            options = FetchOptions().merged(source.options)
            stamp = file_stamp(source.location) if source.kind == "file" else None
            if stamp is not None and settled(stamp):
                _DIGESTS.keep(source.location, (stamp, options.max_bytes),
                              read_file(source, options).sha256)
        except (FetchFailure, ValueError, TypeError):  # discover meets it again
            pass
        yield


def _charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ").lower()
    return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if re.fullmatch(r"[0-9]+", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": a time in UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _conditional_headers(known: Validators | None) -> dict[str, str]:
    headers = {}
    if known and known.etag:
        headers["If-None-Match"] = known.etag
    if known and known.last_modified:
        headers["If-Modified-Since"] = known.last_modified
    return headers


def _codings(content_encoding: str | None) -> list[str]:
    """The codings to undo, last applied first, from a Content-Encoding header."""
    named = [c.strip().lower() for c in (content_encoding or "").split(",")]
    unsupported = [c for c in named if c in UNSUPPORTED_CODINGS]
    if unsupported:
        raise FetchFailure("bad_compression", f"content-encoding {unsupported[0]} not supported")
    return [c for c in reversed(named) if c in CODINGS]


class _Deadline(threading.local):
    """When the request the current thread is making must be over (monotonic clock)."""

    at: float | None = None


_DEADLINE = _Deadline()


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    _DEADLINE.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _DEADLINE.at = None


def _within_deadline(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the thread's deadline; raises once it passed."""
    if _DEADLINE.at is None:
        return timeout
    left = _DEADLINE.at - time.monotonic()
    if left <= 0:
        raise expired("total_timeout passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the deadline of the thread using it."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _within_deadline(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _within_deadline(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname,
                                     _within_deadline(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls)

    def get_extra_info(self, info: str) -> object:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None, socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, _within_deadline(timeout, httpcore.ConnectTimeout), local_address,
            socket_options)
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport over connections that keep each request's total deadline.

    httpx only bounds each read, connect and write; its transport takes no network
    backend, so the connection pool it builds is replaced by one on ours.
    """

    def __init__(self) -> None:
        super().__init__()
        limits = httpx.Limits()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(),
        )


def _get(
    client: httpx.Client, source: Source, options: FetchOptions, known: Validators | None,
    accept: tuple[str, ...],
) -> RawPage:
    with _deadline(options.total_timeout):
        return _get_within_deadline(client, source, options, known, accept)


def _get_within_deadline(
    client: httpx.Client, source: Source, options: FetchOptions, known: Validators | None,
    accept: tuple[str, ...],
) -> RawPage:
    headers = _conditional_headers(known)
    with client.stream("GET", source.location, headers=headers) as response:
        if response.status_code == 304 and headers:
            raise NotModified(source.location)
        if response.status_code >= 400:
            raise FetchFailure(
                f"http_{response.status_code}",
                response.reason_phrase,
                response.status_code,
                _retry_after(response),
            )
        content_type = response.headers.get("content-type")
        mime = (content_type or "").split(";")[0].strip().lower()
        if mime and not mime.startswith(accept):
            raise FetchFailure("not_text", f"content-type {mime}", response.status_code)
        length = response.headers.get("content-length", "")
        if re.fullmatch(r"[0-9]+", length) and int(length) > options.max_bytes:
            raise FetchFailure("too_large", f"content-length {length}")
        # the body is inflated here, not by httpx, so that the cap bounds what a
        # compressed body expands to while it expands
        inflater = Inflater(_codings(response.headers.get("content-encoding")),
                            options.max_bytes)
        try:
            chunks = [inflater.feed(chunk) for chunk in response.iter_raw()]
            chunks.append(inflater.finish())
        except InflateError as exc:
            raise FetchFailure(exc.reason, exc.detail) from exc
        return _raw(
            source,
            b"".join(chunks),
            url=str(response.url),
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
    accept: tuple[str, ...] = TEXT_TYPES,
) -> RawPage:
    """GET with retries on connection errors, timeouts, 429 and 5xx (exponential backoff,
    full jitter, Retry-After honoured); other 4xx fail at once, as do redirects away
    from http(s). Each attempt ends by ``total_timeout``. Sends the validators the
    warehouse holds, so an unchanged page costs a 304 instead of a download. ``accept``:
    the content types taken (discovery also takes gzipped sitemaps and feeds)."""
    attempt = 0
    while True:
        started = time.monotonic()
        try:
            return _get(client, source, options, known, accept)
        except FetchFailure as failure:
            if failure.status not in RETRY_STATUSES or attempt >= options.retries:
                raise
            last = failure
        except httpx.TimeoutException as exc:
            detail = f"{type(exc).__name__}: {exc}"
            if time.monotonic() - started >= options.total_timeout:
                detail = f"not complete within total_timeout {options.total_timeout:g} s"
            last = FetchFailure("timeout", detail)
        except httpx.TooManyRedirects as exc:
            raise FetchFailure("too_many_redirects", str(exc)) from exc
        except httpx.UnsupportedProtocol as exc:  # the sources are http(s): a redirect led here
            raise FetchFailure("bad_redirect", f"redirected to {exc.request.url}") from exc
        except httpx.InvalidURL as exc:
            raise FetchFailure("bad_url", str(exc)) from exc
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


class HostGate:
    """At most ``per_host`` requests in flight per host, spaced by ``politeness`` seconds
    (more for a host whose robots.txt asks for a longer Crawl-delay: ``slow_down``)."""

    def __init__(self, per_host: int, politeness: float) -> None:
        self._sems: dict[str, threading.Semaphore] = defaultdict(
            lambda: threading.Semaphore(per_host)
        )
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self._politeness = politeness
        self._delays: dict[str, float] = {}

    def slow_down(self, host: str, seconds: float) -> None:
        with self._lock:
            self._delays[host] = max(seconds, self._delays.get(host, 0.0))

    def delay(self, host: str) -> float:
        return max(self._politeness, self._delays.get(host, 0.0))

    def run(self, host: str, fn: Callable[[], RawPage]) -> RawPage:
        with self._lock:
            sem = self._sems[host]
        with sem:
            pause = self.delay(host)
            if pause:
                with self._lock:
                    due = self._last.get(host, 0.0) + pause
                    self._last[host] = max(time.monotonic(), due)
                time.sleep(max(0.0, due - time.monotonic()))
            return fn()


_GATES: dict[tuple[int, float], HostGate] = {}
_GATES_LOCK = threading.Lock()


def shared_gate(per_host: int, politeness: float) -> HostGate:
    """The process's gate for these limits: batches fetched at the same time (a run keeps
    several in flight) share it, so together they still keep to a host's limits."""
    with _GATES_LOCK:
        return _GATES.setdefault((per_host, politeness), HostGate(per_host, politeness))


def make_client(options: FetchOptions) -> httpx.Client:
    timeout = httpx.Timeout(options.read_timeout, connect=options.connect_timeout)
    hooks = {"request": [partial(_stay_on, frozenset(options.hosts))]} if options.hosts else {}
    return httpx.Client(
        transport=_DeadlineTransport(),
        timeout=timeout,
        follow_redirects=True,
        max_redirects=10,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
        event_hooks=hooks,
    )


def _stay_on(hosts: frozenset[str], request: httpx.Request) -> None:
    """Called before every request, redirects included: none leaves ``hosts``."""
    if (request.url.host or "").lower() not in hosts:
        raise FetchFailure("offsite_redirect", f"redirected to {request.url}")


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
    gate = shared_gate(options.per_host, options.politeness)
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
            except Exception as exc:  # a fetcher bug must cost one page, not the run
                return _rejection(source, FetchFailure("fetch_error",
                                                       f"{type(exc).__name__}: {exc}"))

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
