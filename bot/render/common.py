"""What every renderer shares: how a headline, a source and a refusal read, in any target.

Targets: ``render.telegram`` (HTML within Telegram's limits), ``render.terminal`` (plain text, optional
colour) and ``render.json`` (data for scripts). Each has one article renderer; every user-facing string
comes from ``bot.messages``.
"""

from __future__ import annotations

import math
import unicodedata

from retrieval.compose import EMPTY, FOCUS_MISSING, OUT_OF_RANGE, WRONG_TIME, Answer, Passage, Source
from retrieval.timeline import NO_WORDS, KeyPassage, Period, Timeline

from .. import messages as msg

__all__ = [
    "ANSWER",
    "TERM",
    "headline_of",
    "marks",
    "month_lines",
    "not_found_text",
    "passage_parts",
    "period_label",
    "safe_cut",
    "short",
    "source_parts",
    "timeline_refusal",
]

TERM, ANSWER = "term", "answer"  # what a marked stretch of a quote is: the question's words, or the answer
_SPARKS = "▁▂▃▄▅▆▇█"


def headline_of(headline: str, derived: bool = False) -> str:
    """A headline as shown: an untitled article's first sentence marked as such, no headline as 无标题."""
    if not headline:
        return msg.NO_TITLE
    return msg.DERIVED_TITLE.format(headline=headline) if derived else headline


def marks(passage: Passage) -> list[tuple[int, int, str]]:
    """The stretches of a quote to mark, in order and not overlapping: the short answer (``ANSWER``), and
    the question's words (``TERM``) outside it."""
    answer = passage.answer_span
    out: list[tuple[int, int, str]] = []
    for start, end in passage.highlights:
        if answer and start < answer[1] and answer[0] < end:  # keep what lies outside the answer
            if start < answer[0]:
                out.append((start, answer[0], TERM))
            if answer[1] < end:
                out.append((answer[1], end, TERM))
        else:
            out.append((start, end, TERM))
    if answer:
        out.append((answer[0], answer[1], ANSWER))
    return sorted(out)


def source_parts(source: Source) -> list[str]:
    """Where a passage comes from, piece by piece (date first): the headline, then the rest."""
    parts = [source.date, headline_of(source.headline, source.headline_derived)]
    if source.publication:
        parts.append(source.publication)
    if source.page:
        parts.append(msg.SOURCE_PAGE.format(page=source.page))
    parts.append(msg.SOURCE_PARAGRAPH.format(n=source.paragraph))
    parts.append(_ref(source.article_id, source.external_id))
    return parts


def _ref(article_id: int, external_id: str | None) -> str:
    return f"#{article_id}" + (f" ({external_id})" if external_id else "")


def safe_cut(text: str, at: int) -> int:
    """A cut position at or before ``at`` that does not split a surrogate-free grapheme: not before a
    combining mark, a variation selector, a zero-width joiner or the character after a joiner."""
    at = min(at, len(text))
    while 0 < at < len(text):
        here, before = text[at], text[at - 1]
        if unicodedata.combining(here) or here in "\u200d\ufe0e\ufe0f" or before == "\u200d":
            at -= 1
            continue
        if "\U0001f3fb" <= here <= "\U0001f3ff":  # skin-tone modifier belongs to the emoji before it
            at -= 1
            continue
        break
    return at


def short(question: str, limit: int = 60) -> str:
    question = " ".join(question.split())
    return question if len(question) <= limit else question[: safe_cut(question, limit)] + "…"


def not_found_text(answer: Answer) -> str:
    """Why nothing is quoted, in words a reader can act on, with what the archive has instead."""
    if answer.reason == EMPTY:
        return msg.NOT_FOUND_EMPTY.format(example=msg.EXAMPLE_QUESTION)
    question = short(answer.question)
    suggest = msg.NOT_FOUND_SUGGEST
    if answer.reason == OUT_OF_RANGE and answer.archive:
        first, last = answer.archive
        lines = [
            msg.NOT_FOUND_OUT_OF_RANGE.format(first=first, last=last, period=answer.period, question=question)
        ]
        suggest = msg.NOT_FOUND_RELATED
    elif answer.reason == WRONG_TIME and answer.period:
        lines = [msg.NOT_FOUND_WRONG_TIME.format(period=answer.period, question=question)]
        suggest = msg.NOT_FOUND_RELATED
    elif answer.reason == FOCUS_MISSING and answer.focus:
        lines = [msg.NOT_FOUND_FOCUS.format(focus="、".join(answer.focus), question=question)]
        suggest = msg.NOT_FOUND_RELATED
    else:
        lines = [msg.NOT_FOUND.format(question=question)]
    if answer.understood:
        lines.insert(1, msg.UNDERSTOOD.format(question=short(answer.understood)))
    if answer.suggestions:
        lines.append(suggest + "、".join(f"「{s}」" for s in answer.suggestions))
    lines.append(msg.NOT_FOUND_HINT)
    return "\n".join(lines)


# --- timelines --------------------------------------------------------------------------------------


def timeline_refusal(timeline: Timeline) -> str:
    """Why a timeline has nothing to show: no keyword, nothing to search for in it, or no mention."""
    keyword = short(timeline.keyword, 30)
    if not keyword:
        return msg.TIMELINE_USAGE
    return (msg.TIMELINE_NO_WORDS if timeline.reason == NO_WORDS else msg.TIMELINE_NONE).format(
        keyword=keyword
    )


def month_lines(timeline: Timeline) -> list[str]:
    """A line per year: a bar per month (· for none, blank outside the mentions) and the year's total."""
    peak = timeline.peak.articles if timeline.peak else 0
    years: dict[str, list[str]] = {}
    totals: dict[str, int] = {}
    for m in timeline.months:
        year, month = m.month[:4], int(m.month[5:7])
        cells = years.setdefault(year, [" "] * 12)
        cells[month - 1] = _SPARKS[math.ceil(m.articles * len(_SPARKS) / peak) - 1] if m.articles else "·"
        totals[year] = totals.get(year, 0) + m.articles
    width = len(str(max(totals.values(), default=0)))
    return [f"{year} {''.join(cells)} {totals[year]:>{width}}" for year, cells in years.items()]


def period_label(n: int, period: Period) -> str:
    """「1. 2022-06 至 2022-07 · 16 篇」"""
    months = (
        period.first_month
        if period.first_month == period.last_month
        else msg.TIMELINE_MONTH_RANGE.format(first=period.first_month, last=period.last_month)
    )
    return msg.TIMELINE_PERIOD.format(n=n, months=months, count=period.articles)


def passage_parts(passage: KeyPassage) -> list[str]:
    """Where a key passage comes from: its day (marked when the article gives none), headline, paragraph, id."""
    day = passage.day if passage.dated else msg.TIMELINE_UNDATED.format(day=passage.day)
    return [
        day,
        headline_of(passage.headline, passage.headline_derived),
        msg.SOURCE_PARAGRAPH.format(n=passage.paragraph),
        _ref(passage.article_id, passage.external_id),
    ]
