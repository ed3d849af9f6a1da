"""HTML cleaning on small pages written for these tests, and the news_bench target."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from shared_data import shared_path

from fupin.tasks.acquire.decode import DecodeError, decode_bytes, read_page_bytes
from fupin.tasks.clean import clean_page
from fupin.tasks.clean.score import char_f1

P1 = "今年以来,全县新建扶贫车间十二个,吸纳周边群众四百余人就业,其中建档立卡贫困户一百三十人。"
P2 = "车间负责人介绍,工人经过两周培训即可上岗,计件工资每月三千元左右,家里老人孩子也能照顾到。"
P3 = "下一步,县里将继续完善用工对接机制,让更多有劳动能力的群众实现稳定增收。"
LINKS = "".join(f'<li><a href="/n{i}.html">其他新闻标题第{i}条内容</a></li>' for i in range(12))


def _page(body: str, head: str = "<title>扶贫车间开到家门口_某某新闻网</title>") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


ARTICLE = _page(f"""
<header><a href="/">首页</a> <a href="/news">新闻</a></header>
<nav><ul>{LINKS}</ul></nav>
<div class="main">
  <h1>扶贫车间开到家门口</h1>
  <div class="info">2021-06-08 09:30 来源:某某日报 作者:记者 周九</div>
  <div class="content"><p>{P1}</p><p>{P2}</p><p>{P3}</p></div>
  <div class="editor">(责任编辑:吴十)</div>
  <div class="related"><h3>相关新闻</h3><ul>{LINKS}</ul></div>
