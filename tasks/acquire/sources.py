"""Turn the SOURCE arguments of a run into the list of pages to pull.

A SOURCE is a file, a directory (walked recursively), a glob, an http(s) URL,
``@FILE`` naming a list with one SOURCE per line, or a sources file in YAML
(``*.yaml``/``*.yml``: named entries with fetch options, for scheduled runs).
Arguments that match nothing, or that cannot be read, are returned as rejections
so the run can report them; only a sources file that breaks its schema stops a run
(``SourcesFileError``), since its options would shape every page.

Document keys (``dim_document.doc_key``) must name the same page in every run:

* an http(s) page: its canonical URL (``tasks.acquire.links.url_key``: scheme and host
  lower-cased, default port, fragment, user info, tracking and session parameters
  dropped, query sorted, escapes normalised, a folder's index page dropped), the same
  key a sitemap, feed or listing that names the page gives it;
* a local file: the name of the folder the SOURCE named, then the file's path inside
  it (``pages/2020/a.html``). A directory names itself, a file or a glob the folder
  it sits in. ``pages``, ``./pages/`` and ``/abs/pages`` are the same folder, and a
  link to it takes the name of its target, so all give the same keys. The key starts
  at the folder you name: run a tree as ``data`` and its sub-folder as ``data/A``
  and the same file has two keys, so name a tree the same way each time. A key that
  another existing file already holds gets a short location hash (``expand_sources``).

Local files reached through a list file must lie under that list's folder (or
under the ``roots`` of the sources file that named the list); anything else is
rejected as ``outside_roots``, so a list cannot copy other files of the disk into
the warehouse. Inside a directory, links to directories are not followed (each is
recorded as ``symlinked_directory``), and links to nothing as ``dangling_link`` or
``symlink_loop``.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from fupin.tasks.acquire.fetch import FetchOptions
from fupin.tasks.acquire.links import url_key
from fupin.tasks.models import DiscoverOptions, DiscoveryEntry, Rejection, Source

PAGE_SUFFIXES = (".html", ".htm", ".shtml", ".txt")
_GLOB_CHARS = set("*?[")
# Longer than any path (PATH_MAX) or URL a browser keeps: not a source anyone meant.
MAX_SOURCE_CHARS = 4096
_SHOWN_CHARS = 200


def is_page_file(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return name.endswith(PAGE_SUFFIXES)


def page_stem(doc_key: str) -> str:
    """A key's file name without folder, page and gzip suffixes: how gold files name pages."""
    name = doc_key.rsplit("/", 1)[-1]
    if name.lower().endswith(".gz"):
        name = name[:-3]
    return Path(name).stem


def _key_prefix(root: Path) -> str:
    """The name of the folder ``root`` leads to (a link's target, ``.``'s own name), and /."""
    name = Path(os.path.realpath(root)).name
    return f"{name}/" if name else ""


def _below(path: Path, root: Path) -> str:
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(root))).as_posix()


def _is_url(arg: str) -> bool:
    return arg.split("://", 1)[0].lower() in ("http", "https") and "://" in arg


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _reject(location: str, reason: str, detail: str) -> Rejection:
    return Rejection(_shown(location), "", "discover", reason, detail)


@dataclass(frozen=True)
class _Scope:
    """Where an argument is read: relative paths start at ``base``; local files must lie
    under ``roots`` (None: anywhere); ``lists`` are the list files being expanded."""

    base: Path
    roots: tuple[Path, ...] | None = None
    lists: tuple[Path, ...] = ()


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(root) for root in roots)


def _expand(arg: str, scope: _Scope) -> Iterator[Source | Rejection]:
    """One argument's pages; whatever goes wrong with it is its rejection, never the run's."""
    try:
        for item in _expand_one(arg, scope):
            if (isinstance(item, Source) and item.kind == "file" and scope.roots is not None
                    and not _inside(Path(item.location), scope.roots)):
                yield Rejection(item.location, item.doc_key, "discover", "outside_roots",
                                f"not under {', '.join(map(str, scope.roots))}")
            else:
                yield item
    except (OSError, ValueError) as exc:
        yield _reject(arg, "bad_source", f"{type(exc).__name__}: {exc}")


