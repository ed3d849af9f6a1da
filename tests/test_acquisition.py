"""Pulling pages over HTTP through the whole flow: encodings, failures, re-runs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from http_server import Reply, always, fail_then, serve

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "pages"

pytestmark = pytest.mark.slow

HTML = "text/html; charset=utf-8"


def _page(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _big5_page() -> bytes:
    text = ("<html><head><title>縣裡的扶貧工作</title></head><body><div><p>"
            "截至去年年底,全縣貧困發生率降至百分之二,各村新修道路三十公里,"
            "合作社帶動農戶種植茶葉,村民收入明顯增加。</p>" * 3 + "</div></body></html>")
    return text.encode("big5")


@pytest.fixture(scope="module")
def served(prefect_server: str, tmp_path_factory: pytest.TempPathFactory):
    longxi = _page("longxi_2019_exit.html")
    routes = {
        "/gbk-no-charset": always(Reply(200, _page("bijie_2020_relocation_gbk.html"),
                                        {"Content-Type": "text/html"})),
        "/old-link": always(Reply(301, b"", {"Location": "/moved"})),
        "/moved": always(Reply(302, b"", {"Location": "/xiji"})),
        "/xiji": always(Reply(200, _page("xiji_2016_briefing.html"), {"Content-Type": HTML})),
        "/flaky": fail_then(Reply(503, b"busy"), 1, Reply(200, longxi, {"Content-Type": HTML})),
        "/mirror": always(Reply(200, longxi, {"Content-Type": HTML})),
        "/big5": always(Reply(200, _big5_page(), {"Content-Type": "text/html"})),
        "/bom": always(Reply(200, b"\xef\xbb\xbf" + _page("xiji_2016_briefing.html"),
                             {"Content-Type": "text/html"})),
        "/report.pdf": always(Reply(200, b"%PDF-1.7 binary", {"Content-Type": "application/pdf"})),
        "/empty": always(Reply(200, b"", {"Content-Type": HTML})),
    }
    with serve(routes) as site:
        listing = tmp_path_factory.mktemp("lists") / "urls.txt"
        listed = [p for p in routes if p not in ("/moved", "/xiji")] + ["/gone"]
        listing.write_text("".join(site.url(p) + "\n" for p in listed), encoding="utf-8")
        db = tmp_path_factory.mktemp("wh") / "fupin.duckdb"
        from fupin.flows.etl import etl

        first = etl(sources=[f"@{listing}"], db=str(db))
        second = etl(sources=[f"@{listing}"], db=str(db))
        yield site, db, first, second


def test_first_run_loads_good_pages_and_rejects_bad_ones_with_reasons(served) -> None:
    site, db, first, _ = served
    assert first.counts.pages_in == 9
    assert first.counts.documents_loaded == 6
    con = duckdb.connect(str(db), read_only=True)
    reasons = dict(con.execute(
        "SELECT regexp_extract(location, '/[^/]*$'), reason FROM rejected_pages "
        "WHERE run_id = (SELECT min(run_id) FROM etl_runs)").fetchall())
    assert reasons == {"/report.pdf": "not_text", "/empty": "empty", "/gone": "http_404"}
    con.close()
    assert site.hits["/flaky"] >= 2


def test_encodings_are_decided_right(served) -> None:
    _, db, _, _ = served
    con = duckdb.connect(str(db), read_only=True)
    rows = dict(con.execute(
        "SELECT regexp_extract(location, '/[^/]*$'), encoding || '|' || coalesce(title, '') "
        "FROM dim_document").fetchall())
    con.close()
    assert rows["/gbk-no-charset"].split("|")[0] in {"gb18030", "gbk"}
    assert rows["/gbk-no-charset"].endswith("毕节市易地扶贫搬迁工作综述")
    assert rows["/big5"] == "big5|縣裡的扶貧工作"
    assert rows["/bom"] == "utf-8|西吉县召开脱贫攻坚新闻发布会"
    assert rows["/old-link"].endswith("西吉县召开脱贫攻坚新闻发布会")


def test_the_same_page_under_two_urls_is_stored_once(served) -> None:
    _, db, _, _ = served
    con = duckdb.connect(str(db), read_only=True)
    raw = con.execute("SELECT count(*) FROM raw_pages WHERE location LIKE '%/flaky' "
                      "OR location LIKE '%/mirror'").fetchone()[0]
    docs = con.execute("SELECT count(*), count(duplicate_of) FROM dim_document "
                       "WHERE location LIKE '%/flaky' OR location LIKE '%/mirror'").fetchone()
    con.close()
    assert raw == 1
    assert docs == (2, 1)


def test_a_rerun_processes_nothing_new(served) -> None:
    _, _, first, second = served
    assert second.counts.pages_unchanged == first.counts.documents_loaded
    assert second.counts.documents_loaded == 0 and second.counts.facts_candidate == 0
    assert second.counts.pages_rejected == first.counts.pages_rejected
