import json
from pathlib import Path

from fupin.tasks.acquire.links import canonical_url
from fupin.tasks.acquire.sources import expand_sources
from fupin.tasks.models import Rejection, Source


def _expand(args: list[str]) -> tuple[list[Source], list[Rejection]]:
    """The pages and the rejections expand_sources yields, apart."""
    items = list(expand_sources(args))
    return ([i for i in items if isinstance(i, Source)],
            [i for i in items if isinstance(i, Rejection)])


def _touch(path: Path, text: str = "正文") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_directory_walks_recursively_and_keeps_page_files_only(tmp_path: Path) -> None:
    _touch(tmp_path / "a.html")
    _touch(tmp_path / "sub" / "b.txt")
    _touch(tmp_path / "sub" / "deeper" / "c.shtml.gz")
    _touch(tmp_path / "notes.md")
    sources, rejected = _expand([str(tmp_path)])
    top = tmp_path.name
    assert sorted(s.doc_key for s in sources) == [
        f"{top}/a.html", f"{top}/sub/b.txt", f"{top}/sub/deeper/c.shtml.gz"]
    assert rejected == []


def test_a_folder_is_read_in_path_order_one_page_at_a_time(tmp_path: Path) -> None:
    names = ["b/z.html", "b.html", "a/y/x.html", "a/w.html", "c.txt", "a.html"]
    for name in names:
        _touch(tmp_path / name)
    pages = expand_sources([str(tmp_path)])
    first = next(pages)
    # added once the walk began, to a folder it has not reached: a lazy walk finds it
    _touch(tmp_path / "b" / "late.html")
    keys = [s.doc_key for s in [first, *pages] if isinstance(s, Source)]
    top = tmp_path.name
    assert keys == [f"{top}/{n}" for n in sorted([*names, "b/late.html"],
                                                 key=lambda n: Path(n).parts)]


def test_glob_list_file_and_url(tmp_path: Path) -> None:
    _touch(tmp_path / "p1.htm")
    _touch(tmp_path / "p2.htm")
    listing = _touch(tmp_path / "list.txt", "# pages\np1.htm\n\nhttps://example.org/a?id=1\n")
    sources, rejected = _expand([f"@{listing}", str(tmp_path / "p*.htm")])
    kinds = [(s.kind, s.doc_key) for s in sources]
    top = tmp_path.name
    assert kinds == [("file", f"{top}/p1.htm"), ("http", "https://example.org/a?id=1"),
                     ("file", f"{top}/p2.htm")]
    assert rejected == []


def test_missing_and_unsupported_sources_are_rejected_with_reasons(tmp_path: Path) -> None:
    sources, rejected = _expand(
        [str(tmp_path / "nope.html"), "ftp://example.org/x.html", str(tmp_path / "*.html"),
         "@" + str(tmp_path / "missing-list.txt")]
    )
    assert sources == []
    assert [r.reason for r in rejected] == [
        "not_found", "unsupported_scheme", "no_match", "unreadable_source_list"
    ]


def test_folders_of_the_same_name_in_one_run_get_distinct_stable_keys(tmp_path: Path) -> None:
    _touch(tmp_path / "x" / "pages" / "page.html")
    _touch(tmp_path / "y" / "pages" / "page.html")
    args = [str(tmp_path / "x" / "pages"), str(tmp_path / "y" / "pages")]
    first, _ = _expand(args)
    again, _ = _expand(args)
    keys = [s.doc_key for s in first]
    assert keys[0] == "pages/page.html" and keys[1].startswith("pages/page.html~")
    assert keys == [s.doc_key for s in again]


def test_url_keys_are_canonical_urls() -> None:
    key = canonical_url("http://news.example.cn/fupin/2020/1.html")
    assert key == "http://news.example.cn/fupin/2020/1.html"
    assert canonical_url("HTTP://News.Example.CN:80/fupin/2020/1.html#top") == key
    assert canonical_url("https://example.org") == "https://example.org/"
    assert canonical_url("https://example.org:8443/a?b=1") == "https://example.org:8443/a?b=1"


def test_sources_file_names_entries_carries_options_and_keeps_to_its_roots(
    tmp_path: Path,
) -> None:
    _touch(tmp_path / "data" / "a.html")
    _touch(tmp_path / "data" / "b.txt")
    _touch(tmp_path / "outside.html")
    _touch(tmp_path / "data" / "urls.txt", "https://example.org/1.html\n../outside.html\n")
    spec = tmp_path / "sources.yaml"
    spec.write_text(
        "defaults: {read_timeout: 15}\n"
        "roots: [data]\n"
        "sources:\n"
        "  - {name: local, kind: files, location: data}\n"
        "  - {name: crawl, kind: list, location: data/urls.txt, options: {per_host: 1}}\n",
        encoding="utf-8",
    )
    sources, rejected = _expand([str(spec)])
    by_key = {s.doc_key: s for s in sources}
    assert by_key["data/a.html"].origin == "local" and by_key["data/b.txt"].origin == "local"
    url = next(s for s in sources if s.kind == "http")
    assert url.origin == "crawl"
    assert json.loads(url.options) == {"read_timeout": 15, "per_host": 1}
    assert [r.reason for r in rejected] == ["outside_roots"]


def test_pages_named_counts_pages_across_arguments_and_stops_past_the_limit(
    tmp_path: Path,
) -> None:
    from fupin.tasks.acquire.sources import pages_named

    for name in ("a.html", "b.html", "c.txt"):
        _touch(tmp_path / "dir" / name)
    args = [str(tmp_path / "dir"), "https://example.org/x", str(tmp_path / "missing.html")]
    assert pages_named(args, 4) == 4  # rejections are no pages
    assert pages_named(args, 3) is None
    assert pages_named([str(tmp_path / "missing.html")], 0) == 0
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - {name: s, kind: sitemap, location: https://example.org/s.xml}\n",
                       encoding="utf-8")
    assert pages_named([str(sources)], 100) is None  # found only at run time


def test_an_entry_whose_key_is_taken_keeps_its_fetch_options(tmp_path: Path) -> None:
    _touch(tmp_path / "east" / "pages" / "a.html")
    _touch(tmp_path / "west" / "pages" / "a.html")
    spec = tmp_path / "sources.yaml"
    spec.write_text(
        "sources:\n"
        "  - {name: east, kind: files, location: east/pages, options: {politeness: 1.5}}\n"
        "  - {name: west, kind: files, location: west/pages, options: {politeness: 3}}\n",
        encoding="utf-8",
    )
    sources, rejected = _expand([str(spec)])
    assert rejected == []
    east, west = sources
    assert (east.origin, east.options) == ("east", '{"politeness": 1.5}')
    assert (west.origin, west.options) == ("west", '{"politeness": 3}')
    assert east.doc_key == "pages/a.html" and west.doc_key.startswith("pages/a.html~")


def test_a_broken_sources_file_reached_in_a_run_is_a_rejection_not_a_crash(
    tmp_path: Path,
) -> None:
    _touch(tmp_path / "sched.yaml", "sources:\n  - {name: x, kind: files, location: 7}\n")
    _touch(tmp_path / "plain.txt")
    listing = _touch(tmp_path / "all.txt", "sched.yaml\nplain.txt\n")
    sources, rejected = _expand([f"@{listing}"])
    assert [s.doc_key for s in sources] == [f"{tmp_path.name}/plain.txt"]
    assert [r.reason for r in rejected] == ["invalid_sources_file"]
    assert "sources[1] (x).location: expected a non-empty text, got 7" in rejected[0].detail
