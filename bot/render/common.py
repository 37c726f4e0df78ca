"""What every renderer shares: how a headline, a source and a refusal read, in any target.

Targets: ``render.telegram`` (HTML within Telegram's limits), ``render.terminal`` (plain text, optional
colour) and ``render.json`` (data for scripts). Each has one article renderer; every user-facing string
comes from ``bot.messages``.
"""

from __future__ import annotations

import unicodedata

from retrieval.compose import EMPTY, FOCUS_MISSING, OUT_OF_RANGE, WRONG_TIME, Answer, Passage, Source

from .. import messages as msg

__all__ = ["ANSWER", "TERM", "headline_of", "marks", "not_found_text", "safe_cut", "short", "source_parts"]

TERM, ANSWER = "term", "answer"  # what a marked stretch of a quote is: the question's words, or the answer


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
    ref = f"#{source.article_id}"
    if source.external_id:
        ref += f" ({source.external_id})"
    parts.append(ref)
    return parts


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
