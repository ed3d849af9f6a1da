"""`fupin report`: one static HTML page about what the warehouse holds and how clean it is.

The page is meant to be mailed, archived or opened on a machine with no network,
so it is a single self-contained file: styles inline, charts as inline SVG drawn by
``fupin.report_charts``, no scripts, fonts or images, and a Content-Security-Policy
that forbids loading anything even if a later edit slips a link in.

Reading and rendering are separate: ``read_report_data`` runs a handful of small
queries against the views of ``warehouse/schema.sql`` through a read-only
connection (which waits while a run is loading), and ``render_report`` is a pure
function of the data, so it can be tested without a warehouse.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb

from fupin.report_charts import (
    FONT_STACK,
    PALETTE,
    esc,
    full_number,
    svg_bar_chart,
    svg_line_chart,
)
from fupin.tasks.data_docs import data_docs_dir
from fupin.tasks.extract import taxonomy
from fupin.tasks.warehouse import connect

# The headline indicators of poverty alleviation, charted first when they have data.
MAIN_INDICATORS = (
    "poor_population", "poor_households", "poverty_incidence",
    "fiscal_poverty_fund", "lifted_population",
)
MAX_INDICATOR_SECTIONS = 8   # more indicators get one summary row each, not charts
MAX_PANELS = 6               # small-multiple panels per indicator
MAX_BARS = 15                # bars per chart; the rest is summarised in a note
MAX_TABLE_ROWS = 40         # rows per table; a note gives the query for the rest
COVERAGE_SQL = "SELECT * FROM v_source_coverage ORDER BY facts DESC, documents DESC, source_site"

RUN_COUNTS = (
    ("pages_in", "输入页面", "pages in"),
    ("pages_unchanged", "未变化", "unchanged"),
    ("documents_loaded", "入库文档", "loaded"),
    ("pages_rejected", "拒收页面", "rejected"),
    ("facts_candidate", "候选事实", "facts candidate"),
    ("facts_loaded", "入库事实", "facts loaded"),
    ("facts_quarantined", "隔离事实", "facts quarantined"),
)
# What the discovery sources (sitemap, feed, site) of the last run found: URLs, counted
# apart from pages (only the new and due articles were fetched, as pages in).
DISCOVERY_COUNTS = (
    ("urls_discovered", "发现文章", "articles found"),
    ("urls_new", "新文章", "new"),
    ("urls_due", "到期复查", "due"),
    ("urls_waiting", "等待", "waiting"),
    ("urls_robots_skipped", "robots 跳过", "skipped by robots.txt"),
    ("urls_offsite", "站外", "off-site"),
    ("listing_pages", "列表页", "listings, sitemaps, feeds"),
)
FRONTIER_SQL = """
SELECT source, kind, count(*) AS urls,
       count(*) FILTER (WHERE kind = 'article' AND last_fetched IS NULL) AS never_fetched,
       count(*) FILTER (WHERE kind = 'article' AND next_check <= now()) AS due,
       min(next_check) FILTER (WHERE kind = 'article' AND next_check > now()) AS next_check