def _expand_one(arg: str, scope: _Scope) -> Iterator[Source | Rejection]:
    if len(arg) > MAX_SOURCE_CHARS:
        yield _reject(arg, "too_long", f"{len(arg)} characters (at most {MAX_SOURCE_CHARS})")
        return
    if _is_url(arg):
        try:
            key = url_key(arg)
        except ValueError as exc:
            yield _reject(arg, "bad_url", str(exc))
            return
        yield Source(location=arg, kind="http", doc_key=key, origin=arg)
        return
    if "://" in arg:
        yield _reject(arg, "unsupported_scheme", "only http, https and files")
        return
    if arg.startswith("@"):
        yield from _expand_list(arg, scope)
        return
    path = Path(arg) if Path(arg).is_absolute() else scope.base / arg
    if path.is_file():  # an existing file is that file, even if its name looks like a glob
        if arg.lower().endswith((".yaml", ".yml")):
            yield from _expand_sources_file(path, scope)
        else:
            yield _file_source(path, path.parent, arg, _key_prefix(path.parent))
        return
    if path.is_dir():
        yield from _expand_dir(path, arg)
        return
    if _GLOB_CHARS & set(arg):
        pattern = arg if Path(arg).is_absolute() else str(Path(glob.escape(str(scope.base))) / arg)
        files = [p for p in map(Path, sorted(glob.glob(pattern, recursive=True)))
                 if p.is_file() and is_page_file(p)]
        root = _glob_root(arg, scope.base)
        prefix = _key_prefix(root)
        if not files:
            yield _reject(arg, "no_match", "the glob matched no page files")
        for p in files:
            yield _file_source(p, root, arg, prefix)
        return
    if path.is_symlink():
        yield _link_rejection(path)
        return
    yield _reject(arg, "not_found", "no such file, directory or URL")


def _glob_root(pattern: str, base: Path) -> Path:
    """The folder a glob starts from: its parts before the first wildcard."""
    parts = Path(pattern).parts
    fixed = next(i for i, part in enumerate(parts) if _GLOB_CHARS & set(part))
    return base.joinpath(*parts[:fixed])


def _link_rejection(path: Path) -> Rejection:
    try:
        path.stat()
        reason, detail = "not_a_file", "the link leads to neither a file nor a folder"
    except OSError as exc:
        loop = exc.errno == errno.ELOOP
        reason = "symlink_loop" if loop else "dangling_link"
        detail = f"the link points to {os.readlink(path)}" + (", in a loop" if loop else "")
    return Rejection(str(path), "", "discover", reason, detail)


def _expand_dir(folder: Path, origin: str) -> Iterator[Source | Rejection]:
    """The folder's page files in the order of their paths, yielded as the walk reaches
    them: a tree of a million files is never listed whole."""
    prefix = _key_prefix(folder)
    found = False
    for item in _walk(folder, os.path.realpath(folder), ""):
        found = True
        yield item if isinstance(item, Rejection) else Source(
            location=item.real, kind="file", doc_key=prefix + item.below, origin=origin)
    if not found:
        yield _reject(origin, "no_match", "the directory holds no page files")


class _Found(NamedTuple):
    """A page file the walk reached: where it really is (links resolved) and its path
    below the walk's root."""

    real: str
    below: str


