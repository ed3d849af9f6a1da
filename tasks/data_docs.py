"""Great Expectations Data Docs that belong to one warehouse and read well with no network.

GE's page templates take Bootstrap, jQuery and icon fonts from CDNs, and fill the
index tables from inline scripts that need jQuery: offline, the index is an empty,
unstyled page. The GE package ships no copy of those files, so every page GE
writes is rewritten here once: remote stylesheets and scripts are dropped, a local
stylesheet (``static/data_docs_offline.css``) is inlined, the GE logo points to
the copy GE puts in the site's ``static`` folder, and the rows the scripts would
have inserted become plain table rows. Nothing here imports GE.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path
from typing import Any

OFFLINE_CSS = Path(__file__).with_name("static") / "data_docs_offline.css"
MARKER = "<!-- fupin: offline -->"
_HEAD_BYTES = 512  # the marker follows <head>, which GE writes in a page's first lines

_REMOTE_LINK_RE = re.compile(r"<link\b[^>]*\bhref=[\"']https?://[^>]*>", re.I)
_REMOTE_SCRIPT_RE = re.compile(
    r"<script\b[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>", re.I)
_INLINE_SCRIPT_RE = re.compile(r"<script\b[^>]*>(.*?)</script>", re.I | re.S)
_REMOTE_IMG_RE = re.compile(r"<img\b([^>]*?)\bsrc=[\"'](https?://[^\"']*)[\"']([^>]*)>", re.I)
_TABLE_CALL_RE = re.compile(r"\$\(['\"]#([\w-]+)['\"]\)\.bootstrapTable\(")
_ROW_LINK = "_table_row_link_path"
_SORT_KEY = "_run_time_sort"


def data_docs_dir(db: Path | str) -> Path:
    """Where a warehouse's Data Docs live: a folder named after the warehouse file.

    Two warehouses in one folder keep apart, and the site (with its stored results,
    which make the run history) survives every later run.
    """
    path = Path(db).resolve()
    return path.parent / "data_docs" / path.name


def make_site_offline(folder: Path) -> int:
    """Rewrite the pages of the site in ``folder`` that still point at the network.

    Pages rewritten before carry a marker at the top of their head and are skipped
    after reading a few hundred bytes, so a run with a long history only pays for
    the pages its build wrote. Returns how many it rewrote.
    """
    css = OFFLINE_CSS.read_text(encoding="utf-8")
    rewritten = 0
    for page in sorted(folder.rglob("*.html")):
        with page.open("rb") as head:
            if MARKER.encode() in head.read(_HEAD_BYTES):
                continue
        text = page.read_text(encoding="utf-8")
        depth = len(page.relative_to(folder).parts) - 1
        page.write_text(offline_page(text, css, "../" * depth, folder / "static" / "images"),
                        encoding="utf-8")
        rewritten += 1
    return rewritten


def offline_page(text: str, css: str, root: str, images: Path) -> str:
    """One page with no remote stylesheet, script or image; ``root`` leads to the site root."""
    tables = dict(_script_tables(text))
    text = _REMOTE_LINK_RE.sub("", text)
    text = _REMOTE_SCRIPT_RE.sub("", text)
    text = _INLINE_SCRIPT_RE.sub("", text)  # every inline script needs the jQuery just dropped
    text = _REMOTE_IMG_RE.sub(lambda m: _local_image(m, root, images), text)
    for table_id, body in tables.items():
        text = re.sub(rf"(<table\b[^>]*\bid=\"{re.escape(table_id)}\"[^>]*>)\s*(</table>)",
                      lambda m, body=body: m.group(1) + body + m.group(2), text)
    text = re.sub(r"<head\b[^>]*>", lambda m: m.group(0) + MARKER, text, count=1, flags=re.I)
    return text.replace("</head>", f"<style>{css}</style></head>", 1)


def _local_image(match: re.Match[str], root: str, images: Path) -> str:
    """The GE copy of a remote image when the site has one, else no image at all."""
    name = match.group(2).split("?", 1)[0].rsplit("/", 1)[-1]
    if name and (images / name).is_file():
        return f'<img{match.group(1)}src="{root}static/images/{name}"{match.group(3)}>'
    return ""


def _script_tables(text: str) -> list[tuple[str, str]]:
    """The header and rows each ``bootstrapTable`` call would have put into its table."""
    found = []
    for script in _INLINE_SCRIPT_RE.findall(text):
        for call in _TABLE_CALL_RE.finditer(script):
            columns = _literal_after(script, "columns:", call.end())
            rows = _literal_after(script, "data:", call.end())
            if isinstance(columns, list) and isinstance(rows, list):
                found.append((call.group(1), static_table(columns, rows)))
    return found


def static_table(columns: list[dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    """``<thead>`` and ``<tbody>`` markup; a row's link goes on its first plain-text cell.

    Cells are GE's own markup already; rows with a run time are newest first, as
    the scripted table sorts them.
    """
    if any(_SORT_KEY in row for row in rows):
        rows = sorted(rows, key=lambda r: r.get(_SORT_KEY) or 0, reverse=True)
    fields = [c["field"] for c in columns]
    grid = [[str(row.get(f, "")) for f in fields] for row in rows]
    extra = any(row.get(_ROW_LINK) and all("<" in c for c in cells)
                for row, cells in zip(rows, grid, strict=True))
    body = []
    for row, cells in zip(rows, grid, strict=True):
        cells = cells + [""] * extra
        link = row.get(_ROW_LINK)
        if link:
            at = next(i for i, c in enumerate(cells) if "<" not in c)
            label = cells[at].strip() or "open"
            cells[at] = f'<a href="{html.escape(str(link))}">{label}</a>'
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{html.escape(str(c.get('title', c['field'])))}</th>" for c in columns)
    head += "<th></th>" if extra else ""
    return f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"


def _literal_after(script: str, label: str, start: int) -> Any:
    """The Python-style literal (list or dict) written after ``label``, or None."""
    at = script.find(label, start)
    if at < 0:
        return None
    begin = script.find("[", at)
    end = _closing_bracket(script, begin)
    if begin < 0 or end < 0:
        return None
    try:
        return ast.literal_eval(script[begin:end + 1])
    except (ValueError, SyntaxError):
        return None


def _closing_bracket(text: str, begin: int) -> int:
    """Index of the bracket closing the one at ``begin``, skipping quoted strings."""
    depth = 0
    quote = ""
    i = begin
    while 0 <= i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1
