"""A topic's timeline: when the archive first and last mentions a keyword, how often per month, and one key
passage per active period.

1. **Mentions**: an article mentions the keyword when one of its paragraphs (with its titles) holds every
   search term of the keyword asked like a question (``parse_question(..., times=False)``: 五一 is a subject
   here, not a date) — the same count as /trend, ``SearchIndex.articles_per_day``. Articles count on their
   day (an undated one on the day it was ingested); days after ``until`` do not count.
2. **Months**: every month from the first mention to the last, months without one included.
3. **Active periods** are bursts: runs of consecutive months with at least the average monthly count over
   the whole span. A run longer than ``MAX_PERIOD_MONTHS`` (a topic mentioned all the time) is read the same
   way against its own average, so a plateau shows its own peaks; a flat one is cut into chunks. The
   busiest ``MAX_PERIODS`` are kept, in chronological order.
4. **Key passage** of a period: the best-ranked paragraph of its busiest month (the launch, not the
   countdown to it; else of the whole period) that passes the answers' relevance test
   (``compose.relevant_hits``), else the best-ranked one holding every term; quoted by its key sentence
   (``compose.key_sentence``, weighted by the keyword's units, as digests choose theirs).

``active_periods`` and ``month_counts`` are pure; ``key_passage`` reads one search result;
``build_timeline`` asks the searcher for the counts and one ranking per period.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from corpus.text import CLAUSE_END, PAUSE, SENTENCE_END

from .compose import ComposeOptions, CorpusStats, key_sentence, question_units, relevant_hits
from .hits import SearchResult
from .index import Filters
from .question import Question
from .search import Searcher
from .tokenize import Tokenizer

__all__ = [
    "MAX_PERIODS",
    "MAX_PERIOD_MONTHS",
    "NOT_MENTIONED",
    "NO_WORDS",
    "KeyPassage",
    "MonthCount",
    "Period",
    "Timeline",
    "active_periods",
    "build_timeline",
    "key_passage",
    "month_counts",
]

#: Why a timeline is empty (``Timeline.reason``).
NO_WORDS = "no_words"  # the keyword holds nothing to search for (empty, punctuation, function words)
NOT_MENTIONED = "not_mentioned"  # no article holds it
MAX_PERIODS = 8  # periods one message shows: a story in one screen, each with its quote
MAX_PERIOD_MONTHS = 6  # a longer burst is read for its own peaks
QUOTE_CHARS = 100  # the key sentence's window, as in digests (a longer single sentence is clipped)
_PERIOD_HITS = 10  # paragraphs ranked per period to find a relevant one
_OPTIONS = ComposeOptions()
_CLAUSE = re.compile(f"[{SENTENCE_END}{CLAUSE_END}{PAUSE}]")


@dataclass(frozen=True, kw_only=True)
class MonthCount:
    month: str  # YYYY-MM
    articles: int


@dataclass(frozen=True, kw_only=True)
class KeyPassage:
    """The passage that tells a period's story, verbatim (trimmed at sentence ends with … marks)."""

    article_id: int
    external_id: str | None
    headline: str
    headline_derived: bool
    day: str  # the day the article counts on
    dated: bool  # False: the article gives no date, ``day`` is when it was ingested
    paragraph: int  # 1-based ordinal in the article
    quote: str


@dataclass(frozen=True, kw_only=True)
class Period:
    first_month: str  # YYYY-MM
    last_month: str
    peak_month: str  # the busiest month of the period (the earliest of equals): where its passage is from
    articles: int  # articles mentioning the keyword in these months
    passage: KeyPassage | None  # None only when no ranked paragraph of the period holds the keyword


@dataclass(frozen=True, kw_only=True)
class Timeline:
    keyword: str
    terms: tuple[str, ...]
    reason: str | None = None  # NO_WORDS, NOT_MENTIONED; None when there is a timeline
    first_day: str | None = None  # the first mention
    last_day: str | None = None  # the last mention
    articles: int = 0
    months: tuple[MonthCount, ...] = ()  # first to last month with a mention, quiet months included
    periods: tuple[Period, ...] = ()  # chronological
    active: int = 0  # active periods found, of which the busiest ``MAX_PERIODS`` are shown

    @property
    def found(self) -> bool:
        return self.reason is None

    @property
    def article_ids(self) -> tuple[int, ...]:
        return tuple(p.passage.article_id for p in self.periods if p.passage)

    @property
    def peak(self) -> MonthCount | None:
        """The busiest month (the earliest of equals)."""
        return max(self.months, key=lambda m: m.articles, default=None)