def _walk(folder: Path, real: str, below: str) -> Iterator[_Found | Rejection]:
    """Page files below ``folder``, depth first with each folder's entries by name (the
    order of their sorted paths); links to folders are not entered but recorded.

    ``real`` is ``folder`` with its links resolved and ``below`` its path under the
    root, both carried down the walk: resolving and relating every file's path
    anew took most of the time a re-run spends finding 10,000 unchanged files.
    """
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        yield _reject(str(exc.filename or folder), "unreadable", str(exc))
        return
    for entry in entries:
        path = Path(entry.path)
        name = entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path, os.path.join(real, name), f"{below}{name}/")
        elif entry.is_symlink() and path.is_dir():
            yield Rejection(str(path), "", "discover", "symlinked_directory",
                            f"not followed (it points to {os.readlink(path)}); "
                            "name its target as a SOURCE to include it")
        elif is_page_file(path):
            if entry.is_file(follow_symlinks=False):
                yield _Found(os.path.join(real, name), below + name)
            elif path.is_file():  # a link to a file: it is read where it leads
                yield _Found(str(path.resolve()), below + name)
            elif path.is_symlink():
                yield _link_rejection(path)


def _expand_list(arg: str, scope: _Scope) -> Iterator[Source | Rejection]:
    """A list file's lines; each bad line is a rejection and the rest still count."""
    name = arg[1:]
    list_path = (Path(name) if Path(name).is_absolute() else scope.base / name).resolve()
    if scope.roots is not None and not _inside(list_path, scope.roots):
        yield _reject(arg, "outside_roots",
                      f"list file not under {', '.join(map(str, scope.roots))}")
        return
    if list_path in scope.lists:
        yield _reject(arg, "list_cycle", "the list names itself, directly or through others")
        return
    try:
        text = list_path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        yield _reject(arg, "unreadable_source_list", str(exc))
        return
    except UnicodeDecodeError as exc:
        yield _reject(arg, "undecodable_source_list",
                      f"not UTF-8 text: byte {exc.object[exc.start]:#04x} at offset {exc.start}")
        return
    inner = _Scope(list_path.parent, scope.roots or (list_path.parent,),
                   (*scope.lists, list_path))
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        for item in _expand(entry, inner):
            if isinstance(item, Rejection):
                item = replace(item, detail=f"line {number} of {list_path}: {item.detail}")
            yield item


# --- sources files -----------------------------------------------------------------

# sitemap, feed and site entries are discovery sources: their pages are found at run
# time (tasks.acquire.discovery), not named here.
DISCOVERY_KINDS = ("sitemap", "feed", "site")
SOURCE_KINDS = ("files", "url", "list", *DISCOVERY_KINDS)
_TOP_KEYS = ("defaults", "roots", "sources")
_ENTRY_KEYS = ("name", "kind", "location", "options", "discover")
# Fetch options: the least value that makes sense, and whether it may be reached.
_OPTION_MINIMUM: dict[str, tuple[float, bool]] = {
    "connect_timeout": (0, False), "read_timeout": (0, False), "total_timeout": (0, False),
    "retries": (0, True),
    "backoff": (0, True), "max_backoff": (0, True), "max_bytes": (1, True),
    "per_host": (1, True), "politeness": (0, True), "workers": (1, True),
}


class SourcesFileError(ValueError):
    """A sources file that breaks its schema; ``problems`` holds one line per fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SourceEntry:
    name: str
    kind: str
    location: str
    options: dict[str, Any]
    discover: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourcesSpec:
    roots: tuple[Path, ...]
    entries: tuple[SourceEntry, ...]


def _option_problem(name: str, value: Any) -> str | None:
    """What is wrong with one fetch option, or None."""
    kinds = {f.name: type(f.default) for f in fields(FetchOptions)}
    if name not in kinds:
        return f"unknown option (known: {', '.join(sorted(kinds))})"
    if kinds[name] is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return f"expected a list of host names, got {value!r}"
        return None
    whole = kinds[name] is int
    least, reachable = _OPTION_MINIMUM[name]
    bound = f"{'≥' if reachable else '>'} {least:g}"
    expected = f"expected {'a whole number' if whole else 'a number'} {bound}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return expected
    if (whole and not isinstance(value, int)) or not math.isfinite(value):
        return expected
    if value < least or (value == least and not reachable):
        return expected
    return None


def _checked_mapping(
    value: Any, where: str, problems: list[str], what: str,
    problem_of: Callable[[str, Any], str | None],
) -> dict[str, Any]:
    """``value`` when it is a mapping (else {}), each key's fault added to ``problems``."""
    if not isinstance(value, dict):
        problems.append(f"{where}: expected a mapping of {what}, got {value!r}")
        return {}
    for name, option in value.items():
        problem = problem_of(str(name), option)
        if problem:
            problems.append(f"{where}.{name}: {problem}")
    return value


