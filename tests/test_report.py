"""The static HTML report: SVG helpers, the empty warehouse, and the page in a real browser.

The warehouse here is a small DuckDB file built with the project's own schema and a
handful of hand-written rows, so the tests do not depend on the extractor. The
browser test renders the page in headless Chromium with every host name unresolvable
and checks what a reader would see: the charts in the DOM and a non-blank screenshot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fupin.report import MAX_TABLE_ROWS, build_report, read_report_data, render_report
from fupin.report_charts import compact_number, nice_ticks, svg_bar_chart, svg_line_chart
from fupin.tasks.data_docs import data_docs_dir
from fupin.tasks.warehouse import Dimensions, connect, ensure_schema, load_dimensions

RUN_1 = "20240301T010000Z-aaaaaa"
RUN_2 = "20240302T010000Z-bbbbbb"

INDICATORS = [
    {"code": "poor_households", "name_zh": "贫困户数", "name_en": "Registered poor households",
     "unit": "household", "measure": "stock", "min_value": 0, "max_value": 1e8},
    {"code": "poor_population", "name_zh": "贫困人口", "name_en": "Registered poor population",
     "unit": "person", "measure": "stock", "min_value": 0, "max_value": 1e9},
    {"code": "poverty_incidence", "name_zh": "贫困发生率", "name_en": "Poverty incidence",
     "unit": "percent", "measure": "rate", "min_value": 0, "max_value": 100},
    {"code": "fiscal_poverty_fund", "name_zh": "财政专项扶贫资金",
     "name_en": "Fiscal poverty-alleviation funds", "unit": "yuan", "measure": "flow",
     "min_value": 0, "max_value": 1e13},
]
REGIONS = [
    {"code": "620000000000", "name": "甘肃省", "level": "province"},
    {"code": "620800000000", "name": "平凉市", "level": "prefecture", "parent_code": "620000000000",
     "province": "甘肃省"},
    {"code": "621122000000", "name": "陇西县", "level": "county", "parent_code": "621100000000",
     "province": "甘肃省", "prefecture": "定西市"},
    {"code": "640422000000", "name": "西吉县", "level": "county", "parent_code": "640400000000",
     "province": "宁夏回族自治区", "prefecture": "固原市"},
]
REGION = {r["name"]: r for r in REGIONS}

# doc_key, source_site, published, title
DOCUMENTS = [
    ("pl-2019", "陇原示例新闻网", "2019-12-28", "平凉市脱贫攻坚取得决定性进展"),
    ("pl-2017", "陇原示例新闻网", "2017-06-02", "平凉市精准扶贫工作综述"),
    ("lx-2019", "陇原示例新闻网", "2019-11-05", "陇西县贫困县退出"),
    ("xj-2016", "宁夏示例日报", "2016-08-19", "西吉县扶贫开发"),
    # A source whose name would break the page if it were not escaped.
    ("odd-2018", "A&B <日报>", "2018-03-01", "平凉市 <b>专题</b>"),
]

# doc_key, indicator, region, year, value, unit
FACTS = [
    ("pl-2017", "poor_households", "平凉市", 2014, 101000, "household"),
    ("odd-2018", "poor_households", "平凉市", 2014, 98000, "household"),  # disagrees
    ("pl-2017", "poor_households", "平凉市", 2016, 61200, "household"),
    ("pl-2019", "poor_households", "平凉市", 2018, 23400, "household"),
    ("lx-2019", "poor_households", "陇西县", 2014, 35600, "household"),
    ("lx-2019", "poor_households", "陇西县", 2019, 1520, "household"),
    ("pl-2017", "poor_population", "平凉市", 2014, 406000, "person"),
    ("pl-2019", "poor_population", "平凉市", 2019, 9900, "person"),
    ("xj-2016", "poor_population", "西吉县", 2015, 92000, "person"),
    ("pl-2017", "poverty_incidence", "平凉市", 2014, 20.87, "percent"),
    ("pl-2019", "poverty_incidence", "平凉市", 2019, 0.24, "percent"),
    ("lx-2019", "poverty_incidence", "陇西县", 2014, 33.8, "percent"),
    ("lx-2019", "poverty_incidence", "陇西县", 2019, 1.2, "percent"),
    ("xj-2016", "fiscal_poverty_fund", "西吉县", 2016, 310000000, "yuan"),
    ("pl-2019", "fiscal_poverty_fund", "平凉市", 2019, 7130000000, "yuan"),
]

DQ = [  # suite, expectation, success, element_count, unexpected_count
    ("documents", "body_min_length", True, 5, 0),
    ("documents", "body_mostly_chinese", True, 5, 0),
    ("facts", "value_not_above_indicator_max", False, 4, 1),
    ("facts", "year_not_after_publication", False, 16, 2),
    ("facts", "region_resolved", True, 16, 0),
]

QUARANTINE = [  # doc_key, indicator, value, expectation, evidence
    ("pl-2019", "poverty_incidence", 208.7, "value_not_above_indicator_max",
     "贫困发生率208.7%"),
    ("lx-2019", "poor_households", 1200, "year_not_after_publication", "2021年贫困户1200户"),
    ("lx-2019", "poor_population", 4800, "year_not_after_publication", "2021年贫困人口4800人"),
]

REJECTED = [  # location, stage, reason, detail
    ("pages/empty.html", "clean", "body_too_short", "正文只有 12 个字"),
    ("pages/broken.html", "fetch", "decode_error", "cannot decode as GBK or UTF-8"),
    ("pages/menu.html", "clean", "body_too_short", "正文只有 40 个字"),
]


def make_warehouse(db: Path) -> Path:
    """A small, realistic warehouse: two runs, a disagreement, failures of every kind."""
    now = datetime(2024, 3, 2, 1, 0, tzinfo=UTC)
    with connect(db) as con:
        ensure_schema(con)
        load_dimensions(con, Dimensions(lambda: INDICATORS, lambda: REGIONS))
        for key, site, published, title in DOCUMENTS:
            con.execute(
                "INSERT INTO dim_document (doc_key, location, title, published_date, source_site,"
                " content_sha256, body, body_chars, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [key, f"pages/{key}.html", title, published, site, f"sha-{key}", title,
                 len(title), RUN_2],
            )
        for i, (key, indicator, region, year, value, unit) in enumerate(FACTS):
            r = REGION[region]
            evidence = f"{region}{year}年{indicator}{value}"
            con.execute(
                "INSERT INTO fact_indicator (fact_id, doc_key, ordinal, indicator, region_code,"
                " region, province, year, time_kind, value, unit, qualifier, evidence, sentence,"
                " char_start, char_end, rule, confidence, run_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'point', ?, ?, 'exact', ?, ?, 0, ?, 'cue', 0.9,"
                " ?)",
                [f"{key}-{i}", key, i, indicator, r["code"], region, r.get("province") or region,
                 year, value, unit, evidence, evidence, len(evidence), RUN_2],
            )
        for run_id, started, counts in (
            (RUN_1, datetime(2024, 3, 1, 1, 0, tzinfo=UTC), (3, 0, 3, 0, 9, 9, 0)),
            (RUN_2, now, (6, 1, 2, 3, 10, 7, 3)),
        ):
            con.execute(
                "INSERT INTO etl_runs (run_id, started_at, finished_at, status, sources, pages_in,"
                " pages_unchanged, documents_loaded, pages_rejected, facts_candidate,"
                " facts_loaded, facts_quarantined, seconds)"
                " VALUES (?, ?, ?, 'completed', ['pages/'], ?, ?, ?, ?, ?, ?, ?, 4.2)",
                [run_id, started, started, *counts],
            )
        con.execute(
            "INSERT INTO dq_results VALUES (?, 'facts', 'value_not_null', true, 9, 0, ?)",
            [RUN_1, datetime(2024, 3, 1, 1, 0, tzinfo=UTC)],
        )
        for suite, name, ok, n, bad in DQ:
            con.execute("INSERT INTO dq_results VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [RUN_2, suite, name, ok, n, bad, now])
        for i, (key, indicator, value, expectation, evidence) in enumerate(QUARANTINE):
            con.execute(
                "INSERT INTO quarantined_facts (run_id, fact_id, doc_key, indicator, value,"
                " expectation, expectations, evidence, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, [?], ?, ?)",
                [RUN_2, f"q-{i}", key, indicator, value, expectation, expectation, evidence, now],
            )
        for location, stage, reason, detail in REJECTED:
            con.execute(
                "INSERT INTO rejected_pages (run_id, location, stage, reason, detail, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [RUN_2, location, stage, reason, detail, now],
            )
    return db


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    return build_report(make_warehouse(tmp / "fupin.duckdb"), tmp / "out" / "report.html")


class _Collector(HTMLParser):
    """Tags and attributes of a page, to check what it would load."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Collector()
    parser.feed(html)
    return parser.tags


