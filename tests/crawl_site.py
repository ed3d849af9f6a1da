"""A news site to crawl: a real HTTP server on 127.0.0.1 with articles, sitemaps, feeds,
paginated listings, a robots.txt and the traps a crawler meets on county government sites.

Everything is generated in memory from a seed, so two sites with the same seed serve
the same bytes (apart from the port in absolute links and the session ids of the trap).
Each article is a short piece of county poverty-alleviation news written for this
site: a real county of ``schemas/regions.csv``, a dateline, three to six paragraphs
and one to three figures the extractor reads (``Article.facts`` is what it should
find: indicator code of ``schemas/indicators.yaml``, county, year, value).

Paths (host A is the server's own ``http://127.0.0.1:PORT``):

* articles ``/{xw,zc,tp}/YYYY/MM/art_NNNN.html``, one section in three each;
* ``/robots.txt``: ``Disallow: /zc/`` for every agent, ``Crawl-delay`` as given,
  and a ``Sitemap:`` line;
* ``/sitemap.xml``, a sitemap index of ``/sitemaps/{xw,tp,zc}.xml.gz`` (gzip bytes,
  ``application/gzip`` for xw, ``application/x-gzip`` for the others), each a
  urlset with a ``<lastmod>`` per article;
* ``/rss.xml`` (RSS 2.0) and ``/atom.xml`` (Atom), the newest 20 articles of all
  sections, the RSS links with tracking parameters;
* listings of 20 articles, newest first, with page numbers, 上一页/下一页 and 末页:
  ``/xw/index.html``, ``/xw/index_1.html``, … (``/zc/`` alike) and ``/tp/list``,
  ``/tp/list?page=2``, …; a section's front page answers at ``/xw/`` and
  ``/xw/index.html`` alike, and ``/xw`` redirects (301) to ``/xw/``; ``/`` and
  ``/index.html`` list the newest articles;
* traps: ``/xw/calendar?month=2021-03`` links the month before and after, for ever;
  every link of a ``/tp/list`` page carries ``sid=<token>``, a new token on every
  request, as a session id would;
* links off the site on every page (``https://www.gov.cn/``,
  ``http://other.example.cn/news/NNNN.html``): nothing may fetch them.

The URL variants, and which canonicalisation collapses them:

* tracking parameters on links to articles: ``?utm_source=wx&from=timeline``
  (related news), ``?spm=zm1001.2001.0.0`` (related news, written as a full URL),
  ``?utm_source=rss&utm_medium=feed`` (RSS items). courlan's ``normalize_url`` drops
  ``utm_*`` by itself; ``from`` and ``spm`` go only in its strict mode (which keeps
  only an allow-list such as ``page``) or with a list of tracking names;
* a fragment: every article links to itself as ``#comments``;
* the default index page and the trailing slash: ``/xw`` (which the server
  redirects), ``/xw/`` and ``/xw/index.html`` (listings only; no article has such a
  variant); courlan keeps all three apart (``trailing_slash=False`` joins the first
  two), so a crawler needs its own rule for ``index.html`` or fetches that page twice;
* the session id ``sid`` of the ``/tp/list`` trap (courlan's strict mode drops it);
* relative links with ``..`` segments (``../../2021/03/art_0002.html``), which
  joining with the page's URL resolves.

Not present, because this server cannot produce them: an https twin (it speaks
http only) and a default-port twin (its port is never 80).

Conditional GET: every 200 reply carries an ``ETag`` (a hash of its bytes); articles,
sitemaps and feeds also carry ``Last-Modified``. A matching ``If-None-Match``, or an
``If-Modified-Since`` not older than ``Last-Modified`` when no ``If-None-Match`` is
sent, gets ``304``.

Use (the ``crawl_site`` fixture of ``conftest.py`` is ``CrawlSite()``)::

    with CrawlSite(seed=0, articles=300, crawl_delay=0.05) as site:
        site.base_url, site.url("/rss.xml")
        site.article_urls(), site.allowed_article_urls(), site.disallowed_article_urls()
        site.expected_facts()          # {canonical URL: [ExpectedFact, ...]}
        site.articles, site.article(7), site.article_at(url)   # Article records
        site.publish(10)               # new articles in /xw/ and /tp/, newest of all
        site.edit([4, 9])              # a figure changes; lastmod, ETag, Last-Modified move
        site.requests, site.reset_log()   # LoggedRequest: path, query, status, validators

URLs given out are canonical: ``base_url`` plus the article's path, no query.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import posixpath
import random
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from html import escape
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from http_server import Reply, Request, serve_handler

REGIONS = Path(__file__).resolve().parents[1] / "schemas" / "regions.csv"

SITE_NAME = "扶贫开发信息网"
SECTIONS = {"xw": "新闻动态", "zc": "政策文件", "tp": "脱贫攻坚"}
# Where pages link a section's front: xw is written three ways (the navigation /xw/,
# the home page /xw, an article's breadcrumb /xw/index.html), all the same page.
FRONT_PAGES = {"xw": "/xw/", "zc": "/zc/index.html", "tp": "/tp/list"}
CRUMB_PAGES = {**FRONT_PAGES, "xw": "/xw/index.html"}
DISALLOWED = ("/zc/",)
PAGE_SIZE = 20
FEED_SIZE = 20
HOME_SIZE = 10
CST = timezone(timedelta(hours=8))
FIRST_PUBLISHED = datetime(2020, 3, 2, 9, 0, tzinfo=CST)
GOV = "https://www.gov.cn/"
OTHER = "http://other.example.cn"

HTML = "text/html; charset=utf-8"
_ARTICLE_RE = re.compile(r"^/(xw|zc|tp)/(\d{4})/(\d{2})/art_(\d+)\.html$")
_INDEX_RE = re.compile(r"^/(xw|zc)(?:/|/index\.html|/index_(\d+)\.html)$")
_BARE_RE = re.compile(r"^/(xw|zc)$")
_MONTH_RE = re.compile(r"^(-?\d+)-(\d{2})$")


# --- what an article says -------------------------------------------------------

@dataclass(frozen=True)
class County:
    code: str
    name: str
    province: str
    prefecture: str


@dataclass(frozen=True)
class ExpectedFact:
    """A figure an article states, as the warehouse should hold it."""

    indicator: str
    region: str
    region_code: str
    year: int
    value: float


@dataclass(frozen=True)
class _Template:
    """One kind of figure: its phrasings and the facts its numbers are.

    ``draw`` gives the numbers as written (亿元 as such); ``facts`` names, per
    indicator, the number and the factor that turns it into the indicator's unit.
    """

    phrasings: tuple[str, ...]
    draw: Callable[[random.Random], dict[str, float]]
    facts: tuple[tuple[str, str, int], ...]


def _households(low: int, high: int) -> Callable[[random.Random], dict[str, float]]:
    def draw(rng: random.Random) -> dict[str, float]:
        h = rng.randint(low, high)
        return {"h": h, "p": round(h * rng.uniform(2.6, 3.6))}
    return draw


def _count(low: int, high: int) -> Callable[[random.Random], dict[str, float]]:
    return lambda rng: {"n": rng.randint(low, high)}


def _hundred_millions(low: float, high: float) -> Callable[[random.Random], dict[str, float]]:
    return lambda rng: {"x": round(rng.uniform(low, high), 2)}


_YI = 100_000_000

TEMPLATES: dict[str, _Template] = {
    "lifted": _Template(
        ("截至{year}年底，{county}建档立卡贫困户{h}户{p}人全部脱贫",
         "到{year}年底，全县{h}户{p}名建档立卡贫困人口全部实现稳定脱贫"),
        _households(800, 9000),
        (("lifted_households", "h", 1), ("lifted_population", "p", 1))),
    "fiscal": _Template(
        ("{year}年，全县累计投入财政专项扶贫资金{x}亿元",
         "{year}年，{county}共安排财政专项扶贫资金{x}亿元，重点支持产业发展和基础设施建设"),
        _hundred_millions(0.6, 9.5),
        (("fiscal_poverty_fund", "x", _YI),)),
    "villages": _Template(
        ("截至{year}年底，全县{n}个贫困村全部退出",
         "{year}年，全县剩余的{n}个贫困村全部脱贫出列"),
        _count(12, 160),
        (("villages_exited", "n", 1),)),
    "relocated": _Template(
        ("{year}年，全县完成易地扶贫搬迁{h}户{p}人",
         "{year}年，{county}共有{h}户{p}名贫困群众通过易地扶贫搬迁住进了新居"),
        _households(150, 3000),
        (("relocated_households", "h", 1), ("relocated_population", "p", 1))),
    "income": _Template(
        ("{year}年，全县建档立卡贫困户人均纯收入达到{n}元",
         "{year}年，全县脱贫人口人均纯收入增至{n}元"),
        _count(6200, 13800),
        (("per_capita_income", "n", 1),)),
    "housing": _Template(
        ("{year}年，全县完成农村危房改造{n}户",
         "{year}年，全县改造农村危房{n}户，困难群众住上了安全房"),
        _count(120, 4200),
        (("housing_renovated", "n", 1),)),
    "secretaries": _Template(
        ("{year}年，全县选派{n}名机关干部到贫困村担任第一书记",),
        _count(20, 240),
        (("first_secretaries", "n", 1),)),
    "loans": _Template(
        ("{year}年，全县发放扶贫小额信贷{x}亿元",),
        _hundred_millions(0.3, 6.0),
        (("poverty_loans", "x", _YI),)),
    "incidence": _Template(
        ("{year}年底，全县贫困发生率降至{a}%",),
        lambda rng: {"a": round(rng.uniform(0.11, 2.95), 2)},
        (("poverty_incidence", "a", 1),)),
    "integrated": _Template(
        ("{year}年，全县统筹整合涉农资金{x}亿元",),
        _hundred_millions(0.8, 7.5),
        (("integrated_agri_fund", "x", _YI),)),
}

_FOCUS = ("紧盯“两不愁三保障”目标，逐村逐户排查问题、补齐短板", "把产业和就业作为群众增收的主渠道",
          "压实县乡村三级责任，层层传导压力", "统筹各类资源向贫困村和贫困群众倾斜",
          "坚持党建引领，推动各项帮扶政策落地见效", "健全防止返贫监测和帮扶机制，做到早发现早干预")
_TERRAIN = ("山区", "丘陵地带", "高寒山区", "黄土高原腹地", "石漠化片区", "革命老区")
_SCENE = ("平整的水泥路通到了家家户户门口", "一排排新建的民居错落有致",
          "蔬菜大棚里一派繁忙景象", "扶贫车间里机器声此起彼伏",
          "村卫生室里医生正在为群众检查身体", "田间地头到处是忙碌的身影")
_CROPS = ("食用菌", "中药材", "茶叶", "核桃", "花椒", "肉牛", "生猪", "小杂粮", "马铃薯", "柑橘",
          "苹果", "油茶")
_FOLLOW = ("村民的腰包一天天鼓了起来。", "群众的获得感和幸福感不断增强。",
           "一批致富带头人在实践中成长起来。", "这为乡村振兴打下了坚实基础。",
           "干部群众干事创业的劲头越来越足。", "昔日的穷山村正在变成美丽乡村。")
_NEXT = ("继续落实“四个不摘”要求", "加强防止返贫动态监测", "做大做强特色产业",
         "持续加强易地搬迁后续扶持", "加大就业帮扶力度", "抓好扶贫项目资产管理")
_INTROS = (
    "近日，记者从{county}乡村振兴局了解到，该县{focus}，各项工作稳步推进。",
    "{county}地处{terrain}，曾是{prefecture}贫困人口较多的县之一。近年来，该县{focus}。",
    "走进{county}的乡村，{scene}。这是该县持续推进精准扶贫、精准脱贫的一个缩影。",
    "今年以来，{county}{focus}，全县脱贫攻坚成果得到进一步巩固。",
    "{county}位于{province}{prefecture}，是一个典型的{terrain}县。该县{focus}。",
)
_PROSE = (
    "在产业发展上，该县因地制宜发展{crop}等特色产业，引导龙头企业与农户建立利益联结机制。",
    "在稳岗就业上，该县开发公益性岗位，组织劳务协作，帮助有劳动能力的群众在家门口就业。",
    "在教育保障上，该县落实控辍保学责任，确保义务教育阶段学生不因贫失学辍学。",
    "在健康扶贫上，该县推行先诊疗后付费和一站式结算，群众看病就医负担明显减轻。",
    "在住房安全上，该县逐户开展房屋安全鉴定，对存在隐患的房屋及时维修加固。",
    "在饮水安全上，该县新建和改造了一批集中供水工程，群众喝上了放心水。",
    "在消费扶贫上，该县搭建线上线下销售平台，让{crop}等农产品走出大山。",
    "在基础设施上，该县补齐通村道路、电网和通信短板，村容村貌焕然一新。",
)
_LEADS = ("", "据统计，", "数据显示，", "记者了解到，")
_CLOSINGS = (
    "下一步，{county}将{next}，推动巩固拓展脱贫攻坚成果同乡村振兴有效衔接。",
    "该县有关负责人表示，将{next}，坚决守住不发生规模性返贫的底线。",
    "{county}乡村振兴局负责人介绍，下一步将{next}，让脱贫基础更加稳固、成效更可持续。",
    "谈及下一步打算，该县负责人说，将{next}，带领群众在致富路上越走越宽。",
)
# A headline is the county and what it did, often with a second half on what came of it
# (a tail, unless the headline has two halves already).
_TITLES = {
    "xw": ("{county}：脱贫攻坚成果持续巩固", "{county}扎实推进巩固拓展脱贫攻坚成果",
           "{county}：产业就业双轮驱动促增收", "{county}多措并举防止返贫",
           "{county}：小产业带动群众大增收", "{county}交出脱贫攻坚优异答卷"),
    "zc": ("{county}出台防止返贫监测帮扶实施办法", "{county}印发巩固拓展脱贫攻坚成果实施方案",
           "{county}完善扶贫资金项目管理制度", "{county}明确过渡期帮扶政策"),
    "tp": ("{county}：精准施策 稳定脱贫", "{county}念好“产业经” 走好振兴路",
           "{county}：易地搬迁群众稳得住能致富", "{county}：干群同心奔小康"),
}
_TITLE_TAILS = ("", "群众增收致富底气更足", "乡村面貌焕然一新", "脱贫群众日子越过越红火",
                "为乡村振兴打下坚实基础", "帮扶政策落地见效")


@dataclass(frozen=True)
class Figure:
    """One figure of an article: which template, which phrasing, which numbers."""

    kind: str
    phrasing: int
    lead: str
    follow: str
    values: tuple[tuple[str, float], ...]

    def sentence(self, county: County, year: int) -> str:
        written = {k: f"{v:g}" for k, v in self.values}
        text = TEMPLATES[self.kind].phrasings[self.phrasing].format(
            year=year, county=county.name, **written)
        return f"{self.lead}{text}。{self.follow}"

    def facts(self, county: County, year: int) -> list[ExpectedFact]:
        values = dict(self.values)
        return [ExpectedFact(code, county.name, county.code, year,
                             float(round(values[k] * factor, 2)))
                for code, k, factor in TEMPLATES[self.kind].facts]


@dataclass(frozen=True)
class Article:
    id: int
    section: str
    published: datetime
    modified: datetime
    title: str
    county: County
    intro: str
    figures: tuple[Figure, ...]
    prose: tuple[str, ...]
    closing: str
    related: tuple[int, ...]
    version: int = 0

    @property
    def path(self) -> str:
        return f"/{self.section}/{self.published:%Y/%m}/art_{self.id:04d}.html"

    @property
    def year(self) -> int:
        """The year its figures speak of: the last whole year before publication."""
        return self.published.year - 1

    @property
    def allowed(self) -> bool:
        return not self.path.startswith(DISALLOWED)

    @property
    def paragraphs(self) -> list[str]:
        figures = [f.sentence(self.county, self.year) for f in self.figures]
        return [self.intro, *figures[:1], *self.prose, *figures[1:], self.closing]

    @property
    def facts(self) -> list[ExpectedFact]:
        return [fact for f in self.figures for fact in f.facts(self.county, self.year)]


def _counties() -> list[County]:
    """Counties named 某某县 whose name is no other place's, so a fact resolves to one.

    A name holding 乡 or 镇 is left out: the extractor reads 武乡县 as the township
    武乡镇 of another province, a fault of its own that this site is not about.
    """
    with REGIONS.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    names: dict[str, int] = {}
    for r in rows:
        for name in (r["name"], r["short_name"]):
            if name:
                names[name] = names.get(name, 0) + 1
    return [County(r["code"], r["name"], r["province"], r["prefecture"]) for r in rows
            if r["level"] == "county" and r["name"].endswith("县") and r["prefecture"]
            and not {"乡", "镇"} & set(r["name"])
            and names[r["name"]] == 1 and names.get(r["short_name"], 0) <= 1]


def _figure(rng: random.Random, kind: str) -> Figure:
    template = TEMPLATES[kind]
    return Figure(kind, rng.randrange(len(template.phrasings)), rng.choice(_LEADS),
                  rng.choice(("", *_FOLLOW)), tuple(template.draw(rng).items()))


def _write_article(rng: random.Random, article_id: int, section: str, published: datetime,
                   county: County, related: tuple[int, ...]) -> Article:
    words = {"county": county.name, "province": county.province, "prefecture": county.prefecture,
             "focus": rng.choice(_FOCUS), "terrain": rng.choice(_TERRAIN),
             "scene": rng.choice(_SCENE), "crop": rng.choice(_CROPS), "next": rng.choice(_NEXT)}
    kinds = rng.sample(sorted(TEMPLATES), rng.randint(1, 3))
    prose = tuple(p.format(**words) + rng.choice(_FOLLOW)
                  for p in rng.sample(_PROSE, rng.randint(0, 4 - len(kinds))))
    title = rng.choice(_TITLES[section]).format(**words)
    tail = rng.choice(_TITLE_TAILS)
    if tail and " " not in title:
        title = f"{title} {tail}"
    return Article(
        id=article_id, section=section, published=published, modified=published,
        title=title, county=county,
        intro=rng.choice(_INTROS).format(**words),
        figures=tuple(_figure(rng, k) for k in kinds), prose=prose,
        closing=rng.choice(_CLOSINGS).format(**words), related=related)


# --- the site's pages -----------------------------------------------------------

@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    status: int
    if_none_match: str | None
    if_modified_since: str | None
    user_agent: str | None

    @property
    def article_id(self) -> int | None:
        m = _ARTICLE_RE.match(self.path)
        return int(m.group(4)) if m else None


@dataclass
class _Page:
    body: bytes
    content_type: str = HTML
    last_modified: datetime | None = None


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _links(items: Iterable[tuple[str, str]]) -> str:
    return "".join(f'<li><a href="{escape(href)}">{escape(text)}</a></li>' for href, text in items)


def _document(title: str, main: str, *, head: str = "") -> bytes:
    nav = _links([("/", "首页"), *((FRONT_PAGES[s], name) for s, name in SECTIONS.items()),
                  ("/xw/calendar", "按月浏览"), (GOV, "中国政府网")])
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n"
        '<link rel="alternate" type="application/rss+xml" href="/rss.xml">\n'
        f"{head}</head>\n<body>\n"
        f'<div class="top"><ul class="nav">{nav}</ul></div>\n{main}\n'
        '<div class="footer"><ul class="links">'
        + _links([(GOV, "中国政府网"), (f"{OTHER}/", "国家乡村振兴信息平台")])
        + f"</ul><p>版权所有：{SITE_NAME}　主办单位：{SITE_NAME}编辑部</p>"
        "<p>联系电话：010-00000000　未经授权，不得转载</p></div>\n</body>\n</html>\n"
    ).encode("utf-8")


class CrawlSite:
    """The site; ``with CrawlSite() as site:`` serves it on ``site.base_url``."""

    def __init__(self, seed: int = 0, articles: int = 300,
                 crawl_delay: float | None = 0.05) -> None:
        if articles < 4:
            raise ValueError(f"articles={articles}: each article links to three others")
        self.seed = seed
        self.crawl_delay = crawl_delay
        self.base_url = ""
        self._log: list[LoggedRequest] = []
        self._rng = random.Random(seed)
        self._counties = _counties()
        self._rng.shuffle(self._counties)
        self._lock = threading.RLock()
        self._articles: dict[int, Article] = {}
        self._sessions = 0
        self._stack = ExitStack()
        day = FIRST_PUBLISHED
        sections = list(SECTIONS)
        for i in range(1, articles + 1):
            others = [j for j in range(1, articles + 1) if j != i]
            related = tuple(self._rng.sample(others, 3))
            published = day + timedelta(minutes=self._rng.randrange(0, 540, 5))
            self._add(sections[(i - 1) % len(sections)], published, related)
            day += timedelta(days=self._rng.choice((1, 1, 2)))
        self._clock = day

    # -- running ------------------------------------------------------------------

    def __enter__(self) -> CrawlSite:
        self.base_url = self._stack.enter_context(serve_handler(self._handle))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stack.close()

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- ground truth -------------------------------------------------------------

    @property
    def articles(self) -> list[Article]:
        with self._lock:
            return sorted(self._articles.values(), key=lambda a: a.id)

    def article(self, article_id: int) -> Article:
        with self._lock:
            return self._articles[article_id]

    def article_urls(self) -> list[str]:
        return [self.url(a.path) for a in self.articles]

    def allowed_article_urls(self) -> list[str]:
        return [self.url(a.path) for a in self.articles if a.allowed]

    def disallowed_article_urls(self) -> list[str]:
        return [self.url(a.path) for a in self.articles if not a.allowed]

    def expected_facts(self) -> dict[str, list[ExpectedFact]]:
        """Per canonical article URL, the facts its current text states."""
        return {self.url(a.path): a.facts for a in self.articles}

    def article_at(self, url: str) -> Article | None:
        """The article a canonical URL names (None for any other URL)."""
        m = _ARTICLE_RE.match(urlsplit(url).path)
        with self._lock:
            article = self._articles.get(int(m.group(4))) if m else None
        return article if article is not None and self.url(article.path) == url else None

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request served so far (since ``reset_log``), in order."""
        with self._lock:
            return list(self._log)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- changes ------------------------------------------------------------------

    def publish(self, n: int, sections: Sequence[str] = ("xw", "tp")) -> list[Article]:
        """Add ``n`` articles, newest of all, in the given sections (allowed ones by default,
        so every new article is one a polite crawler loads)."""
        with self._lock:
            self._clock += timedelta(days=1)
            older = sorted(self._articles)
            return [self._add(sections[i % len(sections)], self._clock + timedelta(minutes=10 * i),
                              tuple(self._rng.sample(older, 3)))
                    for i in range(n)]

    def edit(self, ids: Iterable[int]) -> list[Article]:
        """Change the first figure of each article, which moves its lastmod, ETag and
        Last-Modified."""
        with self._lock:
            self._clock += timedelta(days=1)
            edited = []
            for article_id in ids:
                old = self._articles[article_id]
                first = old.figures[0]
                values = first.values
                while values == first.values:
                    values = tuple(TEMPLATES[first.kind].draw(self._rng).items())
                new = replace(old, figures=(replace(first, values=values), *old.figures[1:]),
                              modified=self._clock, version=old.version + 1)
                self._articles[article_id] = new
                edited.append(new)
            return edited

    def _add(self, section: str, published: datetime, related: tuple[int, ...]) -> Article:
        article_id = len(self._articles) + 1
        article = _write_article(self._rng, article_id, section, published,
                                 self._counties[(article_id - 1) % len(self._counties)], related)
        self._articles[article_id] = article
        return article

    # -- serving ------------------------------------------------------------------

    def _handle(self, request: Request) -> Reply:
        parts = urlsplit(request.path)
        with self._lock:
            if _BARE_RE.match(parts.path):  # as web servers do for a folder, so relative links work
                reply = Reply(301, b"", {"Location": parts.path + "/"})
            else:
                reply = self._reply(self._route(parts.path, parse_qs(parts.query)), request)
            self._log.append(LoggedRequest(
                request.method, parts.path, parts.query, reply.status,
                request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since"),
                request.headers.get("User-Agent")))
        return reply

    @staticmethod
    def _reply(page: _Page | None, request: Request) -> Reply:
        if page is None:
            return Reply(404, "<html><body>页面不存在</body></html>".encode())
        etag = '"' + hashlib.sha1(page.body).hexdigest()[:20] + '"'
        headers = {"Content-Type": page.content_type, "ETag": etag}
        if page.last_modified is not None:
            headers["Last-Modified"] = _http_date(page.last_modified)
        if _not_modified(request, etag, page.last_modified):
            return Reply(304, b"", headers)
        return Reply(200, page.body, headers)

    def _route(self, path: str, query: dict[str, list[str]]) -> _Page | None:
        if m := _ARTICLE_RE.match(path):
            article = self._articles.get(int(m.group(4)))
            if article is None or article.path != path:
                return None
            return _Page(self._article_page(article), last_modified=article.modified)
        if m := _INDEX_RE.match(path):
            return self._section_listing(m.group(1), int(m.group(2) or 0))
        pages: dict[str, Callable[[], _Page | None]] = {
            "/": self._home, "/index.html": self._home,
            "/robots.txt": self._robots,
            "/sitemap.xml": self._sitemap_index,
            "/rss.xml": self._rss, "/atom.xml": self._atom,
            "/tp/list": lambda: self._tp_listing(query),
            "/xw/calendar": lambda: self._calendar(query),
            **{f"/sitemaps/{s}.xml.gz": (lambda s=s: self._sitemap(s)) for s in SECTIONS},
        }
        make = pages.get(path)
        return make() if make else None

    def _newest(self, section: str | None = None) -> list[Article]:
        chosen = [a for a in self._articles.values() if section in (None, a.section)]
        return sorted(chosen, key=lambda a: (a.published, a.id), reverse=True)

    def _article_page(self, a: Article) -> bytes:
        here = posixpath.dirname(a.path)
        r1, r2, r3 = (self._articles[i] for i in a.related)
        related = [
            (f"{r1.path}?utm_source=wx&from=timeline", r1.title),
            (f"{self.base_url}{r2.path}?spm=zm1001.2001.0.0", r2.title),
            (posixpath.relpath(r3.path, here), r3.title),
            (f"{OTHER}/news/{a.id:04d}.html", f"{a.county.name}脱贫攻坚纪实（转载）"),
        ]
        stamp = f"{a.published:%Y-%m-%d %H:%M}"
        paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in a.paragraphs)
        main = (
            f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; '
            f'<a href="{CRUMB_PAGES[a.section]}">{SECTIONS[a.section]}</a></div>\n'
            f'<div class="article">\n<h1>{escape(a.title)}</h1>\n'
            f'<div class="info">发布时间：{stamp}　来源：{escape(a.county.name)}乡村振兴局　'
            '<a href="#comments">发表评论</a>　'
            '<a href="javascript:window.print()">打印本页</a></div>\n'
            f'<div class="content">\n{paragraphs}\n</div>\n</div>\n'
            f'<div class="related"><h3>相关新闻</h3><ul>{_links(related)}</ul></div>'
        )
        head = (f'<meta name="PubDate" content="{stamp}">\n'
                f'<meta name="ColumnName" content="{SECTIONS[a.section]}">\n')
        return _document(f"{a.title}_{SITE_NAME}", main, head=head)

    def _listing(self, heading: str, articles: Sequence[Article], pager: str) -> bytes:
        items = "".join(f'<li><a href="{a.path}">{escape(a.title)}</a><span>{a.published:%Y-%m-%d}'
                        "</span></li>" for a in articles)
        main = (f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; {escape(heading)}</div>\n'
                f'<div class="list"><h2>{escape(heading)}</h2><ul>{items}</ul></div>\n{pager}')
        return _document(f"{heading}_{SITE_NAME}", main)

    @staticmethod
    def _pager(page: int, pages: int, href: Callable[[int], str]) -> str:
        """Page numbers from 0; ``href`` writes the link to one."""
        parts = [f'<a href="{escape(href(0))}">首页</a>']
        if page > 0:
            parts.append(f'<a href="{escape(href(page - 1))}">上一页</a>')
        parts += [f"<span>{k + 1}</span>" if k == page
                  else f'<a href="{escape(href(k))}">{k + 1}</a>' for k in range(pages)]
        if page < pages - 1:
            parts.append(f'<a href="{escape(href(page + 1))}">下一页</a>')
        parts.append(f'<a href="{escape(href(pages - 1))}">末页</a>　共{pages}页')
        return f'<div class="page">{" ".join(parts)}</div>'

    def _paged(self, section: str, page: int) -> tuple[list[Article], int] | None:
        newest = self._newest(section)
        pages = max(1, -(-len(newest) // PAGE_SIZE))
        if not 0 <= page < pages:
            return None
        return newest[page * PAGE_SIZE:(page + 1) * PAGE_SIZE], pages

    def _section_listing(self, section: str, page: int) -> _Page | None:
        found = self._paged(section, page)
        if found is None:
            return None
        articles, pages = found
        pager = self._pager(page, pages, lambda k: "index.html" if k == 0 else f"index_{k}.html")
        if section == "xw":
            pager += f'<p><a href="calendar?month={articles[0].published:%Y-%m}">按月浏览</a></p>'
        return _Page(self._listing(SECTIONS[section], articles, pager))

    def _tp_listing(self, query: dict[str, list[str]]) -> _Page | None:
        try:
            page = int(query.get("page", ["1"])[0]) - 1
        except ValueError:
            return None
        found = self._paged("tp", page)
        if found is None:
            return None
        articles, pages = found
        self._sessions += 1
        sid = hashlib.sha1(f"{self.seed}:{self._sessions}".encode()).hexdigest()[:16]
        pager = self._pager(page, pages, lambda k: f"list?page={k + 1}&sid={sid}")
        return _Page(self._listing(SECTIONS["tp"], articles, pager))

    def _calendar(self, query: dict[str, list[str]]) -> _Page | None:
        newest = self._newest("xw")
        month = query.get("month", [f"{newest[0].published:%Y-%m}" if newest else "2021-01"])[0]
        m = _MONTH_RE.match(month)
        if m is None or not 1 <= int(m.group(2)) <= 12:
            return None
        index = int(m.group(1)) * 12 + int(m.group(2)) - 1

        def name(i: int) -> str:
            return f"{i // 12:04d}-{i % 12 + 1:02d}"

        shown = [a for a in newest if f"{a.published:%Y-%m}" == name(index)]
        pager = (f'<div class="page"><a href="calendar?month={name(index - 1)}">上个月</a> '
                 f'<a href="calendar?month={name(index + 1)}">下个月</a></div>')
        return _Page(self._listing(f"{SECTIONS['xw']} {name(index)}", shown, pager))

    def _home(self) -> _Page:
        fronts = {**FRONT_PAGES, "xw": "/xw"}
        sections = _links((fronts[s], name) for s, name in SECTIONS.items())
        newest = self._newest()[:HOME_SIZE]
        pager = f'<div class="sections"><ul>{sections}</ul></div>'
        return _Page(self._listing("最新信息", newest, pager))

    def _robots(self) -> _Page:
        lines = ["User-agent: *", *(f"Disallow: {p}" for p in DISALLOWED)]
        if self.crawl_delay is not None:
            lines.append(f"Crawl-delay: {self.crawl_delay:g}")
        lines += ["", f"Sitemap: {self.url('/sitemap.xml')}", ""]
        return _Page("\n".join(lines).encode(), "text/plain; charset=utf-8")

    def _sitemap_index(self) -> _Page:
        entries = []
        for s in SECTIONS:
            newest = max(a.modified for a in self._articles.values() if a.section == s)
            entries.append(f"<sitemap><loc>{self.url(f'/sitemaps/{s}.xml.gz')}</loc>"
                           f"<lastmod>{newest.isoformat()}</lastmod></sitemap>")
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                + "\n".join(entries) + "\n</sitemapindex>\n")
        latest = max(a.modified for a in self._articles.values())
        return _Page(body.encode(), "application/xml", latest)

    def _sitemap(self, section: str) -> _Page:
        articles = self._newest(section)
        urls = "\n".join(f"<url><loc>{self.url(a.path)}</loc><lastmod>{a.modified.isoformat()}"
                         "</lastmod></url>" for a in articles)
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                f"{urls}\n</urlset>\n")
        kind = "application/gzip" if section == "xw" else "application/x-gzip"
        return _Page(gzip.compress(body.encode(), mtime=0), kind,
                     max(a.modified for a in articles))

    def _rss(self) -> _Page:
        newest = self._newest()[:FEED_SIZE]
        items = "\n".join(
            f"<item><title>{escape(a.title)}</title>"
            f"<link>{escape(self.url(a.path) + '?utm_source=rss&utm_medium=feed')}</link>"
            f'<guid isPermaLink="false">art-{a.id:04d}</guid>'
            f"<pubDate>{format_datetime(a.published)}</pubDate>"
            f"<description>{escape(a.intro)}</description></item>" for a in newest)
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
                f"<title>{SITE_NAME}</title><link>{self.url('/')}</link>"
                f"<description>{SITE_NAME}最新信息</description>"
                f"<lastBuildDate>{format_datetime(newest[0].published)}</lastBuildDate>\n"
                f"{items}\n</channel></rss>\n")
        return _Page(body.encode(), "application/rss+xml; charset=utf-8",
                     max(a.modified for a in newest))

    def _atom(self) -> _Page:
        newest = self._newest()[:FEED_SIZE]
        updated = max(a.modified for a in newest)
        entries = "\n".join(
            f"<entry><title>{escape(a.title)}</title><id>{self.url(a.path)}</id>"
            f'<link rel="alternate" href="{self.url(a.path)}"/>'
            f"<published>{a.published.isoformat()}</published>"
            f"<updated>{a.modified.isoformat()}</updated>"
            f"<summary>{escape(a.intro)}</summary></entry>" for a in newest)
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<feed xmlns="http://www.w3.org/2005/Atom">\n'
                f"<title>{SITE_NAME}</title><id>{self.url('/')}</id>"
                f'<link rel="self" href="{self.url("/atom.xml")}"/>'
                f"<updated>{updated.isoformat()}</updated>\n{entries}\n</feed>\n")
        return _Page(body.encode(), "application/atom+xml; charset=utf-8", updated)


def _not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    match = request.headers.get("If-None-Match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return etag in tags or "*" in tags
    since = request.headers.get("If-Modified-Since")
    if since is None or last_modified is None:
        return False
    try:
        return last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False