def _options(value: Any, where: str, problems: list[str]) -> dict[str, Any]:
    if value is None:
        return {}
    return _checked_mapping(value, where, problems, "fetch options", _option_problem)


def _discover_problem(name: str, value: Any) -> str | None:
    """What is wrong with one option of a discovery entry's ``discover`` mapping, or None."""
    defaults = {f.name: f.default for f in fields(DiscoverOptions)}
    if name not in defaults:
        return f"unknown option (known: {', '.join(sorted(defaults))})"
    default = defaults[name]
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return f"expected a list of texts, got {value!r}"
        for text in value:
            if name in ("include", "exclude"):
                try:
                    re.compile(text)
                except re.error as exc:
                    return f"{text!r} is not a regular expression ({exc})"
            elif name == "start" and not _is_url(text):
                return f"expected http(s) URLs, got {text!r}"
        return None
    least = 0 if name in ("depth", "recheck_days") else 1
    whole = isinstance(default, int)
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or (whole and not isinstance(value, int)) or not math.isfinite(value)
            or value < least):
        return f"expected {'a whole number' if whole else 'a number'} ≥ {least}, got {value!r}"
    return None


def _discover(raw: Any, kind: Any, where: str, problems: list[str]) -> dict[str, Any]:
    if raw is None:
        return {}
    if kind not in DISCOVERY_KINDS:
        problems.append(
            f"{where}: only a {', '.join(DISCOVERY_KINDS)} entry takes discover options")
        return {}
    return _checked_mapping(raw, where, problems, "discovery options", _discover_problem)


def _entry(raw: Any, number: int, where: str, problems: list[str]) -> SourceEntry | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a mapping with kind and location, got {raw!r}")
        return None
    before = len(problems)
    problems.extend(f"{where}.{k}: unknown key (known: {', '.join(_ENTRY_KEYS)})"
                    for k in raw if k not in _ENTRY_KEYS)
    name, kind, location = raw.get("name", f"entry-{number}"), raw.get("kind"), raw.get("location")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}.name: expected a non-empty text, got {name!r}")
    if kind not in SOURCE_KINDS:
        problems.append(f"{where}.kind: expected one of {', '.join(SOURCE_KINDS)}, got {kind!r}")
    if not isinstance(location, str) or not location.strip():
        problems.append(f"{where}.location: expected a non-empty text, got {location!r}")
    elif kind in ("url", *DISCOVERY_KINDS) and not _is_url(location):
        problems.append(f"{where}.location: expected an http(s) URL, got {location!r}")
    elif kind in ("files", "list") and ("://" in location or location.startswith("@")):
        problems.append(f"{where}.location: expected a local path, got {location!r}")
    options = _options(raw.get("options"), f"{where}.options", problems)
    discover = _discover(raw.get("discover"), kind, f"{where}.discover", problems)
    if len(problems) > before:
        return None
    return SourceEntry(str(name), str(kind), str(location), options, discover)


