"""Parsing article files: JSON Lines records, text/Markdown with front matter, and dates found in paths."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from .errors import FormatError
from .models import BODY, SUBHEAD, ParsedArticle, ParsedParagraph
from .pages import parse_page
from .text import CLAUSE_END, SENTENCE_END

__all__ = ["date_from_path", "normalize_date", "parse_jsonl_record", "parse_text_file"]

_OPTIONAL_KEYS = ("source", "page", "url", "author", "kicker", "subtitle")
_PATH_DATES = (
    re.compile(r"(?<!\d)((?:19|20)\d{2})[-_/.](\d{1,2})[-_/.](\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)"),
)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def date_from_path(path: str) -> str | None:
    """Find a date in folder or file names (2023-08-21, 20230821, 2023/08/21); the last one wins."""
    found: str | None = None
    best_end = -1
    for pattern in _PATH_DATES:
        for m in pattern.finditer(path):
            day = _valid_date(*(int(g) for g in m.groups()))
            if day and m.end() > best_end:
                found, best_end = day, m.end()
    return found


def normalize_date(value: Any, where: str) -> str | None:
    """Turn an ISO 8601 date or timestamp into YYYY-MM-DD (the publication's own calendar day).

    Raises:
        FormatError: the value is not an ISO 8601 date.
    """
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).isoformat()
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        m = re.fullmatch(r"((?:19|20)\d{2})(\d{2})(\d{2})", text)
        day = _valid_date(*(int(g) for g in m.groups())) if m else None
        if day:
            return day
        raise FormatError(f"{where}: date {text!r} is not an ISO 8601 date such as 2023-08-21") from None


def _valid_date(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_jsonl_record(line: str, where: str) -> ParsedArticle:
    """Parse one JSON Lines record into an article.

    Raises:
        FormatError: the line is not a JSON object with a title and a text (or paragraphs list).
    """
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:  # json.loads does not say JSONDecodeError for this one
        raise FormatError(f"{where}: JSON nested too deeply to read") from None
    if not isinstance(record, dict):
        raise FormatError(f"{where}: expected a JSON object with title and text, got {type(record).__name__}")
    return _article_from_mapping(record, where)


def _article_from_mapping(
    record: dict[str, Any], where: str, parsed: list[ParsedParagraph] | None = None
) -> ParsedArticle:
    title = record.get("title")
    if title is not None and not isinstance(title, str):
        raise FormatError(f"{where}: `title` is a {type(title).__name__}, expected text")
    if parsed is not None:
        paragraphs = parsed
    elif isinstance(record.get("paragraphs"), list):
        paragraphs = [ParsedParagraph(BODY, str(p).strip()) for p in record["paragraphs"] if str(p).strip()]
    elif isinstance(record.get("text"), str):
        paragraphs = [ParsedParagraph(BODY, p) for p in map(str.strip, record["text"].splitlines()) if p]
    else:
        raise FormatError(
            f"{where}: has no `text` (or `paragraphs` list); each article needs a title and a text"
        )
    if not any(p.kind == BODY for p in paragraphs):
        raise FormatError(f"{where}: `text` is empty")
    headline = " ".join(title.split()) if title else ""
    derived = not headline
    if derived:  # an untitled brief: its first sentence stands in for the title, marked as such
        headline = derived_title(next(p.text for p in paragraphs if p.kind == BODY))
    external_id = record.get("id")
    extra = {k: _text_or_none(record.get(k)) for k in _OPTIONAL_KEYS}
    return ParsedArticle(
        headline=headline,
        paragraphs=tuple(paragraphs),
        kicker=extra["kicker"] or "",
        subtitle=extra["subtitle"] or "",
        external_id=None if external_id in (None, "") else str(external_id),
        date=normalize_date(record.get("date"), where),
        source=extra["source"],
        page=extra["page"],
        url=extra["url"],
        author=extra["author"],
        headline_derived=derived,
    )


_SENTENCE_END = re.compile(f"[{SENTENCE_END}{CLAUSE_END}]")
DERIVED_TITLE_CHARS = 30


def derived_title(text: str) -> str:
    """A title for an untitled article: its first sentence, at most ``DERIVED_TITLE_CHARS`` characters."""
    first = " ".join(text.split())
    end = _SENTENCE_END.search(first)
    sentence = first[: end.start()] if end and end.start() > 0 else first
    return sentence if len(sentence) <= DERIVED_TITLE_CHARS else sentence[: DERIVED_TITLE_CHARS - 1] + "…"


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_text_file(text: str, path: str) -> tuple[list[ParsedArticle], str]:
    """Parse a text file: front matter makes it one article, otherwise it is a newspaper page dump.

    A Markdown file without front matter is one article titled by its first ``#`` heading.
    Returns the articles and the format name ("front-matter", "markdown" or "page").
    """
    m = _FRONT_MATTER.match(text)
    is_markdown = path.lower().endswith((".md", ".markdown"))
    if m:
        meta = _parse_front_matter(m.group(1), path)
        title, paragraphs = _markdown_paragraphs(text[m.end() :], markdown=is_markdown)
        meta.setdefault("title", title or "")
        return [_article_from_mapping(meta, path, paragraphs)], "front-matter"
    if is_markdown:
        title, paragraphs = _markdown_paragraphs(text, markdown=True)
        if title:
            return [_article_from_mapping({"title": title}, path, paragraphs)], "markdown"
    return parse_page(text), "page"


def _parse_front_matter(block: str, path: str) -> dict[str, Any]:
    """Read the simple ``key: value`` front matter we document (a YAML subset, no nesting)."""
    meta: dict[str, Any] = {}
    for n, raw in enumerate(block.splitlines(), start=2):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise FormatError(f"{path}:{n}: front matter line {line!r} is not `key: value`")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        meta[key.strip().lower()] = value
    return meta


def _markdown_paragraphs(body: str, markdown: bool) -> tuple[str | None, list[ParsedParagraph]]:
    """Split a body into paragraphs at blank lines; in Markdown the first ``#`` heading is the title
    and later headings are sub-heads."""
    title: str | None = None
    paragraphs: list[ParsedParagraph] = []
    block: list[str] = []

    def flush() -> None:
        if block:
            paragraphs.append(ParsedParagraph(BODY, _join_lines(block)))
            block.clear()

    for raw in body.splitlines():
        line = raw.strip()
        heading = _MD_HEADING.match(line) if markdown else None
        if heading:
            flush()
            if title is None and len(heading.group(1)) == 1:
                title = heading.group(2)
            else:
                paragraphs.append(ParsedParagraph(SUBHEAD, heading.group(2)))
        elif not line:
            flush()
        else:
            block.append(line)
    flush()
    return title, paragraphs


def _join_lines(lines: list[str]) -> str:
    out = lines[0]
    for line in lines[1:]:
        # Wrapped Chinese text joins without a space; wrapped Latin text keeps one.
        out += (" " if out[-1].isascii() and line[0].isascii() else "") + line
    return out
