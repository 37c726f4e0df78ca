"""The answer composer: from ranked paragraphs to quoted passages with sources, or an honest "not found".

``compose_answer`` is pure: a parsed question, its search result and the corpus statistics in, an
``Answer`` out.

- **The question's units**: its content words (``retrieval.question``: not the words that ask, point,
  fill or name a time), plus the character pairs over runs of content words that the corpus holds — they
  bridge segmentations that differ between question and text (范/廷/颂 vs 范廷颂) and reward the question's
  word order. Each unit weighs its IDF (``CorpusStats.weight``); pairs weigh half, and so does the noun
  naming the kind of answer asked for (什么**职务**), which the answering text seldom repeats. A word the
  corpus never holds is looked for by its known parts; with none, it counts fully against every paragraph.
  The times the question names count as one more unit of average weight, found when the article's date
  fits them (or the paragraph spells them out): a fitting date is evidence, not a missing word.
- **Relevance** is decided explicitly, not by BM25 magnitude (which grows with corpus size, and BM25 always
  returns something): the IDF-weighted share of the units that one quotable window holds together with
  the article's titles, lifted ``context_weight`` of the way toward what the whole article holds (news
  names who and where in its lead and gives the figure three paragraphs on), plus a headline bonus (the
  titles' share, weighted ``title_bonus``). A name the question gives (jieba's person, place, organisation
  tags) that the article lacks scales relevance by ``missing_name_factor``, a numeral naming something
  (神舟二十五号) by ``missing_number_factor``. The bar is ``min_coverage``, lowered to
  ``dated_min_coverage`` for an article dated in the period the question names (a reader who names the
  period describes the story in their own words). ``min_coverage`` is the lowest threshold that leaves at
  most 19% of cmrc2018-train's questions (odd rows) answered with their own article removed (0.47; the even
  rows confirm it); ``dated_min_coverage`` was chosen on the odd rows of the news dev set (README).
- **Answering** needs more than relevance: the period the question names must fit the article's date (or
  be spelled out in the paragraph; undated articles are not held against), the attribute it asks about
  (its ``focus``: 股价, 门票) must be in the article, and a quantity question needs a number in the
  paragraph. Passages on the subject that fail these become suggestions: the refusal says whether the
  period lies outside the archive (naming the archive's range), no report of that period exists, or none
  mentions the attribute.
- **Sentences**: each passage quotes the window of consecutive sentences (at most ``window_chars``, a single
  longer sentence whole) that holds the most unit weight. Units the titles hold do not steer the window
  (the source line shows the headline, and the subject is in most sentences), and a unit in many
  sentences weighs less; the characters of the question's words weigh a little (父亲 half-finds 父母), and
  a time the question spells out points at its sentence. Ties go to the earlier window, then the longer
  one. With ``use_question_type``, 多少/几 prefers windows with numbers and units, 谁 person names,
  哪里 places, 什么时候 dates.
- **Passages**: when the best paragraph is clearly more relevant than the next (``second_window_margin``),
  its second-best window (not overlapping the first) is the second passage. Near-identical paragraphs
  (reprints) are quoted once; the first page holds at most two passages of one article.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

from corpus.text import CJK_WORD, CLAUSE_END, PAUSE

from .hits import Hit, SearchResult
from .lexicon import CLASSIFIERS, NUMBER, PERSON, PLACE, TIME
from .question import CONTENT, Question, said
from .sentences import split_sentences
from .shortanswer import short_answer
from .timeexpr import TimeSpan
from .tokenize import STOPWORDS, Tokenizer

__all__ = [
    "EMPTY",
    "FOCUS_MISSING",
    "LOW_COVERAGE",
    "NO_MATCH",
    "OUT_OF_RANGE",
    "WRONG_TIME",
    "Answer",
    "ComposeOptions",
    "CorpusStats",
    "Passage",
    "Source",
    "compose_answer",
    "key_sentence",
    "question_units",
    "relevant_hits",
]

#: Why an answer was not given (``Answer.reason``).
EMPTY, NO_MATCH, LOW_COVERAGE = "empty", "no_match", "low_coverage"
OUT_OF_RANGE = "out_of_range"  # the question's period lies outside the archive's
WRONG_TIME = "wrong_time"  # passages about the subject exist, none from the period asked about
FOCUS_MISSING = "focus_missing"  # passages about the subject exist, none saying what was asked (股价)
_NUMBER_UNIT = re.compile(
    r"\d+(?:\.\d+)?\s*(?:[万亿千百]?[余多]?(?:[个名人次元项期支场户家所条座台辆吨米倍岁年天小时分秒%％]|"
    r"平方|立方|公里|千米|万元|亿元|人次|场次|标准箱))|[一二三四五六七八九十百千万亿两]+[余多]?[个名人次项期支场户家所倍岁]"
)
_DATE = re.compile(r"\d{4}年|\d{1,2}月\d{1,2}[日号]|\d{1,2}月|今年|去年|明年|近日|日前|\d{4}-\d{2}-\d{2}")
_TAGS = {PERSON: ("nr",), PLACE: ("ns",), TIME: ("t",)}
_ANY_NUMBER = re.compile(
    rf"\d|[一二两三四五六七八九十百千万亿]+[{CLASSIFIERS}余多万亿千百]|[数几][{CLASSIFIERS}十百千万]"
)
_TYPE_BONUS = 0.5  # in units of the window's own term weight: enough to break near-ties, not to override
_DECIDE_DEPTH = 10  # hits read to find one that passes every test
_CLAUSE = re.compile(f"[{PAUSE}{CLAUSE_END}]")


@dataclass(frozen=True, kw_only=True)
class ComposeOptions:
    per_page: int = 3
    pages: int = 3
    window_chars: int = 160
    per_article_first_page: int = 2
    min_coverage: float = 0.47  # see the module docstring
    dated_min_coverage: float = 0.40  # the bar for an article whose date the question's period picks out
    use_question_type: bool = True
    duplicate_similarity: float = 0.8
    title_bonus: float = 0.25  # weight of the titles' share in relevance, against 1 for the window's
    second_window_margin: float | None = 0.1  # relevance lead that earns the best paragraph two windows
    missing_name_factor: float = 0.8  # relevance factor when a name in the question is not in the article
    require_focus: bool = True  # the attribute asked about (股价, 身高) must be in the paragraph or titles
    missing_number_factor: float = (
        0.6  # relevance factor when a numeral in the question is not in the article
    )
    time_weight: float = 1.0  # the times a question names, counted as one unit of average weight
    context_weight: float = 0.5  # how far the rest of the article lifts a window's coverage toward its own
    require_kind: bool = True  # a number for 多少 must be in the paragraph
    short_answers: bool = True  # a one-line answer above the quotes when one span clearly answers


@dataclass(frozen=True, kw_only=True)
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
    headline_derived: bool = False  # the article has no title: the headline is its first sentence


@dataclass(frozen=True, kw_only=True)
class Passage:
    """A verbatim quote (trimmed only at sentence boundaries, with … marks) and what to highlight in it."""

    quote: str
    highlights: tuple[tuple[int, int], ...]  # spans of ``quote``, sorted, not overlapping
    source: Source
    score: float
    matched: tuple[str, ...]
    answer_span: tuple[int, int] | None = None  # the short answer, where it stands in ``quote``


@dataclass(frozen=True, kw_only=True)
class Answer:
    """Quoted passages answering a question, or why there are none (``reason``) with what to try."""

    question: str
    answered: bool
    passages: tuple[Passage, ...] = ()
    per_page: int
    terms: tuple[str, ...] = ()
    coverage: float = 0.0
    reason: str | None = None  # EMPTY, NO_MATCH, LOW_COVERAGE, OUT_OF_RANGE, WRONG_TIME, FOCUS_MISSING
    suggestions: tuple[str, ...] = ()
    period: str = ""  # the period the question names, as understood ("2023-04-29 至 2023-05-03")
    focus: tuple[str, ...] = ()  # the attribute the question asks about (股价), as understood
    archive: tuple[str, str] | None = None  # first and last day of the archive, for time refusals
    short: str = ""  # the short answer (680万元), read from the first passage; "" when unsure
    understood: str = ""  # a follow-up question as understood in full (那去年呢 → 去年五一…); "" otherwise

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


def compose_answer(
    question: Question,
    result: SearchResult,
    tokenizer: Tokenizer,
    stats: CorpusStats,
    options: ComposeOptions = ComposeOptions(),
    *,
    archive: tuple[str, str] | None = None,
) -> Answer:
    """Compose the answer to ``question`` from its search ``result``.

    ``archive`` (first and last day of the dated articles) lets a question about a period the archive
    does not reach be refused as such, with the nearest reports as suggestions.
    """
    terms = tuple(result.terms)

    def answer(reason: str | None, passages: Sequence[Passage] = (), coverage: float = 0.0,
               suggestions: tuple[str, ...] = ()) -> Answer:  # fmt: skip
        passages, short = _with_short_answer(question, passages, tokenizer, options)
        return Answer(
            question=question.text,
            answered=reason is None,
            passages=tuple(passages),
            per_page=options.per_page,
            terms=terms,
            coverage=coverage,
            reason=reason,
            suggestions=suggestions,
            period="、".join(t.label() for t in question.dated),
            focus=question.focus,
            archive=archive,
            short=short,
        )

    units = question_units(question, stats)
    if not units:
        return answer(EMPTY)
    forms = unit_forms(question, units)
    # A period the archive's dated articles do not reach is said to be so, with the nearest reports as
    # suggestions, unless an undated article (or one that spells the period out) answers after all.
    beyond = bool(archive and question.dated and all(_outside(t, archive) for t in question.dated))
    if not result.hits:
        if beyond:
            return answer(OUT_OF_RANGE)
        return answer(NO_MATCH, suggestions=_suggest(question, stats, []))
    # The titles and articles the paragraphs are read against, normalised in one pass.
    tokenizer.normalize_many(
        [part for h in result.hits for part in (h.article.kicker, h.article.subtitle) if part]
        + list(result.contexts.values())
    )
    read: dict[int, _Paragraph] = {}

    def paragraph(i: int) -> _Paragraph:
        if i not in read:
            hit = result.hits[i]
            context = result.contexts.get(hit.article.id)
            read[i] = _Paragraph(hit, question, units, forms, tokenizer, options, context)
        return read[i]

    decide = range(min(_DECIDE_DEPTH, len(result.hits)))
    first = next((i for i in decide if paragraph(i).answers(options.min_coverage)), None)
    if first is None and beyond:
        return answer(OUT_OF_RANGE, suggestions=_nearest_reports(result.hits))
    if first is None:
        on_subject = [paragraph(i) for i in decide if paragraph(i).relevant(options.min_coverage)]
        coverage = max((p.bound for p in (paragraph(i) for i in decide)), default=0.0)
        if on_subject:  # about the subject, but not from the period or not saying what was asked
            reason = WRONG_TIME if not on_subject[0].time_ok else FOCUS_MISSING
            return answer(
                reason, coverage=coverage, suggestions=_nearest_reports([p.hit for p in on_subject])
            )
        return answer(LOW_COVERAGE, coverage=coverage, suggestions=_suggest(question, stats, result.hits))
    coverage = paragraph(first).relevance
    kind = question.kind if options.use_question_type else None
    # Later passages must pass the same tests as the first: "more" should not mean "anything". Paragraphs
    # are read lazily: the pages are usually full long before the 30th hit.
    relevant = (
        paragraph(i) for i in range(first, len(result.hits)) if paragraph(i).may_answer(options.min_coverage)
    )
    term_weights = {t: stats.weight(t) for t in terms}
    chars = _question_chars(question, stats)
    return answer(None, _passages(relevant, units, chars, term_weights, tokenizer, kind, options), coverage)


def _with_short_answer(
    question: Question, passages: Sequence[Passage], tokenizer: Tokenizer, options: ComposeOptions
) -> tuple[Sequence[Passage], str]:
    """The passages, the first marked with the short answer it holds, and that answer ("" when none)."""
    if not passages or not options.short_answers:
        return passages, ""
    first = passages[0]
    found = short_answer(question, first.quote, tokenizer)
    if found is None:
        return passages, ""
    marked = replace(first, answer_span=(found.start, found.end))
    return (marked, *passages[1:]), found.text


def relevant_hits(
    question: Question,
    result: SearchResult,
    tokenizer: Tokenizer,
    stats: CorpusStats,
    options: ComposeOptions = ComposeOptions(),
) -> list[Hit]:
    """The hits that pass the tests answers use (keyword subscriptions filter with them too)."""
    units = question_units(question, stats)
    if not units:
        return []
    forms = unit_forms(question, units)
    return [
        h
        for h in result.hits
        if _Paragraph(
            h, question, units, forms, tokenizer, options, result.contexts.get(h.article.id)
        ).answers(options.min_coverage)
    ]


def _outside(span: TimeSpan, archive: tuple[str, str]) -> bool:
    first, last = (dt.date.fromisoformat(d) for d in archive)
    return span.last_report < first or span.first_report > last


def _nearest_reports(hits: Sequence[Hit]) -> tuple[str, ...]:
    """Headlines with their dates, newest first: what the archive has on the subject."""
    seen: dict[int, Hit] = {}
    for hit in hits[:8]:
        seen.setdefault(hit.article.id, hit)
    ordered = sorted(seen.values(), key=lambda h: h.article.day, reverse=True)
    return tuple(f"{h.article.headline}（{h.article.day}）" for h in ordered[:3])


def key_sentence(text: str, weights: dict[str, float], tokenizer: Tokenizer, limit: int) -> tuple[str, float]:
    """The window of ``text`` (whole sentences, at most ``limit`` characters) holding the most term weight,
    with … marks where it was trimmed, and that weight. Digests use it for an article's line; ties go to
    the earlier window, as in answers (a news story's lead says what happened)."""
    sentences = split_sentences(text) or [(0, len(text))]
    norm = _Normalized(text, tokenizer)
    found = [{t for t in weights if t in norm.slice(s, e)} for s, e in sentences]
    best: tuple[float, int] | None = None
    span = (0, 0)
    for i, j in _windows(sentences, limit):
        score = math.fsum(weights[t] for t in set().union(*found[i : j + 1]))
        if best is None or (score, -i) > best:
            best, span = (score, -i), (i, j)
    start, end = sentences[span[0]][0], sentences[span[1]][1]
    quote = ("…" if start > 0 else "") + text[start:end].strip() + ("…" if end < len(text) else "")
    return quote, best[0] if best else 0.0


# --- the question -----------------------------------------------------------------------------------

_PAIR_WEIGHT = 0.5  # character pairs: evidence of word order and of names jieba splits, not words
_CHAR_WEIGHT = 0.1  # single characters of the question's words: they only decide between windows
_ASKED_KIND_WEIGHT = 0.5  # the noun naming the kind of answer (什么职务): the answer seldom repeats it


def unit_forms(question: Question, units: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each unit inside a name the question says, with the forms a text may say it in (itself and the
    name's other forms): read once a question, for all its candidate paragraphs."""
    return {u: (u, *alts) for u in units if (alts := question.alternatives(u))}


def question_units(question: Question, stats: CorpusStats) -> dict[str, float]:
    """The question's informative units (normalised words and character pairs) with their weights."""
    words, roles = question.words, question.roles
    n = len(words)
    factors: dict[str, float] = {}

    def add(unit: str, factor: float) -> None:
        factors[unit] = max(factors.get(unit, 0.0), factor)

    run: list[str] = []  # consecutive CJK content words
    for i, w in enumerate([*words, ""]):
        if i < n and roles[i] == CONTENT and CJK_WORD.match(w):
            run.append(w)
            continue
        pairs = [a[-1] + b[0] for a, b in pairwise(run)]
        pairs += [w[k : k + 2] for w in run if len(w) > 2 for k in range(len(w) - 1)]
        for pair in pairs:
            if stats.df(pair) > 0:  # a pair the corpus never holds is an artefact of the run
                add(pair, _PAIR_WEIGHT)
        run = []
    for i, w in enumerate(words):
        if roles[i] != CONTENT or (len(w) == 1 and w.isascii() and w.isalpha()):
            continue  # not a lone Latin letter either (the b of <b>)
        factor = _ASKED_KIND_WEIGHT if i in question.asked_kind else 1.0
        if len(w) > 2 and CJK_WORD.match(w) and stats.df(w) == 0:
            # A longer word the corpus never holds is looked for by its character pairs the corpus holds
            # (范廷颂 by 范廷, 廷颂); with none, it stays, weighing most and found nowhere. A two-character
            # word the corpus lacks is absent as such: its characters alone (高, 考) are in every text.
            parts = [w[k : k + 2] for k in range(len(w) - 1)]
            for part in [p for p in parts if p not in STOPWORDS and stats.df(p) > 0] or [w]:
                add(part, factor)
        else:
            add(w, factor)
    return {unit: stats.weight(unit) * factor for unit, factor in factors.items()}


def _question_chars(question: Question, stats: CorpusStats) -> dict[str, float]:
    """The characters of the question's CJK content words, weighing a little: 父亲 half-finds 父母."""
    chars = {
        c
        for w, role in zip(question.words, question.roles, strict=True)
        if role == CONTENT and len(w) > 1 and CJK_WORD.match(w)
        for c in w
    }
    return {c: _CHAR_WEIGHT * stats.weight(c) for c in sorted(chars)}


# --- relevance --------------------------------------------------------------------------------------


class _Paragraph:
    """A ranked paragraph read against the question's units: which it holds, in which sentences, and how
    relevant it is. The paragraph-wide share is cheap and bounds the relevance from above, so the sentence
    work is done only for paragraphs that could pass."""

    def __init__(
        self,
        hit: Hit,
        question: Question,
        units: dict[str, float],
        forms: Mapping[str, tuple[str, ...]],
        tokenizer: Tokenizer,
        options: ComposeOptions,
        context: str | None = None,
    ) -> None:
        self.hit = hit
        self.question = question
        self.units = units
        self._tokenizer = tokenizer
        self._options = options
        a = hit.article
        # Each part normalised on its own: the re-ranker has normalised the headline and text already.
        norm = tokenizer.normalize_cached
        self.body = norm(hit.paragraph.text)
        self.title = title = "\n".join(
            norm(part) if part else "" for part in (a.kicker, a.headline, a.subtitle)
        )
        # The rest of the article: news states who and where in its lead and the figure three paragraphs on.
        self.elsewhere = tokenizer.normalize_cached(context).replace(self.body, "\n") if context else ""
        article = title + "\n" + self.body + "\n" + self.elsewhere
        # A unit inside a name the question says is found where the text says the name's other form.
        self.forms = forms
        self.title_units = said(title, units, forms)
        self.held = said(self.body, units, forms) - self.title_units
        self.context_units = said(self.elsewhere, units, forms) - self.title_units
        # The times the question names count as one unit, found when the article's date fits them.
        self.time_unit = sum(units.values()) / len(units) if units else 0.0
        self._time = options.time_weight * self.time_unit if question.times else 0.0
        fits = question.fits(a.date, self.body + title)
        self._found_time = self._time if fits else 0.0
        # A date the question's own period (2023年, 上个月, 最近) picks out, not one of 五一 of any year.
        picked = [t for t in question.times if not t.recurring]
        self.dated_fit = bool(a.date and any(t.holds(dt.date.fromisoformat(a.date)) for t in picked))
        self._total = sum(units.values()) + self._time
        self._title_share = (math.fsum(units[u] for u in self.title_units) + self._found_time) / self._total
        held_share = math.fsum(units[u] for u in self.held | self.context_units) / self._total
        # A name the question gives (a person, place, organisation) must be in the article: 深圳地铁 is not
        # answered by a passage on 上海地铁 however much else they share.
        missing = any(
            name not in article and not any(f in article for f in question.alternatives(name))
            for name in question.names
        )
        self._factor = options.missing_name_factor if missing else 1.0
        # A number naming something (神舟二十五号, 第十五届, 2024赛季) must be there: 神舟二十号 is another one.
        if any(number not in article for number in question.numbers):
            self._factor *= options.missing_number_factor
        self.bound = self._combine(self._title_share + held_share)
        self._relevance: float | None = None
        # The period a question names must fit the article's date (or be spelled out in the paragraph);
        # an undated article cannot be judged and is not held against.
        self.time_ok = not a.date or question.fits(a.date, self.body + title, definite=True) is not False
        # The attribute asked about (股价, 身高) must be said: the subject alone does not answer. A longer
        # compound may be said by its head (山海拔 → 海拔: Chinese compounds end in what they are).
        focus = question.focus if options.require_focus else ()
        self.focus_ok = all(f in article or (len(f) > 2 and f[-2:] in article) for f in focus)
        # A number for 多少, a date for 哪一年: what the question asks for must be in the paragraph.
        self.kind_ok = not options.require_kind or _holds_kind(hit.paragraph.text, question.kind)

    def positions(self, unit: str, lo: int = 0, hi: int | None = None) -> Iterable[int]:
        """Where the paragraph's normalised text says the unit; where it never does, where it says the other
        form of the question's name holding it (the window is chosen as if the question had said that)."""
        text = self.norm.text
        hi = len(text) if hi is None else hi
        forms = (unit,) if unit in text else self.forms.get(unit, (unit,))
        for form in forms:
            yield from _positions(text, form, lo, hi)

    def relevant(self, threshold: float) -> bool:
        """Whether the paragraph is about what the question asks about (its words, side by side)."""
        return self.bound >= threshold and self.relevance >= threshold

    def answers(self, threshold: float) -> bool:
        """Relevant, from the period the question names, and saying what it asks about.

        An article whose date the question's period picks out is evidence the words alone are not: a
        reader who names the period describes the story in their own words, so the bar is lower there.
        """
        return self.may_answer(threshold) and self.relevance >= self._bar(threshold)

    def may_answer(self, threshold: float) -> bool:
        """``answers`` short of reading the sentences: False when the paragraph cannot answer."""
        return self.time_ok and self.focus_ok and self.kind_ok and self.bound >= self._bar(threshold)

    def _bar(self, threshold: float) -> float:
        return min(threshold, self._options.dated_min_coverage) if self.dated_fit else threshold

    @property
    def relevance(self) -> float:
        """The units' weight share one window holds with the titles, plus the titles' share as a bonus."""
        if self._relevance is None:
            self._read_sentences()
            assert self._relevance is not None
        return self._relevance

    def _read_sentences(self) -> None:
        text = self.hit.paragraph.text
        self.norm = _Normalized(text, self._tokenizer, self.body)
        self.sentences = split_sentences(text) or [(0, len(text))]
        starts = [self.norm.to_norm(s) for s, _ in self.sentences]
        self.in_sentence: list[set[str]] = [set() for _ in self.sentences]
        for u in self.held:
            for pos in self.positions(u):
                self.in_sentence[bisect_right(starts, pos) - 1].add(u)
        self.windows = _windows(self.sentences, self._options.window_chars)
        # A time the question spells out (1975年, 2024年9月) points at the sentence that answers.
        spelled = [t.text for t in self.question.times if not t.relative]
        self.spells_time = [
            any(t in self.norm.slice(s, e) for t in spelled) if spelled else False for s, e in self.sentences
        ]
        best, best_units = -1.0, set[str]()
        for i, j in self.windows:
            found = set().union(*self.in_sentence[i : j + 1])
            weight = math.fsum(self.units[u] for u in found)
            if weight > best:
                best, best_units = weight, found
        coverage = self._title_share + best / self._total
        if self.context_units:
            # What the rest of the article holds lifts the window part of the way to the article's share.
            wider = math.fsum(self.units[u] for u in best_units | self.context_units) / self._total
            coverage += self._options.context_weight * (self._title_share + wider - coverage)
        self._relevance = self._combine(coverage)

    def _combine(self, coverage: float) -> float:
        bonus = self._options.title_bonus
        return self._factor * (coverage + bonus * self._title_share) / (1 + bonus)


def _holds_kind(text: str, kind: str | None) -> bool:
    """Whether a paragraph can answer the kind of question: a quantity needs a number. (A time is not
    checked: 魏晋, 越战期间, 受惊吓时 answer 何时 too.)"""
    return kind != NUMBER or bool(_ANY_NUMBER.search(text))


def _windows(spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Runs of consecutive sentences (first and last index) within ``limit`` characters; a longer sentence alone."""
    out = []
    for i in range(len(spans)):
        for j in range(i, len(spans)):
            if j > i and spans[j][1] - spans[i][0] > limit:
                break
            out.append((i, j))
    return out


def _suggest(question: Question, stats: CorpusStats, hits: Sequence[Hit]) -> tuple[str, ...]:
    """What to try instead: the question's words the corpus knows, then headlines of the nearest hits."""
    out = [w for w in question.content_words if len(w) > 1 and stats.df(w) > 0]
    for hit in hits[:3]:
        if hit.article.headline not in out:
            out.append(hit.article.headline)
    return tuple(out[:5])


# --- passages ---------------------------------------------------------------------------------------


def _passages(
    relevant: Iterable[_Paragraph],  # the paragraphs that may answer, best first
    units: dict[str, float],
    chars: dict[str, float],
    term_weights: dict[str, float],
    tokenizer: Tokenizer,
    kind: str | None,
    options: ComposeOptions,
) -> list[Passage]:
    wanted = options.per_page * options.pages
    candidates: list[_Paragraph] = []
    fingerprints: list[set[str]] = []
    for para in relevant:
        fingerprint = _bigrams(para.body)
        if any(_jaccard(fingerprint, f) >= options.duplicate_similarity for f in fingerprints):
            continue  # a reprint of a paragraph already quoted (its sentences are not read)
        if not para.answers(options.min_coverage):
            continue
        fingerprints.append(fingerprint)
        candidates.append(para)
        if len(candidates) >= wanted:
            break
    if not candidates:
        return []
    margin = options.second_window_margin
    if margin is not None:
        rest = candidates[1].relevance if len(candidates) > 1 else 0.0
        if candidates[0].relevance - rest >= margin:
            candidates.insert(1, candidates[0])  # the best paragraph's second window comes second
    chosen: list[Passage] = []
    per_article: dict[int, int] = {}
    deferred: list[Passage] = []
    taken: dict[int, list[tuple[int, int]]] = {}
    for para in candidates:
        if len(chosen) >= wanted:
            break
        hit = para.hit
        spans = taken.setdefault(id(para), [])
        span = _best_window(para, units, chars, tokenizer, kind, spans)
        if span is None:
            continue
        spans.append(span)
        passage = _passage(para, span, term_weights, options.window_chars)
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


def _passage(para: _Paragraph, span: tuple[int, int], term_weights: dict[str, float], limit: int) -> Passage:
    hit = para.hit
    text = hit.paragraph.text
    start, end = para.sentences[span[0]][0], para.sentences[span[1]][1]
    if end - start > limit:  # one sentence longer than a quote may be: the stretch holding the question
        start, end = _stretch(para, start, end, limit)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    quote = prefix + text[start:end].strip() + suffix
    inner_start = start + (len(text[start:end]) - len(text[start:end].lstrip()))
    spans = _highlights(para.norm, inner_start, start + len(text[start:end].rstrip()), term_weights)
    shift = len(prefix) - inner_start
    a = hit.article
    source = Source(
        article_id=a.id,
        external_id=a.external_id,
        headline=a.headline,
        kicker=a.kicker,
        subtitle=a.subtitle,
        date=a.day,
        publication=a.source,
        page=a.page,
        url=a.url,
        paragraph=hit.paragraph.ordinal,
        paragraph_id=hit.paragraph.id,
        headline_derived=a.headline_derived,
    )
    return Passage(
        quote=quote,
        highlights=tuple((s + shift, e + shift) for s, e in spans),
        source=source,
        score=hit.score,
        matched=hit.matched,
    )


def _stretch(para: _Paragraph, start: int, end: int, limit: int) -> tuple[int, int]:
    """The ``limit`` characters of text[start:end] holding the most of the question's units (the first such
    stretch), widened to a clause mark just before it when one is near."""
    norm, lo, hi = para.norm, para.norm.to_norm(start), para.norm.to_norm(end)
    found = sorted((pos, para.units[u]) for u in para.held for pos in para.positions(u, lo, hi))
    best, begin = -1.0, lo
    for i, (pos, _) in enumerate(found):
        weight = sum(w for p, w in found[i:] if p + 1 <= pos + limit)
        if weight > best:
            best, begin = weight, pos
    begin = max(lo, min(begin, hi - limit))
    clause = max((m.end() for m in _CLAUSE.finditer(norm.text, max(lo, begin - 20), begin)), default=begin)
    first = norm.to_orig(clause)
    return first, min(end, first + limit)


def _positions(text: str, unit: str, lo: int, hi: int) -> Iterable[int]:
    pos = text.find(unit, lo, hi)
    while pos >= 0:
        yield pos
        pos = text.find(unit, pos + 1, hi)


def _best_window(
    para: _Paragraph,
    units: dict[str, float],
    chars: dict[str, float],
    tokenizer: Tokenizer,
    kind: str | None,
    taken: list[tuple[int, int]],
) -> tuple[int, int] | None:
    """First and last sentence of the best window not overlapping ``taken`` (None: there is none)."""
    sentences = para.sentences
    if len(sentences) <= 1:
        return None if taken else (0, 0)
    # Units (and characters) the titles hold do not steer the window. A unit in many sentences (the
    # subject, when the titles lack it) weighs less.
    n = len(sentences)
    counts: dict[str, int] = {}
    for found in para.in_sentence:
        for u in found:
            counts[u] = counts.get(u, 0) + 1
    weight = {u: units[u] * (1 - c / (n + 1)) for u, c in counts.items()}
    chars = {c: w for c, w in chars.items() if c not in para.title}
    in_chars = [{c for c in chars if c in para.norm.slice(s, e)} for s, e in sentences]
    text = para.hit.paragraph.text
    typed: list[bool | None] = [None] * n

    def has_kind(k: int) -> bool:
        if typed[k] is None:
            s, e = sentences[k]
            typed[k] = _has_kind(text[s:e], kind, tokenizer)
        return bool(typed[k])

    best: tuple[float, int, int] | None = None
    best_span = None
    for i, j in para.windows:
        if any(i <= tj and ti <= j for ti, tj in taken):
            continue
        score = math.fsum(weight[u] for u in set().union(*para.in_sentence[i : j + 1]))
        score += math.fsum(chars[c] for c in set().union(*in_chars[i : j + 1]))
        if any(para.spells_time[i : j + 1]):
            score += para.time_unit
        if kind and score > 0 and any(has_kind(k) for k in range(i, j + 1)):
            score *= 1 + _TYPE_BONUS
        # Ties: the earlier window (the lead, and what leads up to the match), then the longer one.
        key = (score, -i, sentences[j][1] - sentences[i][0])
        if best is None or key > best:
            best, best_span = key, (i, j)
    return best_span


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

    def __init__(self, text: str, tokenizer: Tokenizer, whole: str | None = None) -> None:
        whole = tokenizer.normalize_cached(text) if whole is None else whole
        if len(whole) == len(text):
            self.text, self._orig = whole, None  # the usual case: one character for one
        else:
            pieces = [_normalize_char(tokenizer, c) for c in text]
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


@lru_cache(maxsize=1 << 16)
def _normalize_char(tokenizer: Tokenizer, char: str) -> str:
    return tokenizer.normalize(char)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    both = len(a & b)
    return both / (len(a) + len(b) - both)