def read_sources_file(path: Path) -> SourcesSpec:
    """Read and check a sources file against its schema, reporting every fault at once."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise SourcesFileError([f"{path}: cannot be read ({exc.strerror or exc})"]) from exc
    except UnicodeDecodeError as exc:
        raise SourcesFileError(
            [f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"]
        ) from exc
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourcesFileError([f"{path}: {at}not valid YAML ({problem})"]) from exc
    spec = {} if spec is None else spec
    if not isinstance(spec, dict):
        raise SourcesFileError([f"{path}: expected a mapping with {', '.join(_TOP_KEYS)}, "
                                f"got {type(spec).__name__}"])
    problems = [f"{path}: {k}: unknown key (known: {', '.join(_TOP_KEYS)})"
                for k in spec if k not in _TOP_KEYS]
    defaults = _options(spec.get("defaults"), f"{path}: defaults", problems)
    roots = spec.get("roots", ["."])
    if not isinstance(roots, list) or not roots or not all(
            isinstance(r, str) and r.strip() for r in roots):
        problems.append(f"{path}: roots: expected a list of folder names, got {roots!r}")
        roots = ["."]
    raw_entries = spec.get("sources") or []
    if not isinstance(raw_entries, list):
        problems.append(f"{path}: sources: expected a list of entries, got {raw_entries!r}")
        raw_entries = []
    entries: list[SourceEntry] = []
    for number, raw in enumerate(raw_entries, start=1):
        label = raw.get("name") if isinstance(raw, dict) else None
        where = f"{path}: sources[{number}]" + (f" ({label})" if isinstance(label, str) else "")
        entry = _entry(raw, number, where, problems)
        if entry is not None:
            entries.append(replace(entry, options={**defaults, **entry.options}))
    names = [e.name for e in entries]
    problems.extend(f"{path}: sources: the name {n!r} is used twice"
                    for n in sorted({n for n in names if names.count(n) > 1}))
    if problems:
        raise SourcesFileError(problems)
    base = path.resolve().parent
    return SourcesSpec(tuple((base / r).resolve() for r in roots), tuple(entries))


def _expand_sources_file(path: Path, scope: _Scope) -> Iterator[Source | Rejection]:
    """A sources file's entries, each read like a SOURCE argument but kept to its roots."""
    try:
        spec = read_sources_file(path)
    except SourcesFileError as exc:
        yield _reject(str(path), "invalid_sources_file", str(exc))
        return
    inner = _Scope(path.resolve().parent, spec.roots, scope.lists)
    for entry in spec.entries:
        if entry.kind in DISCOVERY_KINDS:  # found at run time: discovery_entries
            continue
        arg = f"@{entry.location}" if entry.kind == "list" else entry.location
        options = json.dumps(entry.options, sort_keys=True) if entry.options else ""
        for item in _expand(arg, inner):
            yield replace(item, origin=entry.name, options=options) \
                if isinstance(item, Source) else item


def sources_file_problems(args: Iterable[str], base: Path | None = None) -> list[str]:
    """Schema faults of the sources files named among SOURCE arguments, one line each.

    Checked before a run starts: a sources file with a wrong option would otherwise
    fail pages (or hang on them) only once they are fetched.
    """
    problems: list[str] = []
    for path in _sources_files(args, base or Path.cwd()):
        try:
            read_sources_file(path)
        except SourcesFileError as exc:
            problems.extend(exc.problems)
    return problems


def _sources_files(args: Iterable[str], base: Path) -> Iterator[Path]:
    for arg in args:
        path = Path(arg) if Path(arg).is_absolute() else base / arg
        if arg.lower().endswith((".yaml", ".yml")) and "://" not in arg and path.is_file():
            yield path


def discovery_entries(args: Iterable[str], base: Path | None = None) -> list[DiscoveryEntry]:
    """The sitemap, feed and site entries of the sources files among SOURCE arguments.

    A sources file that breaks its schema gives none: ``expand_sources`` records it as
    a rejected argument (and ``fupin run`` refuses it before the run).
    """
    entries = []
    for path in _sources_files(args, base or Path.cwd()):
        try:
            spec = read_sources_file(path)
        except SourcesFileError:
            continue
        entries.extend(
            DiscoveryEntry(e.name, e.kind, e.location,
                           json.dumps(e.options, sort_keys=True) if e.options else "",
                           DiscoverOptions.of(e.discover))
            for e in spec.entries if e.kind in DISCOVERY_KINDS)
    return entries


