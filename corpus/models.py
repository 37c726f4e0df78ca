"""The values that cross the corpus boundary: parsed and stored articles, paragraphs, ingest reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

#: Paragraph kinds, in the order a reader meets them.
GUIDE = "guide"  # reading-guide box (阅读提示)
SUBHEAD = "subhead"  # in-article sub-head (小标题)
BODY = "body"
PARAGRAPH_KINDS = (GUIDE, SUBHEAD, BODY)


DEFAULT_TZ = ZoneInfo("Asia/Shanghai")  # the archive's time zone unless configured (NEWSBOT_TIMEZONE)


def article_day(date: str | None, ingested_at: str, tz: dt.tzinfo) -> str:
    """The one rule for the day an article counts on (in digests, date filters, trends, sources): its
    date, else the day it was ingested in the archive's time zone. The store applies it when it writes."""
    return date or dt.datetime.fromisoformat(ingested_at).astimezone(tz).date().isoformat()


@dataclass(frozen=True, slots=True)
class ParsedParagraph:
    """One unit of an article's running text before it is stored."""

    kind: str
    text: str


@dataclass(frozen=True)
class ParsedArticle:
    """An article as reconstructed from a file, before it is stored.

    ``kicker`` and ``subtitle`` may hold several lines joined with a newline (a column label and an
    overline, or two sub-titles). ``jumps`` keeps the jump markers (转第X版, 上接第X版) removed from the text.
    """

    headline: str
    paragraphs: tuple[ParsedParagraph, ...] = ()
    kicker: str = ""
    subtitle: str = ""
    byline: str = ""
    guide_label: str = ""
    external_id: str | None = None
    date: str | None = None
    source: str | None = None
    page: str | None = None
    url: str | None = None
    author: str | None = None
    jumps: tuple[str, ...] = ()
    headline_derived: bool = False  # no title of its own: the headline is its first sentence

    def fields_text(self) -> str:
        """Every piece of text the article holds, for accounting that nothing was dropped."""
        parts = [self.kicker, self.headline, self.subtitle, self.byline, self.guide_label]
        parts += [p.text for p in self.paragraphs]
        parts += list(self.jumps)
        return "\n".join(parts)


@dataclass(frozen=True, kw_only=True)
class Paragraph:
    """A stored paragraph. ``ordinal`` is 1-based within its article, in reading order."""

    id: int
    article_id: int
    ordinal: int
    kind: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Article:
    """A stored article with its source metadata. ``paragraphs`` is filled only when asked for."""

    id: int
    headline: str
    kicker: str
    subtitle: str
    byline: str
    guide_label: str
    external_id: str | None
    date: str | None
    source: str | None
    page: str | None
    url: str | None
    author: str | None
    jumps: tuple[str, ...]
    file_id: int | None
    ingested_at: str
    day: str  # the day it counts on: its date, else the day it was ingested (``article_day``)
    headline_derived: bool = False  # no title of its own: the headline is its first sentence
    paragraphs: tuple[Paragraph, ...] = ()


@dataclass(frozen=True)
class FileProblem:
    """Something wrong with one file or one line of it; ``line`` is 1-based when known."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class FileResult:
    """What ingesting one file did."""

    path: str
    status: str  # "added", "replaced", "unchanged", "skipped", "failed"
    articles: int = 0
    paragraphs: int = 0
    problems: tuple[FileProblem, ...] = ()


@dataclass
class IngestReport:
    """The summary of an ingest run over many files."""

    results: list[FileResult] = field(default_factory=list)

    @property
    def files(self) -> int:
        return len(self.results)

    @property
    def articles(self) -> int:
        return sum(r.articles for r in self.results)

    @property
    def paragraphs(self) -> int:
        return sum(r.paragraphs for r in self.results)

    @property
    def problems(self) -> list[FileProblem]:
        return [p for r in self.results for p in r.problems]

    @property
    def failed(self) -> bool:
        """True when any file failed or was skipped, or any line of one was rejected."""
        return any(r.status in ("failed", "skipped") or r.problems for r in self.results)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)
