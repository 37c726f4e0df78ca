"""The answer composer: from ranked paragraphs to quoted passages with sources, or an honest "not found".

``compose_answer`` is pure: a question, its search result and the corpus statistics in, an ``Answer`` out.

- **Relevance** is decided explicitly, not by BM25 magnitude (which grows with corpus size, and BM25 always
  returns something): the IDF-weighted share of the question's informative words that the best paragraph
  (with its article's titles) holds. Below ``min_coverage`` the answer says nothing relevant was found,
  with suggestions.
- **Sentences**: each passage quotes the window of consecutive sentences (at most ``window_chars``, a single
  longer sentence whole) that covers the most IDF weight of query terms; ties go to the denser window.
  The question type helps: 多少/几 prefers windows with numbers and units, 谁 person names, 哪里 places,
  什么时候 dates.
- **Passages**: near-identical paragraphs (reprints) are quoted once; the first page holds at most two
  passages of one article.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .search import Hit, SearchResult
from .sentences import split_sentences
from .tokenize import Tokenizer

__all__ = [
    "Answer",
    "ComposeOptions",
    "CorpusStats",
    "Passage",
    "Source",
    "compose_answer",
    "key_sentence",
    "question_type",
    "relevant_hits",
]

NUMBER, PERSON, PLACE, TIME = "number", "person", "place", "time"
_QUESTION_TYPES = (
    (TIME, re.compile(r"什么时候|何时|哪一?年|哪一?天|哪个月|几月|几号|几点|什么时间|多久以前|哪一?日")),
    (
        NUMBER,
        re.compile(r"多少|几[个位名次年天岁种项条家所期支场人元倍成]?|多大|多高|多长|多远|多重|多久|第几"),
    ),
    (PERSON, re.compile(r"谁|何人|哪位|哪一位|什么人")),
    (PLACE, re.compile(r"哪里|哪儿|何地|何处|什么地方|哪个(?:省|市|县|国家|城市|地区|乡|镇|村)|在哪")),
)
_NUMBER_UNIT = re.compile(
    r"\d+(?:\.\d+)?\s*(?:[万亿千百]?[余多]?(?:[个名人次元项期支场户家所条座台辆吨米倍岁年天小时分秒%％]|"
    r"平方|立方|公里|千米|万元|亿元|人次|场次|标准箱))|[一二三四五六七八九十百千万亿两]+[余多]?[个名人次项期支场户家所倍岁]"
)
_DATE = re.compile(r"\d{4}年|\d{1,2}月\d{1,2}[日号]|\d{1,2}月|今年|去年|明年|近日|日前|\d{4}-\d{2}-\d{2}")
_TAGS = {PERSON: ("nr",), PLACE: ("ns",), TIME: ("t",)}
_TYPE_BONUS = 0.5  # in units of the window's own term weight: enough to break near-ties, not to override


@dataclass(frozen=True)
class ComposeOptions:
    per_page: int = 3
    pages: int = 3
    window_chars: int = 160
    per_article_first_page: int = 2
    min_coverage: float = 0.5
    use_question_type: bool = True
    duplicate_similarity: float = 0.8


@dataclass(frozen=True)
class Source:
    """Where a passage comes from."""

    article_id: int
    external_id: str | None
    headline: str
    kicker: str
    subtitle: str
    date: str
    publication: str | None
    page: str | None
    url: str | None
    paragraph: int  # 1-based ordinal in the article ("第4段")
    paragraph_id: int


@dataclass(frozen=True)
class Passage:
    """A verbatim quote (trimmed only at sentence boundaries, with … marks) and what to highlight in it."""

    quote: str
    highlights: tuple[tuple[int, int], ...]  # spans of ``quote``, sorted, not overlapping
    source: Source
    score: float
    matched: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    passages: tuple[Passage, ...]
    per_page: int
    terms: tuple[str, ...]
    coverage: float
    reason: str | None = None  # "empty", "no_match" or "low_coverage" when not answered
    suggestions: tuple[str, ...] = ()

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.passages) / self.per_page)) if self.passages else 0

    def page(self, number: int) -> tuple[Passage, ...]:
        """Passages of page ``number`` (0-based)."""
        return self.passages[number * self.per_page : (number + 1) * self.per_page]


class CorpusStats(Protocol):
    """What the composer needs to know about the corpus (``SearchIndex`` provides it)."""

    def weight(self, term: str) -> float:
        """Inverse document frequency: high for rare terms and for terms the corpus lacks."""
        ...

    def df(self, term: str) -> int:
        """How many paragraphs hold the term."""
        ...


def question_type(question: str) -> str | None:
    """The kind of thing a question asks for: number, person, place, time, or None."""
    for kind, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            return kind
    return None


def compose_answer(
    question: str,
    result: SearchResult,
    tokenizer: Tokenizer,
    stats: CorpusStats,
    options: ComposeOptions = ComposeOptions(),
) -> Answer:
    """Compose the answer to ``question`` from its search ``result``."""
    weight = stats.weight
    informative = list(dict.fromkeys(tokenizer.question_words(question)))
    terms = tuple(result.terms)
    if not informative:
        return Answer(question, False, (), options.per_page, terms, 0.0, "empty")
    if not result.hits:
        suggestions = _suggest(informative, stats, [])
        return Answer(question, False, (), options.per_page, terms, 0.0, "no_match", suggestions)
    coverage = _coverage(informative, result.hits[0], tokenizer, stats)
    if coverage < options.min_coverage:
        suggestions = _suggest(informative, stats, result.hits)
        return Answer(question, False, (), options.per_page, terms, coverage, "low_coverage", suggestions)
    kind = question_type(question) if options.use_question_type else None
    # Later passages must pass the same test as the first: "more" should not mean "anything".
    relevant = [h for h in result.hits if _coverage(informative, h, tokenizer, stats) >= options.min_coverage]
    passages = _passages(relevant, terms, tokenizer, weight, kind, options)
    return Answer(question, True, tuple(passages), options.per_page, terms, coverage)


def relevant_hits(
    question: str, result: SearchResult, tokenizer: Tokenizer, stats: CorpusStats, min_coverage: float
) -> list[Hit]:
    """The hits that pass the relevance test answers use (keyword subscriptions filter with it too)."""
    informative = list(dict.fromkeys(tokenizer.question_words(question)))
    if not informative:
        return []
    return [h for h in result.hits if _coverage(informative, h, tokenizer, stats) >= min_coverage]


# --- relevance --------------------------------------------------------------------------------------


def _coverage(informative: Sequence[str], hit: Hit, tokenizer: Tokenizer, stats: CorpusStats) -> float:
    """IDF-weighted share of the question's informative words found in the paragraph or its titles."""
    a = hit.article
    haystack = tokenizer.normalize_cached("\n".join((a.kicker, a.headline, a.subtitle, hit.paragraph.text)))
    total = held = 0.0
    for word in informative:
        w = stats.weight(word)
        total += w
        if word in haystack:
            held += w
    return held / total if total else 0.0


