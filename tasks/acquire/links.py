"""Links and addresses of web pages: one key per page however its URL is spelled, the
links a page holds, and whether a page is a listing (mostly links) rather than an article.

The words and names (pagination texts, tracking and session parameters, index page
names, listing thresholds) are in ``schemas/discovery.yaml``. Used by discovery
(``tasks.acquire.discovery``) and by the clean stage, which records a listing page
instead of loading it as a document; it imports no crawler library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
import yaml
from w3lib.url import canonicalize_url

RULES_FILE = Path(__file__).resolve().parents[2] / "schemas" / "discovery.yaml"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Rules:
    """``schemas/discovery.yaml`` as the crawler uses it."""

    pagination_words: frozenset[str]
    pagination: tuple[re.Pattern[str], ...]
    dropped_parameters: frozenset[str]
    dropped_prefixes: tuple[str, ...]
    index_pages: frozenset[str]
    min_links: int
    min_link_share: float
    discovery_types: tuple[str, ...]
    max_crawl_delay: float
    attachment_suffixes: tuple[str, ...]


@cache
def rules() -> Rules:
    raw = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    return Rules(
        pagination_words=frozenset(str(w).strip().lower() for w in raw["pagination_words"]),
        pagination=tuple(re.compile(p) for p in raw["pagination_patterns"]),
        dropped_parameters=frozenset(
            p.lower() for p in [*raw["tracking_parameters"], *raw["session_parameters"]]),
        dropped_prefixes=tuple(p.lower() for p in raw["tracking_prefixes"]),
        index_pages=frozenset(p.lower() for p in raw["index_pages"]),
        min_links=int(raw["listing"]["min_links"]),
        min_link_share=float(raw["listing"]["min_link_share"]),
        discovery_types=tuple(raw["discovery_types"]),
        max_crawl_delay=float(raw["max_crawl_delay"]),
        attachment_suffixes=tuple(str(x).lower() for x in raw["attachment_suffixes"]),
    )


# --- URLs ---------------------------------------------------------------------------

def _dropped(name: str, r: Rules) -> bool:
    name = name.lower()
    return name in r.dropped_parameters or name.startswith(r.dropped_prefixes)


def canonical_url(url: str) -> str:
    """The URL with scheme and host lower-cased, a default port, fragment and user info
    dropped and an empty path written ``/``; raises ValueError if malformed."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname
    if not host:
        raise ValueError("no host")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def request_url(url: str) -> str:
    """The URL to ask for: without fragment, tracking and session parameters (path
    parameters such as ``;jsessionid=…`` too), otherwise as the site wrote it."""
    r = rules()
    parts = urlsplit(url)
    path = ";".join(seg for i, seg in enumerate(parts.path.split(";"))
                    if i == 0 or not _dropped(seg.split("=", 1)[0], r))
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _dropped(k, r)]
    # rebuilt only when a parameter goes: a query the site wrote stays as written
    query = parts.query if len(kept) == len(pairs) else urlencode(kept)
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def url_key(url: str) -> str:
    """One key for every spelling of a page, whoever names it (a ``url`` source, a sitemap,
    a feed, a listing): the request URL with its query sorted and escapes normalised
    (w3lib), host and port canonical, a folder's index page dropped.
    Raises ValueError for a URL that is not one."""
    key = canonical_url(canonicalize_url(request_url(url)))
    parts = urlsplit(key)
    head, _, name = parts.path.rpartition("/")
    if name.lower() in rules().index_pages:
        key = urlunsplit((parts.scheme, parts.netloc, head + "/", parts.query, ""))
    return key


def key_twins(key: str) -> list[str]:
    """The other spellings of a key that name the same page on most sites: the other of
    http and https, and the path with or without its final slash."""
    parts = urlsplit(key)
    schemes = (parts.scheme, "https" if parts.scheme == "http" else "http")
    paths = [parts.path]
    if parts.path != "/":
        paths.append(parts.path[:-1] if parts.path.endswith("/") else parts.path + "/")
    spellings = [urlunsplit((s, parts.netloc, p, parts.query, "")) for p in paths for s in schemes]
    return spellings[1:]


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def is_attachment(url: str) -> bool:
    """A link to a file that is no web page (a PDF, a picture, a spreadsheet): never
    fetched as an article."""
    return urlsplit(url).path.lower().endswith(rules().attachment_suffixes)


def is_pagination(url: str, text: str) -> bool:
    r = rules()
    parts = urlsplit(url)
    where = parts.path + ("?" + parts.query if parts.query else "")
    return text.strip().lower() in r.pagination_words or any(p.search(where) for p in r.pagination)


# --- pages: links and listings ---------------------------------------------------------

@dataclass(frozen=True)
class Link:
    url: str
    text: str


def _tree(html: str) -> Any:
    """The page's element tree without scripts and styles (their text is not shown)."""
    doc = lxml.html.document_fromstring(html)
    for node in doc.xpath("//script|//style|//noscript"):
        node.drop_tree()
    return doc


def page_links(html: str, base: str) -> list[Link]:
    """Every http(s) link of a page, made absolute (against its ``<base href>`` if it has
    one, as a browser does)."""
    try:
        doc = _tree(html)
    except (ValueError, lxml.etree.ParserError):  # an empty or unparsable page has none
        return []
    declared = doc.xpath("//base[@href]/@href")
    if declared:
        base = urljoin(base, declared[0].strip())
    links = []
    for a in doc.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = urljoin(base, href)
        if url.split(":", 1)[0].lower() in ("http", "https"):
            links.append(Link(url, " ".join(a.text_content().split())))
    return links


def listing_share(html: str) -> tuple[int, float]:
    """How many links a page has and the share of its visible text they carry."""
    try:
        doc = _tree(html)
    except (ValueError, lxml.etree.ParserError):
        return 0, 0.0
    anchors = list(doc.iter("a"))
    linked = sum(len("".join(a.text_content().split())) for a in anchors)
    total = len("".join(doc.text_content().split()))
    return len(anchors), (linked / total if total else 0.0)


def listing_evidence(html: str) -> tuple[int, float] | None:
    """(links, share of the text in them) of a page that is mostly links, by the thresholds
    of ``schemas/discovery.yaml``; None for any other page (a text dump has no links)."""
    if "<a" not in html and "<A" not in html:
        return None
    links, share = listing_share(html)
    r = rules()
    return (links, share) if links >= r.min_links and share >= r.min_link_share else None