def assert_self_contained(html: str) -> None:
    """Nothing in the page can make the browser fetch anything."""
    tags = _tags(html)
    names = {t for t, _ in tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "image", "use"}
    for tag, attrs in tags:
        if tag == "a" and attrs.get("id") == "data-docs":
            continue  # a link to a local file is followed only when clicked
        for attr in ("src", "href", "xlink:href", "action", "poster", "srcset"):
            value = attrs.get(attr)
            if value is not None:
                assert value.startswith("#"), f"<{tag} {attr}={value!r}> points outside the page"
    styles = re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.S)
    assert styles and not any("url(" in s or "@import" in s for s in styles)


# ------------------------------------------------------------------------------ SVG helpers


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert nice_ticks(0, 101000, 4) == [0, 50000, 100000, 150000]
    assert nice_ticks(0, 98000, 4) == [0, 25000, 50000, 75000, 100000]
    assert nice_ticks(0, 23.9, 4) == [0, 10, 20, 30]
    assert nice_ticks(0, 0) == [0.0, 1.0]
    assert nice_ticks(5, 5)[0] == 0 and nice_ticks(5, 5)[-1] >= 5
    assert nice_ticks(0, 2, 4, integer=True) == [0, 1, 2]


def test_compact_number_uses_chinese_magnitudes() -> None:
    assert compact_number(35600) == "3.56万"
    assert compact_number(7130000000) == "71.3亿"
    assert compact_number(20.87) == "20.9"
    assert compact_number(0) == "0"


