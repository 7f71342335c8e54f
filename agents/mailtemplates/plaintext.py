"""The plain-text part of an email, generated from its HTML with BeautifulSoup."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

_BLOCKS = {
    "p", "div", "table", "tbody", "thead", "tr", "td", "th", "ul", "ol", "blockquote", "pre",
    "section", "article", "center",
}  # fmt: skip
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_SKIP = {"head", "style", "script", "title", "img"}


class _TextWriter:
    """Blocks of text; list items follow each other line by line, other blocks a blank line apart."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, str]] = []
        self.line: list[str] = []

    def word(self, text: str) -> None:
        self.line.append(text)

    def block(self, text: str, kind: str = "") -> None:
        self.flush()
        self.blocks.append((text, kind))

    def flush(self, kind: str = "") -> None:
        text = re.sub(r"[ \t]+", " ", "".join(self.line))
        text = "\n".join(part.strip() for part in text.split("\n")).strip()
        if text and text not in ("-", "1."):
            self.blocks.append((text, kind))
        self.line = []

    def result(self) -> str:
        self.flush()
        out = ""
        for i, (text, kind) in enumerate(self.blocks):
            if i:
                out += "\n" if kind == "li" and self.blocks[i - 1][1] == "li" else "\n\n"
            out += text
        return out + "\n"


def _hidden(tag: Tag) -> bool:
    style = (tag.get("style") or "").replace(" ", "").lower()
    return "display:none" in style


def _is_button(tag: Tag) -> bool:
    cell = tag.find_parent("td", class_="nh-button")
    return cell is not None


def _inline_text(tag: Tag) -> str:
    return re.sub(r"\s+", " ", tag.get_text(" ")).strip()


def _walk(node: Tag, out: _TextWriter, list_kind: str = "") -> None:
    number = 0
    for child in node.children:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            out.word(re.sub(r"\s+", " ", str(child)))
            continue
        if not isinstance(child, Tag) or child.name in _SKIP or _hidden(child):
            continue
        name = child.name
        if name == "br":
            out.word("\n")
        elif name == "a":
            _link(child, out)
        elif name in _HEADINGS:
            out.flush()
            title = _inline_text(child)
            if title:
                # No underline: its length would no longer match once placeholders are filled.
                out.block(title)
        elif name == "li":
            number += 1
            out.flush()
            out.word(f"{number}. " if list_kind == "ol" else "- ")
            _walk(child, out)
            out.flush("li")
        elif name == "hr":
            out.block("-" * 20)
        elif name in _BLOCKS:
            out.flush()
            _walk(child, out, list_kind=name if name in ("ul", "ol") else "")
            out.flush()
        else:
            _walk(child, out)


def _link(tag: Tag, out: _TextWriter) -> None:
    label, href = _inline_text(tag), (tag.get("href") or "").strip()
    if _is_button(tag):
        out.block(f"{label}: {href}" if href else label)
    elif not href or href == label or not label:
        out.word(label or href)
    else:
        out.word(f"{label} ({href.removeprefix('mailto:')})")


def html_to_text(html: str) -> str:
    """The plain-text part of an email: headings and paragraphs a blank line apart, list items
    with a dash or number, links as ``text (url)`` and the button as ``label: url``; hidden
    preview text, styles and images left out."""
    soup = BeautifulSoup(html, "html.parser")
    out = _TextWriter()
    _walk(soup.body or soup, out)
    return out.result()
