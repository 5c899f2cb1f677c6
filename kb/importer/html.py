"""Reading HTML pages: structure from the tags, site chrome dropped, then the junk-line rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from html.parser import HTMLParser

from kb.importer.assemble import build_article
from kb.importer.blocks import Block, Blocks, ImportedArticle
from kb.importer.rules import clean, parse_date

_DROP_TAGS = frozenset(
    "nav header footer aside form script style noscript template svg button iframe select".split()
)
_DROP_ROLES = frozenset("navigation search banner contentinfo complementary".split())
_VOID_TAGS = frozenset("area base br col embed hr img input link meta source track wbr".split())
_BLOCK_TAGS = frozenset(
    "p li div section article main blockquote ul ol dl dt dd table tr td th pre figure"
    " figcaption body h1 h2 h3 h4 h5 h6 hr".split()
)
_HEADING_TAGS = {f"h{n}": n for n in range(1, 7)}


class _Node:
    """An element of a parsed page; children are nodes or text strings."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: _Node | None = None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[_Node | str] = []

    def iter(self) -> Iterator[_Node]:
        yield self
        for child in self.children:
            if isinstance(child, _Node):
                yield from child.iter()

    def find(self, test: Callable[[_Node], bool]) -> _Node | None:
        return next((n for n in self.iter() if test(n)), None)

    def text(self) -> str:
        parts = (c if isinstance(c, str) else c.text() for c in self.children)
        return " ".join(" ".join(parts).split())


class _TreeBuilder(HTMLParser):
    """A forgiving DOM: unclosed <p> and <li> close themselves, stray end tags are ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS and self._open("p", stop={"div", "section", "article", "td"}):
            self._close("p")
        if tag == "li" and self._open("li", stop={"ul", "ol"}):
            self._close("li")
        node = _Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in _VOID_TAGS:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)

    def handle_endtag(self, tag: str) -> None:
        if self._open(tag):
            self._close(tag)

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)

    def _open(self, tag: str, stop: set[str] = frozenset()) -> bool:
        node = self.current
        while node is not None and node.tag not in stop:
            if node.tag == tag:
                return True
            node = node.parent
        return False

    def _close(self, tag: str) -> None:
        while self.current.tag != tag and self.current.parent is not None:
            self.current = self.current.parent
        self.current = self.current.parent or self.root


def _main_node(root: _Node) -> _Node:
    """Where the article is: role=main, <main>, <article>, then <body> (as RTD's parser)."""
    for test in (
        lambda n: n.attrs.get("role") == "main",
        lambda n: n.tag == "main",
        lambda n: n.tag == "article",
        lambda n: n.tag == "body",
    ):
        node = root.find(test)
        if node is not None:
            return node
    return root


def _is_chrome(node: _Node, keep: _Node | None) -> bool:
    if node.tag not in _DROP_TAGS and node.attrs.get("role") not in _DROP_ROLES:
        return False
    # An article's own <header> holds its <h1>; dropping it would lose the title.
    return not (node.tag == "header" and keep is not None and keep in node.iter())


def _html_blocks(node: _Node, title_node: _Node | None) -> Blocks:
    blocks: Blocks = []
    buffer: list[str] = []

    def flush() -> None:
        text = " ".join(" ".join(buffer).split())
        buffer.clear()
        if text:
            blocks.append(Block("paragraph", text))

    def walk(current: _Node) -> None:
        for child in current.children:
            if isinstance(child, str):
                buffer.append(child)
            elif child is title_node or _is_chrome(child, title_node):
                continue
            elif child.tag in _HEADING_TAGS:
                flush()
                blocks.append(Block("heading", child.text(), max(2, _HEADING_TAGS[child.tag])))
            elif child.tag in _BLOCK_TAGS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)

    walk(node)
    flush()
    return [b for b in blocks if b.text]


def _meta(root: _Node, *names: str) -> str:
    for node in root.iter():
        if node.tag == "meta" and (node.attrs.get("name") or node.attrs.get("property")) in names:
            return node.attrs.get("content", "").strip()
    return ""


def _html_published(root: _Node, main: _Node) -> date | None:
    stamp = _meta(root, "article:published_time", "date")
    if not stamp:
        time = main.find(lambda n: n.tag == "time" and "datetime" in n.attrs)
        stamp = time.attrs["datetime"] if time else ""
    return parse_date(stamp[:10]) if stamp else None


def import_html(html: str, source: str, slug: str | None = None) -> ImportedArticle:
    """Import an HTML page: the main content without chrome, h1 as title, h2-h6 as headings."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    root = builder.root
    main = _main_node(root)
    h1 = main.find(lambda n: n.tag == "h1") or root.find(lambda n: n.tag == "h1")
    title = h1.text() if h1 else ""
    if not title:
        head_title = root.find(lambda n: n.tag == "title")
        title = head_title.text() if head_title else ""
    blocks = clean(_html_blocks(main, h1), "html")
    description = _meta(root, "description", "og:description")
    return build_article(
        blocks,
        source,
        title=title or None,
        summary=description or None,
        published=_html_published(root, main),
        slug=slug,
        url=_meta(root, "og:url") or None,
    )