def test_svg_bar_chart_draws_one_bar_per_item_to_scale_and_escapes_labels() -> None:
    svg = svg_bar_chart([("平凉市", 101000), ("A&B <日报>", 50500)],
                        title="贫困户数", value_label="户数 households")
    root = ET.fromstring(svg)  # well-formed: every label was escaped
    bars = root.findall("{*}g") or root.findall("g")
    assert [(b.get("data-label"), b.get("data-value")) for b in bars] == [
        ("平凉市", "101000"), ("A&B <日报>", "50500")]
    widths = [float(b.find("rect").get("width")) for b in bars]
    assert widths[0] == pytest.approx(2 * widths[1], rel=0.01)
    texts = {t.text for t in root.iter("text")}
    assert {"贫困户数", "户数 households", "10.1万"} <= texts
    assert "<日报>" not in svg


def test_svg_line_chart_has_a_point_per_year_and_labelled_axes() -> None:
    svg = svg_line_chart({"陇西县": [(2019, 1520), (2014, 35600), (2016, 20000)]},
                         title="陇西县", y_label="贫困户数（户）")
    root = ET.fromstring(svg)
    points = [(c.get("data-year"), c.get("data-value")) for c in root.iter("circle")]
    assert points == [("2014", "35600"), ("2016", "20000"), ("2019", "1520")]
    assert len(list(root.iter("polyline"))) == 1
    texts = {t.text for t in root.iter("text")}
    assert {"年份 year", "贫困户数（户）", "2014", "2019"} <= texts
    single = ET.fromstring(svg_line_chart({"西吉县": [(2015, 92000)]}, title="t", y_label="y"))
    assert len(list(single.iter("circle"))) == 1 and not list(single.iter("polyline"))
    assert "no data" in svg_line_chart({}, title="t", y_label="y")


# ------------------------------------------------------------------------- empty warehouse


def test_report_of_a_missing_warehouse_says_there_is_no_data(tmp_path: Path) -> None:
    out = build_report(tmp_path / "absent.duckdb", tmp_path / "report.html")
    html = out.read_text(encoding="utf-8")
    assert 'id="no-data"' in html and "does not exist yet" in html
    assert "<svg" not in html
    assert not (tmp_path / "absent.duckdb").exists()