def month_counts(day_counts: Mapping[dt.date, int]) -> tuple[MonthCount, ...]:
    """Articles per month from the first month with any to the last, quiet months included."""
    days = [d for d, n in day_counts.items() if n > 0]
    if not days:
        return ()
    per_month: dict[tuple[int, int], int] = {}
    for day in days:
        per_month[(day.year, day.month)] = per_month.get((day.year, day.month), 0) + day_counts[day]
    (year, month), last = min(per_month), max(per_month)
    out = []
    while (year, month) <= last:
        out.append(MonthCount(month=f"{year:04d}-{month:02d}", articles=per_month.get((year, month), 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(out)


def active_periods(
    counts: Sequence[int], *, max_periods: int = MAX_PERIODS, max_months: int = MAX_PERIOD_MONTHS
) -> tuple[list[tuple[int, int]], int]:
    """The busiest ``max_periods`` bursts of a monthly series as (first, last) indices, chronological, and
    how many bursts there were in all."""
    bursts = _bursts(counts, 0, len(counts) - 1, max_months) if counts else []
    busiest = sorted(bursts, key=lambda r: (-sum(counts[r[0] : r[1] + 1]), r[0]))[:max_periods]
    return sorted(busiest), len(bursts)


def _bursts(counts: Sequence[int], lo: int, hi: int, max_months: int) -> list[tuple[int, int]]:
    """Runs of months in ``lo..hi`` with at least their average count; a long run read again on its own."""
    mean = sum(counts[lo : hi + 1]) / (hi - lo + 1)
    runs: list[tuple[int, int]] = []
    for i in range(lo, hi + 1):
        if counts[i] > 0 and counts[i] >= mean:
            if runs and runs[-1][1] == i - 1:
                runs[-1] = (runs[-1][0], i)
            else:
                runs.append((i, i))
    out: list[tuple[int, int]] = []
    for first, last in runs:
        if last - first < max_months:
            out.append((first, last))
        elif (first, last) == (lo, hi):  # every month alike: no peak to find, so chunks of equal length
            out += [(a, min(a + max_months - 1, last)) for a in range(first, last + 1, max_months)]
        else:
            out += _bursts(counts, first, last, max_months)
    return out


def key_passage(
    question: Question,
    result: SearchResult,
    tokenizer: Tokenizer,
    stats: CorpusStats,
    options: ComposeOptions = _OPTIONS,
    *,
    limit: int = QUOTE_CHARS,
) -> KeyPassage | None:
    """The best-ranked relevant paragraph of ``result`` (else the best-ranked holding every term), quoted by
    its key sentence; None when no paragraph holds the keyword."""
    hits = relevant_hits(question, result, tokenizer, stats, options)
    if not hits:
        hits = [h for h in result.hits if set(question.terms) <= set(h.matched)]
    if not hits:
        return None
    hit = hits[0]
    quote, _ = key_sentence(hit.paragraph.text, question_units(question, stats), tokenizer, limit)
    article = hit.article
    return KeyPassage(
        article_id=article.id,
        external_id=article.external_id,
        headline=article.headline,
        headline_derived=article.headline_derived,
        day=article.day,
        dated=article.date is not None,
        paragraph=hit.paragraph.ordinal,
        quote=_clip(quote, limit * 3 // 2),
    )


def _clip(quote: str, limit: int) -> str:
    """A single sentence longer than ``limit`` cut at its last clause end (or pause) within it."""
    if len(quote) <= limit:
        return quote
    cut = max((m.end() for m in _CLAUSE.finditer(quote, 0, limit)), default=0)
    return quote[: cut if cut > limit // 2 else limit].rstrip("…") + "…"


def build_timeline(
    question: Question,
    searcher: Searcher,
    *,
    until: dt.date | None = None,
    options: ComposeOptions = _OPTIONS,
    max_periods: int = MAX_PERIODS,
) -> Timeline:
    """The timeline of the keyword ``question`` (parsed with ``times=False``) up to ``until`` (inclusive)."""
    if not question.terms:
        return Timeline(keyword=question.text, terms=(), reason=NO_WORDS)
    index = searcher.index
    per_day = {dt.date.fromordinal(d): n for d, n in index.articles_per_day(question.terms).items()}
    if until is not None:
        per_day = {d: n for d, n in per_day.items() if d <= until}
    months = month_counts(per_day)
    if not months:
        return Timeline(keyword=question.text, terms=question.terms, reason=NOT_MENTIONED)

    def passage(first: MonthCount, last: MonthCount) -> KeyPassage | None:
        end = _month_end(last.month) if until is None else min(_month_end(last.month), until)
        result = searcher.search(
            question,
            _PERIOD_HITS,
            filters=Filters(periods=((_month_start(first.month), end),)),
            second_stage=False,
            contexts=False,
        )
        return key_passage(question, result, searcher.tokenizer, index, options)

    spans, active = active_periods([m.articles for m in months], max_periods=max_periods)
    periods = []
    for first, last in spans:
        within = months[first : last + 1]
        peak = max(within, key=lambda m: m.articles)
        periods.append(
            Period(
                first_month=within[0].month,
                last_month=within[-1].month,
                peak_month=peak.month,
                articles=sum(m.articles for m in within),
                passage=passage(peak, peak) or passage(within[0], within[-1]),
            )
        )
    return Timeline(
        keyword=question.text,
        terms=question.terms,
        first_day=min(per_day).isoformat(),
        last_day=max(per_day).isoformat(),
        articles=sum(per_day.values()),
        months=months,
        periods=tuple(periods),
        active=active,
    )


def _month_start(month: str) -> dt.date:
    return dt.date.fromisoformat(month + "-01")


def _month_end(month: str) -> dt.date:
    start = _month_start(month)
    following = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return following - dt.timedelta(days=1)