def _suggest(informative: Sequence[str], stats: CorpusStats, hits: Sequence[Hit]) -> tuple[str, ...]:
    """What to try instead: the question's words the corpus knows, then headlines of the nearest hits."""
    out = [w for w in informative if len(w) > 1 and stats.df(w) > 0]
    for hit in hits[:3]:
        if hit.article.headline not in out:
            out.append(hit.article.headline)
    return tuple(out[:5])


# --- passages ---------------------------------------------------------------------------------------


def _passages(
    hits: Sequence[Hit],
    terms: Sequence[str],
    tokenizer: Tokenizer,
    weight: Callable[[str], float],
    kind: str | None,
    options: ComposeOptions,
) -> list[Passage]:
    wanted = options.per_page * options.pages
    chosen: list[Passage] = []
    fingerprints: list[set[str]] = []
    per_article: dict[int, int] = {}
    deferred: list[Passage] = []
    term_weights = {t: weight(t) for t in terms}
    for hit in hits:
        if len(chosen) >= wanted:
            break
        text = hit.paragraph.text
        norm = _Normalized(text, tokenizer)
        fingerprint = _bigrams(norm.text)
        if any(_jaccard(fingerprint, f) >= options.duplicate_similarity for f in fingerprints):
            continue  # a reprint of a paragraph already quoted
        fingerprints.append(fingerprint)
        passage = _passage(hit, norm, term_weights, tokenizer, kind, options)
        on_first_page = len(chosen) < options.per_page
        if on_first_page and per_article.get(hit.article.id, 0) >= options.per_article_first_page:
            deferred.append(passage)
            continue
        per_article[hit.article.id] = per_article.get(hit.article.id, 0) + 1
        chosen.append(passage)
        if len(chosen) == options.per_page:
            chosen.extend(deferred)
            deferred = []
    chosen.extend(deferred)
    return chosen[:wanted]