def test_report_of_an_empty_warehouse_says_there_is_no_data(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    with connect(db) as con:
        ensure_schema(con)
    html = build_report(db, tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="no-data"' in html and "has no data yet" in html
    assert_self_contained(html)


def test_a_view_the_warehouse_lacks_is_reported_not_fatal(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "old.duckdb")
    with connect(db) as con:
        con.execute("DROP VIEW v_source_coverage")
    html = build_report(db, tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="unavailable"' in html and "v_source_coverage" in html
    assert 'data-indicator="poor_households"' in html


# ---------------------------------------------------------------------------- full report


def test_report_shows_runs_indicators_coverage_and_quality(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert_self_contained(html)
    for key, value in (("pages_in", 6), ("pages_rejected", 3), ("facts_quarantined", 3)):
        assert re.search(rf'data-count="{key}"><div class="n">{value}<', html), key
    assert RUN_2 in html
    for code in ("poor_households", "poor_population", "poverty_incidence", "fiscal_poverty_fund"):
        assert f'data-indicator="{code}"' in html
    # The disagreement: 平凉市 households 2014, 98,000 vs 101,000 — the later statement wins.
    assert re.search(r"<td>平凉市</td><td>贫困户数</td><td>2014</td>.*?98,000.*?101,000", html)
    assert "A&amp;B &lt;日报&gt;" in html and "<日报>" not in html
    assert "year_not_after_publication" in html and "✗ 未通过" in html
    assert "body_too_short" in html and "decode_error" in html
    assert "贫困发生率208.7%" in html


def test_read_report_data_picks_the_latest_dq_run(report: Path) -> None:
    data = read_report_data(report.parent.parent / "fupin.duckdb")
    assert data.dq_run_id == RUN_2 and len(data.dq) == len(DQ)
    assert not data.dq[0]["success"]  # failures first
    assert data.quarantine[0]["expectation"] == "year_not_after_publication"
    assert data.unavailable == []
    assert render_report(data) == render_report(data)


def test_build_report_renders_thousands_of_facts(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "big.duckdb")
    with connect(db) as con:
        con.execute("""
            INSERT INTO fact_indicator (fact_id, doc_key, ordinal, indicator, region_code, region,
                province, year, time_kind, value, unit, qualifier, evidence, sentence, char_start,
                char_end, rule, confidence, run_id)
            SELECT 'bulk-' || i, ['pl-2019', 'lx-2019', 'xj-2016'][1 + i % 3], i,
                   ['poor_households', 'poor_population', 'poverty_incidence'][1 + i % 3],
                   '9' || lpad((i % 400)::VARCHAR, 11, '0'), '地区' || (i % 400), '某省',
                   2010 + i % 11, 'point', 100 + i, 'person', 'exact', 'e', 's', 0, 1, 'cue',
                   0.9, 'bulk'
            FROM range(6000) t(i)
        """)
    build_report(db, tmp_path / "report.html")
    assert (tmp_path / "report.html").stat().st_size > 0


def test_long_tables_are_capped_with_the_query_for_the_rest(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "many.duckdb")
    with connect(db) as con:
        con.execute("""
            INSERT INTO dim_document (doc_key, location, title, source_site, content_sha256,
                body, body_chars, run_id)
            SELECT 'site-' || i, 'pages/site-' || i || '.html', '标题', '示例站' || i,
                   'sha-site-' || i, '正文', 2, 'bulk'
            FROM range(1293) t(i)
        """)
    html = build_report(db, tmp_path / "report.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="coverage">'):html.index('<section id="quality">')]
    table = section[section.index("<table>"):section.index("</table>")]
    assert table.count("<tr>") == 1 + MAX_TABLE_ROWS
    assert f"showing the first {MAX_TABLE_ROWS} of 1,296 sources" in section
    assert "SELECT * FROM v_source_coverage ORDER BY" in section


def test_report_links_the_warehouse_data_docs(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "fupin.duckdb")
    out = tmp_path / "out" / "report.html"
    assert "none yet" in build_report(db, out).read_text(encoding="utf-8")
    index = data_docs_dir(db) / "index.html"
    index.parent.mkdir(parents=True)
    index.write_text("<html></html>", encoding="utf-8")
    html = build_report(db, out).read_text(encoding="utf-8")
    assert_self_contained(html)
    (href,) = re.findall(r'<a id="data-docs" href="([^"]+)"', html)
    assert not href.startswith(("http:", "https:", "/"))
    assert (out.parent / href).resolve() == index.resolve()


# ---------------------------------------------------------------------------------- browser


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    reason = "headless Chromium is not installed (Debian: apt-get install -y chromium)"
    if os.environ.get("FUPIN_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + "; FUPIN_REQUIRE_BROWSER=1 requires it")
    pytest.skip(reason)


def _run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-extensions", f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1280,2400", *args,
    ]
    env = {**os.environ, "HOME": str(profile)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB(A) PNG with the standard library: width, height, raw rows."""
    blob = path.read_bytes()
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(blob):
        (length,), kind = struct.unpack(">I", blob[pos:pos + 4]), blob[pos + 4:pos + 8]
        chunk = blob[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6), (depth, color)
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        rows.append(bytes(line) if bpp == 3 else bytes(
            v for i, v in enumerate(line) if i % 4 != 3))
        prev = line
    return width, height, rows


def page_requests(net_log: Path) -> list[str]:
    """URLs the page itself asked for, from Chromium's NetLog.

    The browser makes its own background requests (update checks, time sync), which
    the host-resolver rule sends nowhere; those have no page as their top frame. A
    request made on behalf of the page has the file:// page in its isolation key.
    """
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        e["params"]["url"] for e in log["events"]
        if e["type"] == start_job and "url" in e.get("params", {})
        and ("file:" in str(e["params"].get("network_isolation_key", ""))
             or e["params"].get("initiator") not in (None, "not an origin"))
    ]


def test_report_renders_offline_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    binary = _chromium()
    url = report.resolve().as_uri()
    net_log = tmp_path / "net-log.json"
    dom = _run_chromium(binary, tmp_path / "profile-dom", f"--log-net-log={net_log}",
                        "--dump-dom", url).stdout
    assert_self_contained(dom)
    assert page_requests(net_log) == []
    # The charts are in the rendered DOM, with the regions and the exact values.
    assert dom.count("<svg") >= 8
    bars = set(re.findall(r'<g class="bar" data-label="([^"]+)" data-value="([^"]+)"', dom))
    assert {("平凉市 2018", "23400"), ("陇西县 2019", "1520"), ("西吉县 2015", "92000")} <= bars
    points = set(re.findall(
        r'<circle [^>]*data-region="([^"]+)" data-year="(\d+)" data-value="([^"]+)"', dom))
    assert {("平凉市", "2014", "98000"), ("陇西县", "2014", "33.8"),
            ("陇西县", "2019", "1.2")} <= points
    assert "陇原示例新闻网" in dom and "宁夏示例日报" in dom

    shot = tmp_path / "report.png"
    _run_chromium(binary, tmp_path / "profile-shot", f"--screenshot={shot}", url)
    assert shot.stat().st_size > 20_000
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1280, 2400)
    pixels = [row[i:i + 3] for row in rows[::4] for i in range(0, len(row), 12)]
    inked = sum(1 for p in pixels if p != b"\xff\xff\xff")
    assert inked / len(pixels) > 0.03, "the screenshot is (almost) blank"
    bar_blue = bytes((0x00, 0x72, 0xB2))
    assert any(p == bar_blue for p in pixels), "no bar of the charts was painted"


def test_the_request_check_sees_a_page_that_fetches(tmp_path: Path) -> None:
    """Control for the test above: a page with remote resources is caught by page_requests."""
    binary = _chromium()
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><img src="http://example.org/a.png">'
                    '<link rel="stylesheet" href="https://example.org/b.css">', encoding="utf-8")
    net_log = tmp_path / "net-log.json"
    _run_chromium(binary, tmp_path / "profile", f"--log-net-log={net_log}", "--dump-dom",
                  page.as_uri())
    assert sorted(page_requests(net_log)) == ["http://example.org/a.png",
                                              "https://example.org/b.css"]
