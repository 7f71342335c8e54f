"""A run's input as a person reads it, and a written text as a file to download.

What an output *means* is the agents' business (``runs.hooks.result_view``); the input is a
plain object whose field names are enough to label it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import format_html, linebreaks
from django.utils.safestring import mark_safe
from django.utils.text import slugify

from neonhub.core.markup import markdown_html
from runs.hooks import ResultText

CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
ISO_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
FORMATS = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


@dataclass(frozen=True)
class Field:
    label: str
    text: str
    code: bool = False  # a nested value, shown as compact JSON


def label_of(name: str) -> str:
    """``primaryKeyword`` / ``from_`` / ``content_sid`` as words: "Primary keyword"."""
    words = CAMEL_RE.sub(" ", str(name)).replace("_", " ").replace("-", " ").split()
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:] if text else str(name)


def _scalar(value: Any) -> str | None:
    """A plain value as words; a time with its offset in the page's timezone; else None."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        return _moment(value) or value
    if isinstance(value, int | float):
        return str(value)
    return None


def _moment(text: str) -> str | None:
    """An ISO 8601 time with an offset (``publishAt``) as the organization reads times."""
    if not ISO_TIME_RE.match(text):
        return None
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return date_format(timezone.localtime(moment), "D j M Y, H:i T")


def _value(value: Any) -> tuple[str, bool]:
    if value is None or value == "" or value == [] or value == {}:
        return "—", False
    text = _scalar(value)
    if text is not None:
        return text, False
    if isinstance(value, list) and all(_scalar(v) is not None for v in value):
        return ", ".join(_scalar(v) for v in value), False
    if isinstance(value, dict) and all(v is None or _scalar(v) is not None for v in value.values()):
        # A small object of options ({"subreddit": "r/x"}): "Subreddit: r/x", one per line.
        lines = (
            f"{label_of(k)}: {'—' if v in (None, '') else _scalar(v)}" for k, v in value.items()
        )
        return "\n".join(lines), False
    return json.dumps(value, ensure_ascii=False, default=str), True


def input_fields(payload: Any) -> list[Field]:
    """One labelled field per top-level key of the input; nothing when it is not an object."""
    if not isinstance(payload, dict):
        return []
    fields = []
    for name, value in payload.items():
        text, code = _value(value)
        fields.append(Field(label=label_of(name), text=text, code=code))
    return fields


def download_name(written: ResultText, *, run_id: Any, fmt: str) -> str:
    stem = slugify(written.title)[:60].strip("-") or "result"
    return f"{stem}-{str(run_id)[:8]}.{fmt}"


def document(written: ResultText, fmt: str) -> str:
    """The text as a Markdown file, or as a small standalone HTML page (sanitised)."""
    if fmt == "md":
        return written.text
    body = (
        markdown_html(written.text)
        if written.markdown
        else linebreaks(written.text, autoescape=True)
    )
    return format_html(
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>{}</title>\n</head>\n<body>\n{}\n</body>\n</html>\n",
        written.title,
        mark_safe(body),  # noqa: S308 - sanitised by markdown_html, escaped by linebreaks
    )