FROM frontier GROUP BY source, kind ORDER BY source, kind
"""

Row = dict[str, Any]


@dataclass
class ReportData:
    """Everything the page shows, read in one go so rendering needs no connection."""

    db: Path
    generated_at: datetime
    exists: bool = False
    last_run: Row | None = None
    totals: Row = field(default_factory=dict)
    indicators: dict[str, Row] = field(default_factory=dict)
    best: list[Row] = field(default_factory=list)
    coverage: list[Row] = field(default_factory=list)
    dq_run_id: str | None = None
    dq: list[Row] = field(default_factory=list)
    quarantine: list[Row] = field(default_factory=list)
    rejected: list[Row] = field(default_factory=list)
    frontier: list[Row] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    data_docs: Path | None = None  # the warehouse's Data Docs index, once a run built it

    @property
    def has_data(self) -> bool:
        return bool(self.last_run) or bool(self.totals.get("documents"))


def _query(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = (),
    *, what: str, missing: list[str],
) -> list[Row]:
    """Rows as dicts; a relation or column the file does not have yet yields no rows.

    A warehouse written by an older fupin may lack a newer view; the report then
    says that section is unavailable instead of failing as a whole.
    """
    try:
        cur = con.execute(sql, list(params))
    except (duckdb.CatalogException, duckdb.BinderException) as exc:
        missing.append(f"{what}: {str(exc).splitlines()[0]}")
        return []
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def read_report_data(db: Path, now: datetime | None = None) -> ReportData:
    """Run the report's queries against ``db`` through a read-only connection."""
    data = ReportData(db=Path(db), generated_at=now or datetime.now().astimezone())
    if not data.db.exists():
        return data
    data.exists = True
    docs = data_docs_dir(data.db) / "index.html"
    data.data_docs = docs if docs.is_file() else None
    miss = data.unavailable
    with connect(data.db, read_only=True) as con:
        runs = _query(con, "SELECT * FROM etl_runs ORDER BY started_at DESC LIMIT 1",
                      what="etl_runs", missing=miss)
        data.last_run = runs[0] if runs else None
        last_id = data.last_run["run_id"] if data.last_run else ""
        totals = _query(con, """
            SELECT (SELECT count(*) FROM dim_document) AS documents,
                   (SELECT count(*) FROM fact_indicator) AS facts,
                   (SELECT count(DISTINCT region_code) FROM fact_indicator) AS regions,
                   (SELECT count(DISTINCT indicator) FROM fact_indicator) AS indicators,
                   (SELECT count(DISTINCT source_site) FROM dim_document) AS sources,
                   (SELECT count(*) FROM etl_runs) AS runs
            """, what="totals", missing=miss)
        data.totals = totals[0] if totals else {}
        if not data.has_data:
            return data
        data.indicators = {
            r["code"]: r for r in _query(
                con, "SELECT code, name_zh, name_en, unit FROM dim_indicator",
                what="dim_indicator", missing=miss)
        }
        data.best = _query(con, """
            SELECT region_code, region, province, indicator, indicator_name_zh, year, value,
                   unit, qualifier, title, published_date, n_sources, n_statements,
                   sources_disagree, min_value, max_value
            FROM v_indicator_best
            ORDER BY indicator, region_code, year
            """, what="v_indicator_best", missing=miss)
        data.coverage = _query(con, COVERAGE_SQL, what="v_source_coverage", missing=miss)
        latest_dq = _query(con, """
            SELECT run_id FROM dq_results GROUP BY run_id ORDER BY max(recorded_at) DESC LIMIT 1
            """, what="dq_results", missing=miss)
        if latest_dq:
            data.dq_run_id = latest_dq[0]["run_id"]
            data.dq = _query(con, """
                SELECT suite, expectation, success, element_count, unexpected_count
                FROM dq_results WHERE run_id = ?
                ORDER BY success, unexpected_count DESC NULLS LAST, suite, expectation
                """, [data.dq_run_id], what="dq_results", missing=miss)
        data.quarantine = _query(con, """
            SELECT expectation, count(*) AS facts,
                   count(*) FILTER (WHERE run_id = ?) AS last_run,
                   count(DISTINCT doc_key) AS documents,
                   arg_max(evidence, recorded_at) AS example
            FROM quarantined_facts GROUP BY expectation
            ORDER BY facts DESC, expectation
            """, [last_id], what="quarantined_facts", missing=miss)
        data.rejected = _query(con, """
            SELECT stage, reason, count(*) AS pages,
                   count(*) FILTER (WHERE run_id = ?) AS last_run,
                   arg_max(coalesce(detail, location), recorded_at) AS example
            FROM rejected_pages GROUP BY stage, reason
            ORDER BY pages DESC, stage, reason
            """, [last_id], what="rejected_pages", missing=miss)
        data.frontier = _query(con, FRONTIER_SQL, what="frontier", missing=miss)
    return data


# ---------------------------------------------------------------------------- rendering