def _passage(
    hit: Hit,
    norm: _Normalized,
    term_weights: dict[str, float],
    tokenizer: Tokenizer,
    kind: str | None,
    options: ComposeOptions,
) -> Passage:
    text = hit.paragraph.text
    start, end = _best_window(text, norm, term_weights, tokenizer, kind, options.window_chars)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    quote = prefix + text[start:end].strip() + suffix
    inner_start = start + (len(text[start:end]) - len(text[start:end].lstrip()))
    spans = _highlights(norm, inner_start, start + len(text[start:end].rstrip()), term_weights)
    shift = len(prefix) - inner_start
    a = hit.article
    source = Source(
        a.id, a.external_id, a.headline, a.kicker, a.subtitle, a.day, a.source, a.page, a.url,
        hit.paragraph.ordinal, hit.paragraph.id,
    )  # fmt: skip
    return Passage(quote, tuple((s + shift, e + shift) for s, e in spans), source, hit.score, hit.matched)


def _best_window(
    text: str,
    norm: _Normalized,
    term_weights: dict[str, float],
    tokenizer: Tokenizer,
    kind: str | None,
    limit: int,
) -> tuple[int, int]:
    sentences = split_sentences(text)
    if len(sentences) <= 1:
        return 0, len(text)
    found = [_terms_in(norm.slice(s, e), term_weights) for s, e in sentences]
    typed = (
        [_has_kind(text[s:e], kind, tokenizer) for s, e in sentences] if kind else [False] * len(sentences)
    )
    best: tuple[float, float, int] | None = None
    best_span = sentences[0]
    for i in range(len(sentences)):
        covered: set[str] = set()
        has_kind = False
        for j in range(i, len(sentences)):
            length = sentences[j][1] - sentences[i][0]
            if j > i and length > limit:
                break
            covered |= found[j]
            has_kind = has_kind or typed[j]
            score = sum(term_weights[t] for t in covered)
            if has_kind and score > 0:
                score *= 1 + _TYPE_BONUS
            key = (score, score / max(length, 1), -i)
            if best is None or key > best:
                best, best_span = key, (sentences[i][0], sentences[j][1])
    return best_span


def key_sentence(
    text: str, term_weights: dict[str, float], tokenizer: Tokenizer, limit: int
) -> tuple[str, float]:
    """The window of ``text`` (sentences, at most ``limit`` characters) that covers most term weight, with
    … marks where it was trimmed, and the weight it covers. Digests use it to pick an article's line."""
    norm = _Normalized(text, tokenizer)
    start, end = _best_window(text, norm, term_weights, tokenizer, None, limit)
    covered = sum(term_weights[t] for t in _terms_in(norm.slice(start, end), term_weights))
    quote = ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")
    return quote, covered


def _terms_in(normalized: str, term_weights: dict[str, float]) -> set[str]:
    return {t for t in term_weights if t in normalized}


def _has_kind(sentence: str, kind: str | None, tokenizer: Tokenizer) -> bool:
    if kind == NUMBER:
        return bool(_NUMBER_UNIT.search(sentence))
    if kind == TIME and _DATE.search(sentence):
        return True
    tags = _TAGS.get(kind or "")
    if not tags:
        return False
    return any(tag.startswith(tags) and len(word) > 1 for word, tag in tokenizer.tag_names(sentence))


def _highlights(
    norm: _Normalized, start: int, end: int, term_weights: dict[str, float]
) -> list[tuple[int, int]]:
    """Spans of the original text in [start, end) that show query terms of two or more characters (or numbers
    and Latin words), merged where they touch: the bigrams of 郭彦亮 light up the whole name."""
    spans: list[tuple[int, int]] = []
    window = norm.text[norm.to_norm(start) : norm.to_norm(end)]
    base = norm.to_norm(start)
    for term in term_weights:
        if len(term) < 2 and not term.isascii():
            continue
        pos = window.find(term)
        while pos >= 0:
            spans.append((norm.to_orig(base + pos), norm.to_orig(base + pos + len(term))))
            pos = window.find(term, pos + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


class _Normalized:
    """A paragraph normalised like the index (NFKC, lower case, simplified), with offsets back to the original."""

    def __init__(self, text: str, tokenizer: Tokenizer) -> None:
        whole = tokenizer.normalize_cached(text)
        if len(whole) == len(text):
            self.text, self._orig = whole, None  # the usual case: one character for one
        else:
            pieces = [tokenizer.normalize_cached(c) for c in text]
            self.text = "".join(pieces)
            self._orig = [i for i, p in enumerate(pieces) for _ in p] + [len(text)]
            self._norm = [0] * (len(text) + 1)
            pos = 0
            for i, p in enumerate(pieces):
                self._norm[i] = pos
                pos += len(p)
            self._norm[len(text)] = pos

    def to_orig(self, pos: int) -> int:
        return pos if self._orig is None else self._orig[pos]

    def to_norm(self, pos: int) -> int:
        return pos if self._orig is None else self._norm[pos]

    def slice(self, start: int, end: int) -> str:
        return self.text[self.to_norm(start) : self.to_norm(end)]


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