def _file_source(path: Path, root: Path, origin: str, prefix: str) -> Source:
    """A file's key is ``prefix`` (``_key_prefix(root)``, once per walk) and its path below root."""
    return Source(location=str(path.resolve()), kind="file",
                  doc_key=prefix + _below(path, root), origin=origin)


def expand_sources(
    args: Iterable[str], base: Path | None = None, stored: dict[str, str] | None = None,
    more: Iterable[Source] = (),
) -> Iterator[Source | Rejection]:
    """Expand SOURCE arguments lazily; the same file or page named twice is pulled once.

    Each page is yielded as soon as its argument's walk reaches it, so a run can batch
    and fetch the first pages while later arguments are still being read; what is kept
    is only the keys and locations seen so far (for de-duplication). ``more``: sources
    found otherwise (discovery), read after the arguments, de-duplicated with them.

    Keys are unique within the run and across runs: ``stored`` maps the warehouse's
    keys to their locations. A file whose key another file holds (folders of the same
    name in two places, named in one run or in two) takes a second key, the key and a
    short location hash, and keeps it in later runs. A key held by a file that is gone
    passes to the new location: the file was moved.
    """
    scope = _Scope(base or Path.cwd())
    stored = stored or {}
    seen: set[str] = set()
    seen_keys: set[str] = set()
    named = (item for arg in args for item in _expand(arg, scope))
    for item in itertools.chain(named, more):
        if isinstance(item, Rejection):
            yield item
            continue
        same = item.doc_key if item.kind == "http" else item.location
        if same in seen:
            continue
        seen.add(same)
        if item.kind == "file" and _key_taken(item, seen_keys, stored):
            item = replace(item, doc_key=_second_key(item))
        seen_keys.add(item.doc_key)
        yield item


def pages_named(args: Iterable[str], limit: int, base: Path | None = None) -> int | None:
    """How many pages SOURCE arguments name, or None past ``limit`` or when a sources
    file has discovery entries (their pages are found only at run time).

    A cheap look before a run: arguments are expanded no further than ``limit``
    pages. A location named twice counts twice, so the answer errs towards more.
    """
    args = list(args)
    if discovery_entries(args, base):
        return None
    scope = _Scope(base or Path.cwd())
    count = 0
    for arg in args:
        for item in _expand(arg, scope):
            count += isinstance(item, Source)
            if count > limit:
                return None
    return count


def _second_key(source: Source) -> str:
    return f"{source.doc_key}~{hashlib.sha1(source.location.encode('utf-8')).hexdigest()[:6]}"


def _key_taken(source: Source, run_keys: set[str], stored: dict[str, str]) -> bool:
    if source.doc_key in run_keys or _second_key(source) in stored:
        return True
    holder = stored.get(source.doc_key)
    return holder not in (None, source.location) and os.path.isfile(str(holder))


def legacy_keys(stored: dict[str, str]) -> dict[str, str]:
    """Location -> old key, for documents an earlier version keyed differently.

    Earlier versions keyed a file by its stem and a URL by host and hash (keys without
    ``/``), so ``A/index.html`` and ``B/index.html`` shared ``index``, and later a URL by a
    canonical form that kept tracking parameters, escapes and index pages as written.
    Built from the warehouse once, it answers each source as the sources stream past
    (``legacy_key``).
    """
    return {location: key for key, location in stored.items()
            if "/" not in key or "://" in key}


def legacy_key(source: Source, legacy: dict[str, str]) -> str | None:
    """The old key of the document at this source's location, when the source takes it
    over under its own key (``tasks.warehouse.migrate_doc_keys``), so nothing is loaded
    twice; None when there is none to take over."""
    old = legacy.get(source.location)
    if old is None or old == source.doc_key or ("/" in old and source.kind != "http"):
        return None
    return old