CSS = """
* { box-sizing: border-box; }
body { font-family: __FONT__; margin: 0; color: #222; background: #fff; line-height: 1.45; }
main { max-width: 1240px; margin: 0 auto; padding: 16px 20px 40px; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #0072B2; }
h3 { font-size: 16px; margin: 22px 0 6px; }
.en { color: #666; font-weight: normal; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0;
        font-size: 13px; }
.meta dt { color: #666; } .meta dd { margin: 0; word-break: break-all; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0; }
.card { border: 1px solid #d6d6d6; border-radius: 6px; padding: 6px 12px; min-width: 118px; }
.card .n { font-size: 22px; font-weight: bold; } .card .l { font-size: 12px; color: #555; }
.card.warn { border-color: #D55E00; } .card.warn .n { color: #D55E00; }
.note { color: #555; font-size: 13px; margin: 4px 0 8px; }
.empty { font-size: 16px; padding: 24px; border: 1px dashed #999; border-radius: 8px; }
.row { display: flex; flex-wrap: wrap; gap: 16px 28px; align-items: flex-start; }
.multiples { flex: 1 1 596px; } .multiples h4 { margin: 0 0 4px; }
.panels { display: grid; grid-template-columns: repeat(auto-fill, 292px); gap: 8px 12px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 10px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 8px; text-align: left;
         vertical-align: top; }
th { background: #f3f6f9; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.ex { max-width: 460px; color: #444; }
.ok { color: #009E73; } .fail { color: #D55E00; font-weight: bold; }
nav { font-size: 13px; margin: 6px 0; } nav a { margin-right: 12px; color: #0072B2; }
code { font-size: 12px; background: #f3f3f3; padding: 0 3px; }
summary { cursor: pointer; color: #0072B2; font-size: 13px; }
footer { margin-top: 36px; color: #777; font-size: 12px; }
""".replace("__FONT__", FONT_STACK)


def _fmt_time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return "–" if value is None else str(value)


def _unit_label(unit: str | None) -> str:
    """How the report writes an indicator unit (``lexicon.unit_labels``; else its code)."""
    return taxonomy.load().lexicon["unit_labels"].get(unit or "", unit or "")


