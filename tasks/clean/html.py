"""Find the article in an HTML page and return it as paragraphs.

The page is parsed once with BeautifulSoup (lxml), chrome elements are dropped, and a
single walk cuts the tree into text blocks (runs of inline content between block-level
tags). Each block gets a value: positive for punctuated Chinese prose, negative for
link lists, labels and Latin-only strings. Every element scores the sum of the blocks
inside it, and the element with the highest sum is the article: the smallest container
that holds the prose, because including a navigation column would lower its sum. All
sums are built bottom-up in that one walk; nothing calls get_text per node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import CData

from fupin.tasks.clean.lines import DATE_RE, HAN_RE, classify
from fupin.tasks.clean.normalize import clean_line

# Removed before parsing: cheaper as a regex pass than as tree surgery, and these
# blocks are often most of a page's bytes.
_PRE_STRIP_RE = re.compile(
    r"<script\b[^>]*>.*?</script\s*>|<style\b[^>]*>.*?</style\s*>|<!--.*?-->"
    r"|<noscript\b[^>]*>.*?</noscript\s*>",
    re.IGNORECASE | re.DOTALL,
)
# Spaces and line breaks between a tag and the start of a block-level tag: the walker
# would take them as the last text before a block boundary, which clean_line strips, so
# they are dropped before parsing (a quarter of a page's nodes are such gaps). Only
# " ", "\n" and "\r" (which the parser turns into "\n"): they never count as link
# characters, whereas a tab does. <html>, <body> and <form> are left out: the parser
# ignores a repeated one, and text after it would then join the text before it.
_GAP_BLOCK_TAGS = ("address|article|blockquote|caption|center|dd|details|dialog|dir|div|dl|dt"
                   "|fieldset|figcaption|figure|h[1-6]|li|main|marquee|menu|ol|p|pre|section"
                   "|summary|table|tbody|td|text|tfoot|th|thead|tr|ul|br|hr")
_BLOCK_GAP_RE = re.compile(rf">[ \n\r]+(?=<(?:{_GAP_BLOCK_TAGS})[\s/>])", re.IGNORECASE)
# Elements whose content the parser reads as plain text: a gap inside them is text.
_RAW_TEXT_RE = re.compile(r"<(title|textarea|xmp|iframe|noembed|noframes|plaintext)[\s/>]",
                          re.IGNORECASE)
_CLEANEVAL_RE = re.compile(r"^\s*<text\b([^>]*)>", re.IGNORECASE)
_ATTR_RE = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")

_DROP_TAGS = frozenset((
    "script", "style", "nav", "header", "footer", "aside", "iframe", "noscript", "select",
    "button", "textarea", "input", "svg", "object", "embed", "map", "template", "canvas",
    "audio", "video", "img",
))
# A <form> is chrome (search box, comment form) unless, as on ASP.NET pages, it wraps
# the whole page; then it holds most of the text and is kept.
_FORM_KEEP_SHARE = 0.3

_BLOCK_TAGS = frozenset((
    "address", "article", "blockquote", "body", "center", "dd", "details", "dialog", "dir",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "form", "h1", "h2", "h3", "h4",
    "h5", "h6", "html", "li", "main", "menu", "ol", "p", "pre", "section", "summary",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption", "text", "marquee",
))
_HEADING_TAGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_PUNCT_RE = re.compile(r"[，。；！？、：“”,;!?]")
DATE_META_KEYS = ("article:published_time", "og:release_date", "publishdate", "pubdate",
                   "publish_date", "publish-date", "publishtime", "publish_time",
                   "pubtime", "dc.date", "dc.date.issued", "date", "sailthru.date",
                   "datepublished", "release_date", "og:article:published_time",
                   "og:published_time", "published_time", "publishedtime",
                   "firstpublishedtime", "releasedate", "dcterms.issued", "dcterms.created",
                   "dc.date.created", "createdate", "contentpublishtime")

# Block values: how much one character of each kind of block is worth.
_LINK_HEAVY = 0.5          # link share above which a block is a link list
_LINK_PENALTY = 2.0        # weight of link characters inside a prose block
_SHORT_BLOCK = 10          # unpunctuated blocks shorter than this are labels
_LATIN_SHARE = 0.3         # blocks with less Han than this and no punctuation are chrome
_MAX_DEPTH = 150           # block nesting beyond this is flattened (recursion guard)
_NEGATIVE_WEIGHT = 0.5     # how much chrome inside a container counts against it
# A listing page (blog archive, forum thread list) holds several items of one shape,
# each opening with a date; its article is the first item.
_LISTING_MIN_ITEMS = 3
_LISTING_SHARE = 0.6
_DOMINANT_SHARE = 0.9


@dataclass
class Block:
    """One run of inline text and the block-level elements it sits in (outermost first)."""

    text: str
    chars: int
    link_chars: int
    path: tuple[int, ...]
    heading: bool = False
    value: float = 0.0


@dataclass
class HtmlParts:
    """What the HTML cleaner found: article paragraphs and metadata candidates."""

    paragraphs: list[str]
    title: str | None = None
    h1: str | None = None
    before: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


def _drop_block_gaps(html: str) -> str:
    """``html`` without the gaps of ``_BLOCK_GAP_RE``, raw-text elements kept whole."""
    pieces = []
    pos = 0
    while (raw := _RAW_TEXT_RE.search(html, pos)) is not None:
        pieces.append(_BLOCK_GAP_RE.sub(">", html[pos:raw.start()]))
        close = re.compile(rf"</{raw.group(1)}[\s/>]", re.IGNORECASE).search(html, raw.end())
        pos = len(html) if close is None or raw.group(1).lower() == "plaintext" else close.end()
        pieces.append(html[raw.start():pos])
    pieces.append(_BLOCK_GAP_RE.sub(">", html[pos:]))
    return "".join(pieces)


class _Walker:
    """Cut a soup into Blocks in one recursive pass, skipping chrome elements.

    The same pass picks up <title>, <meta> and the first <h1>, and remembers which
    blocks sit in a <form>, so no find_all over the tree is needed.
    """

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.depth_of: dict[int, int] = {}
        self.shape: dict[int, tuple[str, str]] = {}
        self.forms: list[int] = []
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self.h1: str | None = None
        self._parts: list[str] = []
        self._link = 0
        self._path: list[int] = []
        self._heading = 0
        self.too_deep = False

    def flush(self) -> None:
        if not self._parts:
            return
        text = clean_line("".join(self._parts))
        chars = len(text.replace(" ", ""))
        if chars:
            self.blocks.append(Block(text, chars, min(self._link, chars), tuple(self._path),
                                     heading=self._heading > 0))
        self._parts = []
        self._link = 0

    def head_tag(self, tag: Tag) -> None:
        """Record a <title> or <meta>, wherever the parser put it."""
        if tag.name == "title":
            self.title = self.title or tag.get_text(" ", strip=True)
            return
        key = tag.get("property") or tag.get("name") or tag.get("itemprop")
        value = tag.get("content")
        if isinstance(key, str) and isinstance(value, str) and value.strip():
            self.meta.setdefault(key.strip().lower(), value.strip())

    def walk(self, node: Tag, in_link: bool = False) -> None:
        for child in node.contents:  # a list; .children wraps it in a generator
            if isinstance(child, Tag):
                name = child.name
                if name in _DROP_TAGS:
                    continue
                if name == "br" or name == "hr":
                    self.flush()
                elif len(self._path) >= _MAX_DEPTH:
                    # Pathologically deep markup: take the subtree's text as one block
                    # rather than recurse further (get_text walks iteratively).
                    self.too_deep = True
                    self.flush()
                    self._parts.append(child.get_text(" "))
                    self.flush()
                elif name in _BLOCK_TAGS:
                    self.flush()
                    key = id(child)
                    self._path.append(key)
                    self.depth_of[key] = len(self._path)
                    cls = child.get("class")
                    self.shape[key] = (name, " ".join(cls.split()) if isinstance(cls, str) else "")
                    if name == "form":
                        self.forms.append(key)
                    is_heading = name in _HEADING_TAGS
                    self._heading += is_heading
                    start = len(self.blocks)
                    self.walk(child, in_link)
                    self.flush()
                    self._heading -= is_heading
                    self._path.pop()
                    if name == "h1" and self.h1 is None and len(self.blocks) > start:
                        self.h1 = " ".join(b.text for b in self.blocks[start:])
                elif name == "head":
                    for tag in child.find_all(("title", "meta")):
                        self.head_tag(tag)
                elif name == "title" or name == "meta":
                    self.head_tag(child)
                else:
                    self.walk(child, in_link or name == "a")
            elif type(child) is NavigableString or type(child) is CData:
                text = str(child)
                self._parts.append(text)
                if in_link:
                    self._link += len(text) - text.count(" ") - text.count("\n")

    def drop_small_forms(self) -> None:
        """Forget blocks inside forms that hold little of the page's text (search, login)."""
        if not self.forms:
            return
        total = sum(b.chars for b in self.blocks) or 1
        for key in self.forms:
            inside = sum(b.chars for b in self.blocks if key in b.path)
            if inside < total * _FORM_KEEP_SHARE:
                self.blocks = [b for b in self.blocks if key not in b.path]


