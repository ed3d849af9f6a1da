"""Publication dates: datelines in every common shape, <meta> tags, a speech's own
opening line and, as the last resort, the page's address; and where each came from."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from http_server import Reply, always, serve

from fupin.tasks.clean import clean_page
from fupin.tasks.clean.metadata import url_date, url_year
from fupin.tasks.models import Source

PROSE = "村里建起了食用菌大棚,二十多户贫困户在家门口就业,每人每月增收一千二百元。"
PROSE2 = "合作社负责人说,明年还要再建五个大棚,带动更多农户一起种植。"


def _dump(*top: str) -> str:
    return "\n".join(["清溪县扶贫纪实", *top, PROSE, PROSE2, ""])


@pytest.mark.parametrize(
    ("line", "day", "moment"),
    [
        ("09.10.2015", date(2015, 9, 10), None),
        ("28.10.2015 08:05", date(2015, 10, 28), datetime(2015, 10, 28, 8, 5)),
        ("2015-09-10 09:15", date(2015, 9, 10), datetime(2015, 9, 10, 9, 15)),
        ("发布时间:2015年09月10日 09:15", date(2015, 9, 10), datetime(2015, 9, 10, 9, 15)),
        ("發佈時間:2015年09月10日", date(2015, 9, 10), None),
        ("時間:2015-09-10 來源:清溪日報", date(2015, 9, 10), None),
        ("发布日期:2015/9/10", date(2015, 9, 10), None),
    ],
)
def test_dateline_shapes(line: str, day: date, moment: datetime | None) -> None:
    doc = clean_page(_dump(line))
    assert (doc.published, doc.published_at, doc.published_from) == (day, moment, "text")
    assert line not in doc.body


def test_dateline_under_a_summary_line_still_dates_the_page() -> None:
    doc = clean_page(_dump("导语:村里的大棚建起来了,贫困户有了稳定收入。",
                           "时间:2016-03-08 来源:清溪日报"))
    assert doc.published == date(2016, 3, 8)


def test_date_in_the_footer_dates_the_page() -> None:
    page = _dump() + "(责任编辑:王五)\n发布日期:2016-03-08\n"
    assert clean_page(page).published == date(2016, 3, 8)


def test_date_below_an_html_article_dates_the_page() -> None:
    html = ("<html><head><title>清溪县扶贫纪实</title></head><body><div>"
            f"<p>{PROSE}</p><p>{PROSE2}</p><p>(责任编辑:王五)</p><p>發佈日期:2016-03-08</p>"
            "</div></body></html>")
    doc = clean_page(html)
    assert (doc.published, doc.published_from) == (date(2016, 3, 8), "text")
    assert "2016" not in doc.body


@pytest.mark.parametrize(
    "meta",
    ['<meta name="publishdate" content="2017-05-29">',
     '<meta property="article:published_time" content="2017-05-29T10:30:00+08:00">',
     '<meta name="PubDate" content="2017-05-29 10:30">',
     '<meta name="firstpublishedtime" content="2017-05-29-10:30:00">'],
)
def test_html_meta_tags(meta: str) -> None:
    html = (f"<html><head><title>清溪县扶贫纪实</title>{meta}</head><body><div>"
            f"<p>{PROSE}</p><p>{PROSE2}</p></div></body></html>")
    doc = clean_page(html)
    assert (doc.published, doc.published_from) == (date(2017, 5, 29), "meta")


def test_labelled_dateline_wins_over_meta_and_meta_over_a_stray_date() -> None:
    meta = '<meta name="publishdate" content="2017-05-29">'
    html = (f"<html><head><title>清溪县扶贫纪实</title>{meta}</head><body><div>"
            "<p>{}</p>" f"<p>{PROSE}</p><p>{PROSE2}</p></div></body></html>")
    labelled = clean_page(html.format("发布时间:2017-05-30 08:00"))
    assert (labelled.published, labelled.published_from) == (date(2017, 5, 30), "text")
    stray = clean_page(html.format("2011-01-01"))
    assert (stray.published, stray.published_from) == (date(2017, 5, 29), "meta")


@pytest.mark.parametrize(
    "url",
    ["http://news.example.cn/n1/2017/0529/c1001-29305678.html",
     "http://www.example.gov.cn/zwgk/201705/t20170529_1234.html",
     "http://www.example.com.cn/xw/201705/29/content_888.html",
     "http://www.example.cn/2017-05/29/c_1121055.htm",
     "https://www.example.com/news/20170529000215-260402",
     "https://www.example.net/caijing/2017052981234.html"],
)
def test_the_address_dates_an_undated_page(url: str) -> None:
    assert url_date(url) == date(2017, 5, 29)
    doc = clean_page(_dump(), url=url)
    assert (doc.published, doc.published_from) == (date(2017, 5, 29), "url")


def test_the_address_never_overrides_the_page() -> None:
    doc = clean_page(_dump("2015-09-10 09:15"), url="http://x.cn/2017/0529/a.html")
    assert doc.published == date(2015, 9, 10)
    assert url_date("http://x.cn/content_20171234567.htm") is None
    assert url_date("http://x.cn/a/2012345678.html") is None  # no month 34
    assert url_date("http://x.cn/a/2017052981234x.html") is None  # digits run into letters
    assert url_date("http://20170529.example.cn/a.html") is None


@pytest.mark.parametrize(
    "opening",
    ["——2018年1月25日在清溪县脱贫攻坚推进大会上",
     "——二〇一八年一月二十五日在清溪县第十七届人民代表大会第二次会议上"],
)
def test_a_speech_is_dated_by_its_opening_line(opening: str) -> None:
    page = "\n".join(["在全县脱贫攻坚推进大会上的讲话", "时间:2018-02-03 来源:清溪日报",
                      opening, PROSE, PROSE2, ""])
    doc = clean_page(page)
    assert (doc.published, doc.published_from) == (date(2018, 1, 25), "text")


def test_a_labelled_dateline_with_its_weekday_dates_the_page() -> None:
    doc = clean_page(_dump("来源: 清溪新闻网    编辑: 孙八 2016-08-08 17:38:48 星期一   字体:"))
    assert (doc.published, doc.published_from) == (date(2016, 8, 8), "text")
    banner = clean_page(_dump("今天是2018年1月6日 星期六 天气晴"))
    assert banner.published is None


def test_no_date_anywhere_is_null() -> None:
    doc = clean_page(_dump(), url="http://x.cn/news/show.aspx?id=42")
    assert (doc.published, doc.published_from) == (None, None)


def test_the_address_date_reaches_the_warehouse(tmp_path: Path) -> None:
    """Over HTTP the page's URL dates it, and dim_document says so."""
    from fupin.tasks import warehouse
    from fupin.tasks.pipeline import kinds, stages

    page = _dump().encode("utf-8")
    path = "/zwgk/201705/t20170529_1234.txt"
    with serve({path: always(Reply(200, page, {"Content-Type": "text/plain; charset=utf-8"}))}) \
            as site:
        (ref,) = stages.plan_batches([Source(site.url(path), "http", "p")], {}, tmp_path, 10)
        cleaned = stages.clean_stage(stages.fetch_stage(ref))
    [row] = cleaned.read(kinds.DOCS, ["published_date", "published_from"])
    assert row == {"published_date": date(2017, 5, 29), "published_from": "url"}
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    warehouse.ensure_schema(con)
    cols = {r[0] for r in con.execute("DESCRIBE dim_document").fetchall()}
    con.close()
    assert "published_from" in cols


