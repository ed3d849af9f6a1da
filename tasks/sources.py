"""Turn the SOURCE arguments of a run into the list of pages to pull.

A SOURCE is a file, a directory (walked recursively), a glob, an http(s) URL,
``@FILE`` naming a list with one SOURCE per line, or a sources file in YAML
(``*.yaml``/``*.yml``: named entries with fetch options, for scheduled runs).
Arguments that match nothing are returned as rejections so the run can report them.
"""

from __future__ import annotations

import glob
import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from tasks.models import Rejection, Source

PAGE_SUFFIXES = (".html", ".htm", ".shtml", ".txt")
_GLOB_CHARS = set("*?[")


def is_page_file(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return name.endswith(PAGE_SUFFIXES)


def file_doc_key(path: Path) -> str:
    """The file stem, without page and gzip suffixes: how gold files name pages."""
    name = path.name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    return Path(name).stem


def url_doc_key(url: str) -> str:
    """A stable, readable id for a URL: host plus a short hash of the whole URL."""
    host = urlsplit(url).hostname or "url"
    return f"{host}-{hashlib.sha1(url.encode('utf-8')).hexdigest()[:12]}"


def _is_url(arg: str) -> bool:
    return urlsplit(arg).scheme in ("http", "https")


def _expand_one(arg: str, base: Path) -> Iterator[Source | Rejection]:
    if _is_url(arg):
        yield Source(location=arg, kind="http", doc_key=url_doc_key(arg), origin=arg)
        return
    if "://" in arg:
        yield Rejection(arg, "", "discover", "unsupported_scheme", "only http, https and files")
        return
    if arg.lower().endswith((".yaml", ".yml")) and not _GLOB_CHARS & set(arg):
        yield from expand_sources_file(base / arg)
        return
    if arg.startswith("@"):
        list_path = (base / arg[1:]).resolve()
        try:
            lines = list_path.read_text(encoding="utf-8-sig").splitlines()
        except OSError as exc:
            yield Rejection(arg, "", "discover", "unreadable_source_list", str(exc))
            return
        for line in lines:
            entry = line.strip()
            if entry and not entry.startswith("#"):
                yield from _expand_one(entry, list_path.parent)
        return
    path = Path(arg) if Path(arg).is_absolute() else base / arg
    if _GLOB_CHARS & set(arg):
        matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
        files = [p for p in matches if p.is_file() and is_page_file(p)]
        if not files:
            yield Rejection(arg, "", "discover", "no_match", "the glob matched no page files")
        for p in files:
            yield _file_source(p, arg)
        return
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and is_page_file(p))
        if not files:
            yield Rejection(arg, "", "discover", "no_match", "the directory holds no page files")
        for p in files:
            yield _file_source(p, arg)
        return
    if path.is_file():
        yield _file_source(path, arg)
        return
    yield Rejection(arg, "", "discover", "not_found", "no such file, directory or URL")


SOURCE_KINDS = ("files", "url", "list")


def expand_sources_file(path: Path) -> Iterator[Source | Rejection]:
    """Expand a YAML sources file: ``defaults`` (fetch options), ``roots`` and ``sources``.

    Each entry has a ``name``, a ``kind`` (files, url or list), a ``location`` and
    optional ``options``. Local files must lie inside one of ``roots`` (default:
    the folder of the sources file), so a list cannot reach elsewhere on the disk.
    """
    origin = str(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        yield Rejection(origin, "", "discover", "unreadable_sources_file", str(exc))
        return
    base = path.resolve().parent
    roots = [(base / r).resolve() for r in spec.get("roots") or ["."]]
    defaults = spec.get("defaults") or {}
    for number, entry in enumerate(spec.get("sources") or [], start=1):
        name = str(entry.get("name") or f"entry-{number}")
        kind, location = entry.get("kind"), entry.get("location")
        if kind not in SOURCE_KINDS or not location:
            yield Rejection(f"{origin}#{name}", "", "discover", "bad_sources_entry",
                            f"needs kind ({', '.join(SOURCE_KINDS)}) and location")
            continue
        options = {**defaults, **(entry.get("options") or {})}
        arg = f"@{location}" if kind == "list" else str(location)
        for item in _expand_one(arg, base):
            if isinstance(item, Rejection):
                yield item
            elif item.kind == "file" and not _inside(Path(item.location), roots):
                yield Rejection(item.location, item.doc_key, "discover", "outside_roots",
                                f"not inside {', '.join(map(str, roots))}")
            else:
                yield Source(item.location, item.kind, item.doc_key, name,
                             json.dumps(options, sort_keys=True) if options else "")


def _inside(path: Path, roots: list[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(root) for root in roots)


def _file_source(path: Path, origin: str) -> Source:
    return Source(
        location=str(path.resolve()), kind="file", doc_key=file_doc_key(path), origin=origin
    )


def expand_sources(
    args: Iterable[str], base: Path | None = None
) -> tuple[list[Source], list[Rejection]]:
    """Expand SOURCE arguments; the same location named twice is pulled once.

    Two different locations with the same key (a file ``a/x.html`` and ``b/x.txt``)
    keep the first key and give the later one a short location hash, so keys stay
    unique within a run and stable across runs.
    """
    base = base or Path.cwd()
    sources: list[Source] = []
    rejections: list[Rejection] = []
    seen_locations: set[str] = set()
    seen_keys: set[str] = set()
    for arg in args:
        for item in _expand_one(arg, base):
            if isinstance(item, Rejection):
                rejections.append(item)
                continue
            if item.location in seen_locations:
                continue
            seen_locations.add(item.location)
            if item.doc_key in seen_keys:
                digest = hashlib.sha1(item.location.encode("utf-8")).hexdigest()[:6]
                item = Source(item.location, item.kind, f"{item.doc_key}~{digest}", item.origin)
            seen_keys.add(item.doc_key)
            sources.append(item)
    return sources, rejections


def names_at_most(args: Iterable[str], limit: int, base: Path | None = None) -> bool:
    """Whether SOURCE arguments name at most ``limit`` pages, expanding no further than that.

    A cheap look before a run (``expand_sources`` over 50,000 files takes seconds);
    a location named twice counts twice, so the answer errs towards "more".
    """
    base = base or Path.cwd()
    count = 0
    for arg in args:
        for item in _expand_one(arg, base):
            count += isinstance(item, Source)
            if count > limit:
                return False
    return True


def batched(items: list[Source], size: int) -> list[list[Source]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