@dataclass(frozen=True)
class _Raw:
    """Already-escaped markup for a table cell."""

    html: str


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Iterable[int] = (),
           css: str = "") -> str:
    """A plain table; ``numeric`` column indexes are right-aligned and formatted."""
    nums = set(numeric)
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if isinstance(cell, _Raw):
                cells.append(f"<td>{cell.html}</td>")
            elif i in nums:
                cells.append(f'<td class="num">{esc(full_number(cell))}</td>')
            else:
                klass = ' class="ex"' if css == "ex" and i == len(row) - 1 else ""
                cells.append(f"<td{klass}>{esc(_fmt_time(cell))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _more_note(shown: int, total: int, what: str, sql: str | None = None) -> str:
    """How much a capped list leaves out and, for a table, the query that lists it all."""
    if total <= shown:
        return ""
    rest = (f' 其余见 / the rest: <code>fupin sql "{esc(sql)}"</code>' if sql else "")
    return (f'<p class="note">显示前 {full_number(shown)} 项，共 {full_number(total)} 项 / '
            f"showing the first {full_number(shown)} of {full_number(total)} {esc(what)}."
            f"{rest}</p>")


def _docs_link(data: ReportData, out_dir: Path | None) -> str:
    """A link to the warehouse's Data Docs, relative to the report when both are local.

    A link is followed only when clicked, so the page still loads nothing.
    """
    if data.data_docs is None:
        return "还没有 / none yet (built by a run that validates new pages)"
    try:
        href = quote(Path(os.path.relpath(data.data_docs, out_dir)).as_posix()) if out_dir \
            else data.data_docs.as_uri()
    except ValueError:  # another drive: no relative path
        href = data.data_docs.as_uri()
    return f'<a id="data-docs" href="{esc(href)}">{esc(str(data.data_docs))}</a>'


def _header(data: ReportData, out_dir: Path | None) -> str:
    run = data.last_run
    meta = [
        ("数据仓库 warehouse", str(data.db)),
        ("生成时间 generated", _fmt_time(data.generated_at)),
    ]
    if run:
        sources = run.get("sources") or []
        meta += [
            ("最近运行 last run", f"{run.get('run_id')} · {run.get('status')}"),
            ("开始 started", _fmt_time(run.get("started_at"))),
            ("耗时 seconds", f"{run['seconds']:.1f}" if run.get("seconds") else "–"),
            ("数据源 sources", ", ".join(str(s) for s in sources[:5]) + (
                f" … (+{len(sources) - 5})" if len(sources) > 5 else "") or "–"),
        ]
    parts = ['<header><h1>扶贫数据仓库报告 <span class="en">fupin warehouse report</span></h1>',
             '<dl class="meta">']
    parts += [f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in meta]
    if data.exists:
        parts.append(f"<dt>数据质量文档 Data Docs</dt><dd>{_docs_link(data, out_dir)}</dd>")
    parts.append("</dl>")
    if run:
        parts.append('<h3>最近一次运行 <span class="en">last run counts</span></h3>'
                     '<div class="cards" id="run-counts">')
        for key, zh, en in RUN_COUNTS:
            value = run.get(key)
            warn = " warn" if key in ("pages_rejected", "facts_quarantined") and value else ""
            parts.append(_card(key, value, zh, en, warn))
        parts.append("</div>")
        if run.get("urls_discovered"):
            parts.append('<h3>发现 <span class="en">discovery: URLs the sitemap, feed and '
                         'site sources found (only new and due articles are pages in)</span>'
                         '</h3><div class="cards" id="discovery-counts">')
            parts += [_card(key, run.get(key), zh, en, "") for key, zh, en in DISCOVERY_COUNTS]
            parts.append("</div>")
    if data.totals and data.has_data:
        t = data.totals
        parts.append(
            f'<p class="note">仓库合计 / warehouse totals: {full_number(t.get("documents"))} '
            f'documents · {full_number(t.get("facts"))} facts · {full_number(t.get("regions"))} '
            f'regions · {full_number(t.get("indicators"))} indicators · '
            f'{full_number(t.get("sources"))} sources · {full_number(t.get("runs"))} runs</p>'
        )
    parts.append("</header>")
    return "".join(parts)


def _card(key: str, value: Any, zh: str, en: str, warn: str) -> str:
    return (f'<div class="card{warn}" data-count="{esc(key)}"><div class="n">'
            f'{esc(full_number(value))}</div><div class="l">{esc(zh)} {esc(en)}</div></div>')


def _frontier(data: ReportData) -> str:
    """The frontier by source and kind: what discovery found and what waits."""
    parts = ['<section id="frontier"><h2>抓取前沿 <span class="en">frontier: URLs the '
             "discovery sources found</span></h2>"]
    rows = data.frontier[:MAX_TABLE_ROWS]
    parts.append(_table(
        ("来源 source", "类型 kind", "网址 URLs", "未抓取 never fetched", "到期 due",
         "下次检查 next check"),
        [(r["source"], r["kind"], r["urls"], r["never_fetched"], r["due"], r.get("next_check"))
         for r in rows], numeric=(2, 3, 4)))
    parts.append(_more_note(len(rows), len(data.frontier), "rows", FRONTIER_SQL))
    parts.append("</section>")
    return "".join(parts)


def _choose_indicators(best: list[Row]) -> tuple[list[str], list[str]]:
    """Main indicators with data first, then the best-covered others; the rest is listed."""
    counts: dict[str, int] = defaultdict(int)
    for row in best:
        counts[row["indicator"]] += 1
    main = [code for code in MAIN_INDICATORS if counts.get(code)]
    others = sorted((c for c in counts if c not in MAIN_INDICATORS),
                    key=lambda c: (-counts[c], c))
    ordered = main + others
    return ordered[:MAX_INDICATOR_SECTIONS], ordered[MAX_INDICATOR_SECTIONS:]


def _region_labels(rows: list[Row]) -> dict[str, str]:
    """Region names, qualified by province where two codes share a name (e.g. 城关区)."""
    names: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        names[r["region"]].add(r["region_code"])
    labels = {}
    for r in rows:
        name = r["region"] or r["region_code"]
        if len(names[r["region"]]) > 1 and r.get("province") and r["province"] != name:
            name = f"{name}（{r['province']}）"
        labels[r["region_code"]] = name
    return labels


def _indicator_section(code: str, rows: list[Row], info: Row | None) -> str:
    name_zh = (info or {}).get("name_zh") or rows[0].get("indicator_name_zh") or code
    name_en = (info or {}).get("name_en") or ""
    unit = _unit_label((info or {}).get("unit") or rows[0].get("unit"))
    labels = _region_labels(rows)
    by_region: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_region[r["region_code"]].append(r)
    years = [r["year"] for r in rows]
    disagree = sum(1 for r in rows if r.get("sources_disagree"))
    parts = [
        f'<section class="indicator" id="ind-{esc(code)}" data-indicator="{esc(code)}">',
        f'<h3>{esc(name_zh)} <span class="en">{esc(name_en)} · {esc(code)} · '
        f"{esc(unit)}</span></h3>",
        f'<p class="note">{len(by_region)} 个地区 regions · {min(years)}–{max(years)} · '
        f"{len(rows)} 个地区年份 region-years"
        + (f" · {disagree} 处来源不一致 disagreeing" if disagree else "") + "</p>",
    ]
    latest = sorted((max(rs, key=lambda r: r["year"]) for rs in by_region.values()),
                    key=lambda r: (-r["value"], labels[r["region_code"]]))
    shown = latest[:MAX_BARS]
    bars = svg_bar_chart(
        [(f"{labels[r['region_code']]} {r['year']}", r["value"]) for r in shown],
        title=f"{name_zh}：各地区最新年份 latest year by region",
        value_label=f"{name_zh}（{unit}）",
        tooltips=[f"{labels[r['region_code']]} {r['year']}: {full_number(r['value'])} {unit}"
                  f" — {r.get('title') or ''}" for r in shown],
        width=560,
    )
    multi = sorted((rs for rs in by_region.values() if len(rs) > 1),
                   key=lambda rs: (-len(rs), -max(r["value"] for r in rs)))
    parts.append(f'<div class="row"><div>{bars}'
                 f"{_more_note(len(shown), len(latest), 'regions')}</div>")
    if multi:
        parts.append(f'<div class="multiples"><h4 class="note">按年份 value by year（{esc(unit)}，'
                     "每个小图纵轴不同 each panel has its own scale）</h4>"
                     '<div class="panels">')
        for rs in multi[:MAX_PANELS]:
            label = labels[rs[0]["region_code"]]
            parts.append(svg_line_chart(
                {label: [(r["year"], r["value"]) for r in rs]},
                title=label, y_label=f"{name_zh}（{unit}）", width=292, height=200,
            ))
        parts.append("</div>")
        parts.append(_more_note(min(len(multi), MAX_PANELS), len(multi),
                                "regions with several years"))
        parts.append("</div>")
    else:
        parts.append('<p class="note">每个地区目前只有一个年份，见左图。<br>'
                     "Every region has a single year so far; see the bar chart.</p>")
    parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


def _indicators(data: ReportData) -> str:
    parts = ['<section id="indicators"><h2>主要指标 <span class="en">main indicators by '
             "region and year</span></h2>"]
    if not data.best:
        parts.append('<p class="empty">还没有可按地区和年份归属的指标值。<br>'
                     "No facts with a region and a year yet.</p></section>")
        return "".join(parts)
    parts.append('<p class="note">每个地区、指标、年份取一个值（<code>v_indicator_best</code>：'
                 "最新发布、精确数字优先）。One value per region, indicator and year: the most "
                 "recent statement, exact figures first.</p>")
    grouped: dict[str, list[Row]] = defaultdict(list)
    for r in data.best:
        grouped[r["indicator"]].append(r)
    charted, rest = _choose_indicators(data.best)
    for code in charted:
        parts.append(_indicator_section(code, grouped[code], data.indicators.get(code)))
    if rest:
        parts.append('<h3>其他指标 <span class="en">other indicators with data</span></h3>')
        rows = []
        for code in rest:
            rs = grouped[code]
            info = data.indicators.get(code) or {}
            ys = [r["year"] for r in rs]
            rows.append((code, info.get("name_zh") or rs[0].get("indicator_name_zh") or "",
                         len({r["region_code"] for r in rs}), f"{min(ys)}–{max(ys)}", len(rs)))
        parts.append(_table(("code", "指标 indicator", "地区 regions", "年份 years",
                             "地区年份 region-years"), rows, numeric=(2, 4)))
    parts.append("</section>")
    return "".join(parts)


def _disagreements(data: ReportData) -> str:
    rows = [r for r in data.best if r.get("sources_disagree")]
    parts = ['<section id="disagreements"><h2>来源不一致的数字 <span class="en">figures where '
             "sources disagree</span></h2>",
             '<p class="note">同一地区、指标、年份的陈述相差 0.5% 以上。Statements of the same '
             "region, indicator and year more than 0.5 % apart; the chosen value is the most "
             "recent.</p>"]
    if not rows:
        parts.append('<p class="ok">没有不一致的数字 / no disagreements.</p></section>')
        return "".join(parts)
    rows.sort(key=lambda r: (-(r.get("n_sources") or 0),
                             -((r.get("max_value") or 0) / (r.get("min_value") or 1)),
                             r["region"] or "", r["indicator"], r["year"]))
    labels = _region_labels(data.best)
    table_rows = [
        (labels.get(r["region_code"], r["region"]),
         r.get("indicator_name_zh") or r["indicator"], r["year"], r.get("n_sources"),
         r.get("n_statements"), r.get("min_value"), r.get("max_value"), r["value"],
         _unit_label(r.get("unit")), r.get("title") or "")
        for r in rows[:MAX_TABLE_ROWS]
    ]
    parts.append(_table(
        ("地区 region", "指标 indicator", "年份 year", "文档 documents", "陈述 statements",
         "最小 min", "最大 max", "采用值 chosen", "单位 unit", "采用来源 chosen source"),
        table_rows, numeric=(3, 4, 5, 6, 7), css="ex"))
    parts.append(_more_note(len(table_rows), len(rows), "disagreements",
                            "SELECT * FROM v_indicator_best WHERE sources_disagree"))
    parts.append("</section>")
    return "".join(parts)


def _coverage(data: ReportData) -> str:
    parts = ['<section id="coverage"><h2>来源覆盖 <span class="en">coverage by source</span>'
             "</h2>"]
    if not data.coverage:
        parts.append('<p class="empty">没有文档 / no documents.</p></section>')
        return "".join(parts)
    shown = data.coverage[:MAX_BARS * 2]
    parts.append(svg_bar_chart(
        [(r["source_site"], r["facts"]) for r in shown],
        title="各来源入库事实数 facts loaded per source", value_label="事实数 facts",
        tooltips=[f"{r['source_site']}: {r['facts']} facts from {r['documents']} documents"
                  for r in shown],
        width=760, integer=True,
    ))
    parts.append(_more_note(len(shown), len(data.coverage), "sources"))
    rows = data.coverage[:MAX_TABLE_ROWS]
    parts.append(_table(
        ("来源 source", "文档 documents", "事实 facts", "指标 indicators", "地区 regions",
         "最早发布 first published", "最近发布 last published", "隔离事实 quarantined"),
        [(r["source_site"], r["documents"], r["facts"], r["indicators"], r["regions"],
          r.get("first_published"), r.get("last_published"), r.get("facts_quarantined"))
         for r in rows],
        numeric=(1, 2, 3, 4, 7)))
    parts.append(_more_note(len(rows), len(data.coverage), "sources", COVERAGE_SQL))
    parts.append("</section>")
    return "".join(parts)


def _data_quality(data: ReportData) -> str:
    parts = ['<section id="quality"><h2>数据质量 <span class="en">data quality</span></h2>',
             '<h3>期望检查 <span class="en">expectations of the latest checked run</span></h3>']
    if not data.dq:
        parts.append('<p class="note">没有期望检查结果 / no expectation results recorded.</p>')
    else:
        last_id = data.last_run["run_id"] if data.last_run else None
        note = "" if data.dq_run_id == last_id else (
            f"（最近一次运行 {last_id} 没有新页面需要检查 / the last run checked no new pages）")
        failed = [r for r in data.dq if not r["success"]]
        suites: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in data.dq:
            suites[r["suite"]][0] += 1
            suites[r["suite"]][1] += 0 if r["success"] else 1
        summary = " · ".join(f"{esc(s)}: {n - f}/{n} passed" for s, (n, f) in suites.items())
        parts.append(f'<p class="note">run <code>{esc(data.dq_run_id)}</code>{esc(note)} — '
                     f"{summary}</p>")
        if failed:
            parts.append(svg_bar_chart(
                [(f"{r['suite']}: {r['expectation']}", r["unexpected_count"] or 0)
                 for r in failed[:MAX_BARS]],
                title="未通过的期望 failed expectations", value_label="未通过行数 rows failing",
                tooltips=[f"{r['suite']}: {r['expectation']} — {r['unexpected_count']} of "
                          f"{r['element_count']} rows failed" for r in failed[:MAX_BARS]],
                color=PALETTE[1], width=760, integer=True))
            parts.append(_dq_table(failed))
        else:
            parts.append(f'<p class="ok">✓ 全部 {len(data.dq)} 项期望通过 / all '
                         f"{len(data.dq)} expectations passed.</p>")
        parts.append(f"<details><summary>全部期望 all {len(data.dq)} expectations</summary>"
                     f"{_dq_table(data.dq)}</details>")
    parts.append('<h3>隔离原因 <span class="en">top quarantine reasons</span></h3>')
    if not data.quarantine:
        parts.append('<p class="ok">没有隔离的事实 / no quarantined facts.</p>')
    else:
        top = data.quarantine[:MAX_BARS]
        parts.append(svg_bar_chart(
            [(r["expectation"], r["facts"]) for r in top],
            title="隔离事实（按首个未通过的期望）quarantined facts by first failing expectation",
            value_label="事实数 facts (all runs)", color=PALETTE[1], width=760, integer=True))
        parts.append(_table(
            ("期望 expectation", "事实 facts", "最近运行 last run", "文档 documents",
             "示例证据 example evidence"),
            [(r["expectation"], r["facts"], r["last_run"], r["documents"], r.get("example"))
             for r in top], numeric=(1, 2, 3), css="ex"))
        parts.append(_more_note(len(top), len(data.quarantine), "reasons",
                                "SELECT expectation, count(*) FROM quarantined_facts "
                                "GROUP BY 1 ORDER BY 2 DESC"))
    parts.append('<h3>拒收页面 <span class="en">rejected pages by reason</span></h3>')
    if not data.rejected:
        parts.append('<p class="ok">没有拒收的页面 / no rejected pages.</p>')
    else:
        top = data.rejected[:MAX_BARS]
        parts.append(svg_bar_chart(
            [(f"{r['stage']}: {r['reason']}", r["pages"]) for r in top],
            title="拒收页面（阶段：原因）rejected pages by stage and reason",
            value_label="页面数 pages (all runs)", color=PALETTE[3], width=760, integer=True))
        parts.append(_table(
            ("阶段 stage", "原因 reason", "页面 pages", "最近运行 last run", "示例 example"),
            [(r["stage"], r["reason"], r["pages"], r["last_run"], r.get("example"))
             for r in top], numeric=(2, 3), css="ex"))
        parts.append(_more_note(len(top), len(data.rejected), "reasons",
                                "SELECT stage, reason, count(*) FROM rejected_pages "
                                "GROUP BY 1, 2 ORDER BY 3 DESC"))
    parts.append("</section>")
    return "".join(parts)


def _dq_table(rows: list[Row]) -> str:
    return _table(
        ("套件 suite", "期望 expectation", "结果 success", "检查行 checked", "未通过 unexpected"),
        [(r["suite"], r["expectation"],
          _Raw('<span class="ok">✓ 通过</span>' if r["success"]
               else '<span class="fail">✗ 未通过</span>'),
          r.get("element_count"), r.get("unexpected_count")) for r in rows],
        numeric=(3, 4))


def _empty_body(data: ReportData) -> str:
    where = "不存在 does not exist yet" if not data.exists else "还没有数据 has no data yet"
    return (
        f'<section id="no-data"><p class="empty">数据仓库{esc(where)}。<br>'
        "Load some pages with <code>fupin run SOURCE…</code>, then run "
        "<code>fupin report</code> again.</p></section>"
    )


def render_report(data: ReportData, out_dir: Path | None = None) -> str:
    """The whole page as one HTML string (pure: depends only on its arguments).

    ``out_dir`` is where the page will be written, so its links to local files are
    relative and survive moving the warehouse folder as a whole.
    """
    body = [_header(data, out_dir)]
    if data.has_data:
        body.append('<nav><a href="#indicators">主要指标 indicators</a>'
                    '<a href="#disagreements">来源不一致 disagreements</a>'
                    '<a href="#coverage">来源覆盖 coverage</a>'
                    '<a href="#quality">数据质量 data quality</a>'
                    + ('<a href="#frontier">抓取前沿 frontier</a>' if data.frontier else "")
                    + "</nav>")
        body += [_indicators(data), _disagreements(data), _coverage(data), _data_quality(data)]
        if data.frontier:
            body.append(_frontier(data))
    else:
        body.append(_empty_body(data))
    if data.unavailable:
        items = "".join(f"<li>{esc(m)}</li>" for m in data.unavailable)
        body.append(f'<section id="unavailable"><h2>不可用 <span class="en">unavailable '
                    f"sections</span></h2><ul class=\"note\">{items}</ul></section>")
    body.append("<footer>fupin report · 数字由新闻页面自动抽取，出处见 <code>v_facts</code> / "
                "figures are extracted from news pages; each keeps its evidence in "
                "<code>v_facts</code>.</footer>")
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>fupin report · {esc(data.db.name)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def build_report(db: Path, out: Path) -> Path:
    """Write the report for warehouse ``db`` to ``out`` and return ``out``.

    The file is written next to ``out`` and renamed into place, so a browser or a
    web server never sees half a report.
    """
    out = Path(out)
    html = render_report(read_report_data(Path(db)), out.resolve().parent)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)  # left only when the write or the rename failed
    return out
