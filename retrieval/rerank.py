"""Second stage: re-order BM25's top paragraphs by how well one sentence answers the question, and when.

BM25 scores a paragraph as a bag of words; a question is usually answered by one sentence that holds most
of its informative words together, in an article of the right date. For the top ``depth`` paragraphs
(BM25 scores unchanged and exact):

    final = bm25 / bm25_of_the_first
            + COVERAGE_WEIGHT * (IDF share of the question's words that the best sentence, or the titles, hold)
            + TITLE_WEIGHT * (1 if the headline's core names the question's subject, i.e. appears in it)
            + TIME_WEIGHT * (1 if the article's date fits a time the question names, or the paragraph
                             spells that time out)
            + RECENCY_WEIGHT * (how new the article is among the candidates, 0 to 1; only when the question
                                names no definite period, and doubled when it asks for the latest)

On cmrc2018-train the first three raised Recall@1 from 0.956 to 0.964 (weights tuned on half of the
questions, 0.958 on the other half; README). The time weights were chosen on half of the news dev set
(README). Paragraphs below ``depth`` keep their BM25 order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from .hits import Hit
from .lexicon import NUMBER
from .question import Question, said, says
from .timeexpr import HALF, QUARTER, YEAR
from .tokenize import Tokenizer

__all__ = ["rerank"]

COVERAGE_WEIGHT = 0.7
TITLE_WEIGHT = 0.5
TIME_WEIGHT = 0.6
RECENCY_WEIGHT = 0.1
SINGLE_CHAR_WEIGHT = 0.5
DEPTH = 60
_SENTENCE = re.compile(
    r"[^。!?;]*(?:[。!?;]+[”’」』)\"'》〉】]*|$)"
)  # on normalised text: ！？； are !?; by then
_TRAILING_NOTE = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")
_YEAR = re.compile(r"((?:19|20)\d{2})年")


def rerank(
    question: Question, hits: Sequence[Hit], tokenizer: Tokenizer, idf: Callable[[str], float]
) -> list[Hit]:
    """``hits`` re-ordered (and re-ranked 1..n); BM25 scores stay on the hits."""
    if len(hits) < 2:
        return list(hits)
    head, tail = list(hits[:DEPTH]), list(hits[DEPTH:])
    asked = question.normalized
    words = [w for w in question.content_words if idf(w) > 0]
    # A one-character word is found inside longer ones (打 in 打击): it counts for less.
    weights = {w: idf(w) * (SINGLE_CHAR_WEIGHT if len(w) == 1 else 1.0) for w in words}
    total = sum(weights.values())
    # A word inside a name the question says counts where the text says the name's other form.
    forms = {w: alternatives for w in weights if (alternatives := question.alternatives(w))}
    top = max(h.score for h in head) or 1.0
    recency = _recency(question, head)
    scored = []
    normalized = tokenizer.normalize_many(
        [h.article.headline for h in head] + [h.paragraph.text for h in head]
    )
    for position, hit in enumerate(head):
        title, text = normalized[position], normalized[len(head) + position]
        cover = _best_sentence_share(text, title, weights, total, forms)
        core = _TRAILING_NOTE.sub("", title)
        named = len(core) >= 2 and core in asked
        final = (
            hit.score / top
            + COVERAGE_WEIGHT * cover
            + TITLE_WEIGHT * named
            + TIME_WEIGHT * _time_fit(question, hit.article.date, text + title)
            + recency.get(hit.article.date or "", 0.0)
        )
        scored.append((-final, position, hit))
    scored.sort()
    ordered = [hit for _, _, hit in scored] + tail
    return [replace(hit, rank=i) for i, hit in enumerate(ordered, start=1)]


def _time_fit(question: Question, date: str | None, text: str) -> float:
    """How well an article of ``date`` whose paragraph reads ``text`` fits the times the question names:
    1 when the paragraph names the period (2023年…) or the date fits, half when the date fits but the
    paragraph names only other years (a March report on last year's figures), or when a figure for a
    quarter or half year is asked for and the article came before that period ended; 0 otherwise."""
    if not question.times:
        return 0.0
    # A year's figures may be published the next spring: a paragraph that names the year fits. A month or
    # a quarter must be named as the question names it (2025年 in a paragraph says nothing of its January).
    years = {str(y) for t in question.dated if t.grain == YEAR for y in range(t.start.year, t.end.year + 1)}
    if any(f"{y}年" in text for y in years) or any(not t.relative and t.text in text for t in question.times):
        return 1.0
    if not question.fits(date):
        return 0.0
    spelled = set(_YEAR.findall(text))
    if years and spelled and not spelled & years:
        return 0.5
    if date and question.kind == NUMBER:
        day = dt.date.fromisoformat(date)
        if any(t.grain in (QUARTER, HALF) and t.start <= day <= t.end for t in question.dated):
            return 0.5
    return 1.0


def _recency(question: Question, hits: Sequence[Hit]) -> dict[str, float]:
    """The recency bonus per article date: newest of the candidates ``RECENCY_WEIGHT``, oldest 0."""
    if question.dated and not question.latest:
        return {}
    days = sorted({h.article.date for h in hits if h.article.date})
    if len(days) < 2:
        return {}
    first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
    spread = (last - first).days or 1
    weight = RECENCY_WEIGHT * (2 if question.latest else 1)
    return {d: weight * (dt.date.fromisoformat(d) - first).days / spread for d in days}


def _best_sentence_share(
    text: str, title: str, weights: dict[str, float], total: float, forms: dict[str, tuple[str, ...]]
) -> float:
    if not total:
        return 0.0

    in_title = said(title, weights, forms)
    present = said(text, weights, forms) | in_title
    if not present:
        return 0.0
    best = sum(weights[w] for w in in_title)
    for sentence in _SENTENCE.findall(text):
        if sentence:
            best = max(best, sum(weights[w] for w in present if w in in_title or says(sentence, w, forms)))
    return best / total