</div>
<aside><ul>{LINKS}</ul></aside>
<script>var x = "脚本里的文字不能进正文";</script>
<style>.a {{ color: red }}</style>
<!-- 注释里的文字也不能进正文 -->
<footer>版权所有 © 某某新闻网 京ICP备00000000号</footer>
""")


def test_article_body_and_paragraphs() -> None:
    doc = clean_page(ARTICLE)
    assert doc.body.split("\n") == [P1, P2, P3]


def test_article_metadata() -> None:
    doc = clean_page(ARTICLE)
    assert doc.title == "扶贫车间开到家门口"
    assert doc.published == date(2021, 6, 8)
    assert doc.published_at == datetime(2021, 6, 8, 9, 30)
    assert doc.source_site == "某某日报"
    assert doc.author == "周九"


def test_title_without_site_suffix_when_no_h1() -> None:
    doc = clean_page(_page(f"<div><p>{P1}</p><p>{P2}</p></div>",
                           head="<title>扶贫车间开到家门口 - 某某网</title>"))
    assert doc.title == "扶贫车间开到家门口"
    assert doc.published is None and doc.author is None and doc.source_site is None


def test_meta_tag_date_is_used_when_the_page_shows_none() -> None:
    head = ('<title>t</title><meta property="article:published_time" '
            'content="2020-11-05T08:00:00+08:00">')
    doc = clean_page(_page(f"<div><p>{P1}</p><p>{P2}</p></div>", head=head))
    assert doc.published == date(2020, 11, 5)


def test_table_layout_with_br_paragraphs_and_link_columns() -> None:
    side = "".join(f'<a href="/c{i}">栏目{i}</a><br>' for i in range(30))
    html = _page(f"""<table><tr><td width="150">{side}</td>
        <td><font size="3">{P1}<br><br>{P2}<br>{P3}</font></td>
        <td>{side}</td></tr></table>""")
    assert clean_page(html).body.split("\n") == [P1, P2, P3]


def test_page_wrapped_in_a_form_keeps_its_text() -> None:
    html = _page(f'<form id="aspnetForm"><div id="main"><p>{P1}</p><p>{P2}</p></div>'
                 f'<input type="text" name="q"></form>')
    assert clean_page(html).body.split("\n") == [P1, P2]


def test_search_form_is_dropped() -> None:
    html = _page(f'<div><form><span>站内搜索:热门关键词一 热门关键词二</span></form>'
                 f'<p>{P1}</p><p>{P2}</p></div>')
    assert "站内搜索" not in clean_page(html).body


def test_cleaneval_header_and_fragment_without_html_tags() -> None:
    text = f'<text id="http://example.com/a.html" title="某某论坛帖子" encoding="gb2312">\n' \
           f"<p>{P1}\n<p>{P2}\n"
    doc = clean_page(text)
    assert doc.body.split("\n") == [P1, P2]
    assert doc.title == "某某论坛帖子"


def test_blog_archive_keeps_the_first_post() -> None:
    posts = "".join(
        f'<table class="post"><tr><td class="t">第{i}篇日记</td><td>2005-03-{10 + i} 10:00</td>'
        f'</tr><tr><td class="body">{body}</td></tr></table>'
        for i, body in enumerate((P1, P2 + P3, P3 + P1 + P2))
    )
    doc = clean_page(_page(f'<div id="side"><ul>{LINKS}</ul></div><div id="posts">{posts}</div>'))
    assert P1 in doc.body
    assert P2 not in doc.body


def test_comment_and_related_blocks_after_the_text_are_cut() -> None:
    html = _page(f"""<div class="post"><p>{P1}</p><p>{P2}</p>
        <div>上一篇:某某消息</div><p>网友评论</p>
        <p>说得好,支持一下,希望家乡越来越好!</p></div>""")
    assert clean_page(html).body.split("\n") == [P1, P2]


def test_deeply_nested_markup_does_not_crash() -> None:
    html = _page("<div>" * 3000 + f"<p>{P1}</p>" + "</div>" * 3000)
    assert P1 in clean_page(html).body


def test_explicit_flag_overrides_sniffing() -> None:
    text = f"<p>{P1}</p>"
    assert clean_page(text, is_html=False).body == text
    assert clean_page(text, is_html=True).body == P1


# ---- news_bench: the measured acceptance bar -------------------------------------

MIN_MEAN_F1 = 0.92
MIN_PAGE_F1 = 0.5


def test_news_bench_chinese_pages_f1() -> None:
    corpus = shared_path("corpus", "news_bench")
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    pages = [p for p in manifest["pages"]
             if p["gt_kind"] in ("human", "fixture") and p["language"].startswith("zh")]
    assert len(pages) == 77
    scores = {}
    for page in pages:
        gt = json.loads((corpus / page["gt"]).read_text(encoding="utf-8"))
        try:
            text, _ = decode_bytes(read_page_bytes(corpus / page["html"]))
            body = clean_page(text).body
        except DecodeError:
            body = ""
        scores[page["id"]] = char_f1(body, gt["body"]).f1
    mean = sum(scores.values()) / len(scores)
    worst = min(scores, key=scores.__getitem__)
    assert mean >= MIN_MEAN_F1, f"mean F1 {mean:.3f}"
    assert scores[worst] >= MIN_PAGE_F1, f"{worst} F1 {scores[worst]:.3f}"


@pytest.mark.parametrize(
    ("pred", "ref", "f1"),
    [("扶贫 车间", "扶贫车间", 1.0), ("", "扶贫", 0.0), ("ＡＢ", "AB", 1.0), ("甲乙", "丙丁", 0.0)],
)
def test_char_f1_rule(pred: str, ref: str, f1: float) -> None:
    assert char_f1(pred, ref).f1 == pytest.approx(f1)
    assert char_f1("甲乙丙丁", "甲乙").precision == pytest.approx(0.5)
    assert char_f1("甲乙", "甲乙丙丁").recall == pytest.approx(0.5)


def test_markup_inside_noframes_and_title_is_text_with_its_line_breaks() -> None:
    """The parser reads <noframes> and <title> as plain text: the tags and line breaks
    written inside them stay as written."""
    frames = ("<html><head><title>某县扶贫办</title></head>\n<frameset cols='20%,80%'>"
              "<frame src='menu.html'><frame src='main.html'></frameset>\n<noframes>\n<div>\n"
              "<p>全县累计投入扶贫资金3.2亿元，</p>\n<p>带动贫困户1200户增收。</p>\n</div>\n</noframes>"
              "</html>")
    doc = clean_page(frames)
    assert doc.body == ("<div>\n<p>全县累计投入扶贫资金3.2亿元,</p>\n"
                        "<p>带动贫困户1200户增收。</p>\n</div>")
    titled = ("<html><head><title>扶贫>\n<p>简讯 - 某县人民政府</title></head><body>\n<div>\n"
              "<p>全县累计投入扶贫资金3.2亿元，带动贫困户1200户增收。</p>\n</div></body></html>")
    doc = clean_page(titled)
    assert doc.title == "扶贫>\n<p>简讯"
    assert doc.body == "全县累计投入扶贫资金3.2亿元,带动贫困户1200户增收。"


def test_deeply_nested_markup_keeps_the_line_breaks_between_its_parts() -> None:
    deep = ("<html><body>" + "<div>\n" * 160 + "全县累计投入扶贫资金3.2亿元，\n"
            "<p>带动贫困户1200户增收。</p>\n<div>贫困发生率降至0.5%。</div>\n"
            + "</div>\n" * 160 + "</body></html>")
    assert clean_page(deep).body == ("全县累计投入扶贫资金3.2亿元,\n 带动贫困户1200户增收。 \n "
                                     "贫困发生率降至0.5%。")


def test_line_breaks_between_blocks_and_inside_links_change_nothing() -> None:
    lines = ["全县累计投入扶贫资金3.2亿元，带动贫困户1200户增收。", "贫困发生率由12.5%降至0.5%。"]
    links = "".join(f"<li><a href='/x/{i}.html'>\r\n<div>相关新闻{i}</div>\r\n</a></li>"
                    for i in range(8))
    for gap in ("", "\n", "\r\n  ", " "):
        page = (f"<html><body>{gap}<div class='main'>{gap}"
                + "".join(f"<p>{line}</p>{gap}" for line in lines)
                + f"</div>{gap}<ul>{gap}{links}</ul>{gap}<br>{gap}</body></html>")
        assert clean_page(page).body == "\n".join(lines).replace("，", ","), repr(gap)