def _block_value(block: Block) -> float:
    n = block.chars
    link = block.link_chars
    if link > n * _LINK_HEAVY:
        return -float(n)
    if n <= 200 and classify(block.text) is not None:
        return -float(n)
    punct = len(_PUNCT_RE.findall(block.text))
    if punct == 0:
        if n < _SHORT_BLOCK and not block.heading:
            return -0.5 * n
        # Han counted only here: listing every Han character of every block was a
        # tenth of the cleaner's time
        if len(HAN_RE.findall(block.text)) < n * _LATIN_SHARE:
            return -0.5 * n
    return (n - link) - _LINK_PENALTY * link + 3.0 * punct


def _cleaneval_title(text: str) -> str | None:
    m = _CLEANEVAL_RE.match(text)
    if m is None:
        return None
    for am in _ATTR_RE.finditer(m.group(1)):
        if am.group(1).lower() == "title":
            return (am.group(2) or am.group(3) or am.group(4) or "").strip() or None
    return None


def _choose(blocks: list[Block], depth_of: dict[int, int]) -> int | None:
    """Element id with the highest block sum; ties go to the deeper (smaller) element."""
    sums: dict[int, float] = {}
    for block in blocks:
        value = block.value if block.value > 0 else _NEGATIVE_WEIGHT * block.value
        for key in block.path:
            sums[key] = sums.get(key, 0.0) + value
    if not sums:
        return None
    return max(sums, key=lambda k: (sums[k], depth_of.get(k, 0)))


