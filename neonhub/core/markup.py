"""Markdown written by a model, a person or the built-in writer, shown as safe HTML.

markdown-it-py parses CommonMark (with tables and strikethrough); its own HTML pass-through is
off, and nh3 (ammonia) then keeps only the tags and attributes an article needs, so neither a
model's output nor a pasted draft can put a script, a style or an event handler on a page.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def markdown_html(text: str) -> str:
    """``text`` (Markdown) as sanitised HTML: safe to mark safe in a template."""
    return sanitize_html(_md.render(text or ""))


def sanitize_html(html: str) -> str:
    """Any HTML reduced to the article tags above; links open without access to this page."""
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES)


def markdown_text(text: str) -> str:
    """Markdown as plain text for channels that show no formatting (a social post, an SMS):
    headings, lists and emphasis lose their marks, paragraphs stay apart, links keep their
    words.  Built from the same parse as ``markdown_html``, so the two agree."""
    from bs4 import BeautifulSoup  # only this path needs it

    soup = BeautifulSoup(_md.render(text or ""), "html.parser")
    for item in soup.find_all("li"):
        item.insert(0, "• ")
    blocks = soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote"])
    lines = []
    for block in blocks:
        if block.find_parent(["li", "blockquote"]) and block.name == "p":
            continue  # a list item's or a quote's own paragraph: taken with its parent
        words = " ".join(block.get_text().split())
        if words:
            lines.append(words)
    return "\n\n".join(lines)