@pytest.mark.parametrize(
    ("url", "year"),
    [("http://www.example.cn/xw/gn/201905/t3857990.shtml", 2019),
     ("http://www.example.cn/news/2019-05/c_77.htm", 2019),
     ("http://www.example.cn/2019/05/show.aspx?id=3", 2019),
     ("http://www.example.cn/2019/ldhd/77.html", None),  # a year alone may be a section
     ("http://www.example.cn/news/201913/77.html", None),  # no month 13
     ("http://201905.example.cn/77.html", None)],  # the host is no date
)
def test_the_address_gives_a_year_without_a_day(url: str, year: int | None) -> None:
    assert url_year(url) == year


def test_a_year_only_the_address_gives_dates_the_facts(tmp_path: Path) -> None:
    """Over HTTP, /201905/ with no day leaves the page undated but gives its facts the
    publication year: a present-tense figure is of that year, 去年 the year before."""
    from fupin.tasks.pipeline import kinds, stages

    page = _dump("全县现有贫困村33个,未脱贫人口5022人。", "去年全县脱贫1200户。").encode("utf-8")
    path = "/xw/201905/4417.txt"
    with serve({path: always(Reply(200, page, {"Content-Type": "text/plain; charset=utf-8"}))}) \
            as site:
        (ref,) = stages.plan_batches([Source(site.url(path), "http", "p")], {}, tmp_path, 10)
        cleaned = stages.clean_stage(stages.fetch_stage(ref))
    [doc] = cleaned.read(kinds.DOCS, ["published_date", "published_from"])
    assert doc == {"published_date": None, "published_from": None}
    facts = stages.extract_stage(cleaned).read(kinds.FACTS,
                      ["indicator", "year", "year_source"])
    found = {(f["indicator"], f["year"], f["year_source"]) for f in facts}
    assert found >= {("lifted_households", 2018, "relative"),
                     ("poor_population", 2019, "publication"),
                     ("poor_villages", 2019, "publication")}


@pytest.mark.parametrize("credit", [
    "《 清溪日报 》( 2020年01月25日 01 版)",
    "《清溪日报》（2020年1月25日 第3版）",
])
def test_a_print_credit_left_at_the_end_of_the_body_dates_the_page(credit: str) -> None:
    article = [PROSE, PROSE2] * 3  # past the lines a dateline may open the body with
    doc = clean_page("\n".join(["清溪县扶贫纪实", *article, credit, "(责编:王五、赵六)", ""]))
    assert (doc.published, doc.published_from) == (date(2020, 1, 25), "text")


def test_a_book_title_dated_inside_the_prose_is_no_print_credit() -> None:
    doc = clean_page(_dump("2019年印发的《清溪县脱贫攻坚规划》(2019年5月8日)仍在执行。"))
    assert doc.published is None