def _first_listing_item(blocks: list[Block], chosen: int,
                        shape: dict[int, tuple[str, str]]) -> list[Block] | None:
    """If ``chosen`` is a list of same-shaped dated items, return the first item's blocks."""
    level = chosen
    while True:
        groups: dict[int | None, list[Block]] = {}
        for block in blocks:
            pos = block.path.index(level)
            key = block.path[pos + 1] if pos + 1 < len(block.path) else None
            groups.setdefault(key, []).append(block)
        mass = {k: sum(b.value for b in g if b.value > 0) for k, g in groups.items()}
        total = sum(mass.values()) or 1.0
        top = max(mass, key=lambda k: mass[k])
        if top is None or mass[top] < _DOMINANT_SHARE * total:
            break
        level, blocks = top, groups[top]
    items = [k for k, g in groups.items() if k is not None and mass[k] > 0 and len(g) >= 2
             and any(DATE_RE.search(b.text) for b in g[:3])]
    if len(items) < _LISTING_MIN_ITEMS:
        return None
    first_shape = shape.get(items[0])
    same = [k for k in items if shape.get(k) == first_shape]
    if len(same) < _LISTING_MIN_ITEMS or sum(mass[k] for k in same) < _LISTING_SHARE * total:
        return None
    return groups[same[0]]


def _walk(html: str) -> _Walker:
    walker = _Walker()
    # multi_valued_attributes=None: the class is read as written, not split into a list
    # for every tag (only block shapes use it)
    walker.walk(BeautifulSoup(html, "lxml", multi_valued_attributes=None))
    walker.flush()
    walker.drop_small_forms()
    return walker


def extract_html(text: str) -> HtmlParts:
    """Parse ``text`` and return the article's paragraphs plus title and metadata hints."""
    cleaneval_title = _cleaneval_title(text)
    stripped = _PRE_STRIP_RE.sub(" ", text)
    walker = _walk(_drop_block_gaps(stripped))
    if walker.too_deep:  # get_text joins the deep subtree's strings, gaps included
        walker = _walk(stripped)
    meta, h1 = walker.meta, walker.h1
    title = walker.title or meta.get("og:title") or cleaneval_title
    blocks = walker.blocks
    for block in blocks:
        block.value = _block_value(block)
    chosen = _choose(blocks, walker.depth_of)
    if chosen is None:
        return HtmlParts([], title=clean_line(title) if title else None, h1=h1, meta=meta)
    first = next(i for i, b in enumerate(blocks) if chosen in b.path)
    inside = [b for b in blocks if chosen in b.path]
    inside = _first_listing_item(inside, chosen, walker.shape) or inside
    paragraphs = [b.text for b in inside if b.link_chars <= b.chars * _LINK_HEAVY]
    before = [b.text for b in blocks[max(0, first - 30):first]]
    return HtmlParts(paragraphs, title=clean_line(title) if title else None, h1=h1,
                     before=before, meta=meta)
