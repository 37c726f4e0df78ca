"""The answer composer: from ranked paragraphs to quoted passages with sources, or an honest "not found".

``compose_answer`` is pure: a question, its search result and the corpus statistics in, an ``Answer`` out.

- **The question's units**: its content words without the words that only ask (什么职务's 什么, 第几, 多大,
  这儿, 该…), plus the character pairs over runs of content words that the corpus holds — they bridge
  segmentations that differ between question and text (范/廷/颂 vs 范廷颂, 为主/教 vs 主教) and reward the
  question's word order. Each unit weighs its IDF (``CorpusStats.weight``); pairs weigh half, and so does
  the noun naming the kind of answer asked for (什么**职务**, 的**座右铭**是什么), which the answering text
  seldom repeats. A word the corpus never holds is looked for by its known parts; with none, it counts
  fully against every paragraph (a question about something the archive lacks is refused).
- **Relevance** is decided explicitly, not by BM25 magnitude (which grows with corpus size, and BM25 always
  returns something): the IDF-weighted share of the units that one quotable window of the paragraph holds
  together with the article's titles, plus a headline bonus (the share the titles hold, weighted
  ``title_bonus``): an article *about* the subject beats one that mentions it. Co-location matters: units
  scattered over a long paragraph are weaker evidence than units side by side. A name the question gives
  (jieba's person, place, organisation tags) that the article lacks scales relevance by
  ``missing_name_factor``. Below ``min_coverage`` the answer says nothing relevant was found, with
  suggestions; later passages pass the same test. ``min_coverage`` was chosen on half of cmrc2018-train
  (split by article) as the lowest threshold that leaves at most 19% of questions answered with their own
  article removed, and gave the same threshold on the other half.
- **Sentences**: each passage quotes the window of consecutive sentences (at most ``window_chars``, a single
  longer sentence whole) that holds the most unit weight. Units the titles hold do not steer the window
  (the source line shows the headline, and the subject is in most sentences), and a unit in many
  sentences weighs less; the characters of the question's words weigh a little (父亲 half-finds 父母).
  Ties go to the earlier window, then the longer one: the lead and what leads up to the matching
  sentence. With ``use_question_type``, 多少/几 prefers windows with numbers and units, 谁 person names,
  哪里 places, 什么时候 dates (on cmrc2018-train it neither helps nor hurts).
- **Passages**: when the best paragraph is clearly more relevant than the next (``second_window_margin``),
  its second-best window (not overlapping the first) is the second passage. Near-identical paragraphs
  (reprints) are quoted once; the first page holds at most two passages of one article.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

from .search import Hit, SearchResult
from .sentences import split_sentences
from .tokenize import STOPWORDS, Tokenizer

__all__ = [
    "Answer",
    "ComposeOptions",
    "CorpusStats",
    "Passage",
    "Source",
    "compose_answer",
    "key_sentence",
    "question_names",
    "question_type",
    "question_units",
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
    min_coverage: float = 0.45  # see the module docstring
    use_question_type: bool = True
    duplicate_similarity: float = 0.8
    title_bonus: float = 0.25  # weight of the titles' share in relevance, against 1 for the window's
    second_window_margin: float | None = 0.1  # relevance lead that earns the best paragraph two windows
    missing_name_factor: float = 0.8  # relevance factor when a name in the question is not in the article


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
    terms = tuple(result.terms)
    units = question_units(question, tokenizer, stats)
    names = question_names(question, tokenizer) if options.missing_name_factor < 1 else []
    if not units:
        return Answer(question, False, (), options.per_page, terms, 0.0, "empty")
    if not result.hits:
        suggestions = _suggest(question, tokenizer, stats, [])
        return Answer(question, False, (), options.per_page, terms, 0.0, "no_match", suggestions)
    read: dict[int, _Paragraph] = {}

    def paragraph(i: int) -> _Paragraph:
        if i not in read:
            read[i] = _Paragraph(result.hits[i], units, names, tokenizer, options)
        return read[i]

    top = paragraph(0)
    coverage = top.relevance if top.bound >= options.min_coverage else top.bound
    if coverage < options.min_coverage:
        suggestions = _suggest(question, tokenizer, stats, result.hits)
        return Answer(question, False, (), options.per_page, terms, coverage, "low_coverage", suggestions)
    kind = question_type(question) if options.use_question_type else None
    # Later passages must pass the same test as the first: "more" should not mean "anything". Paragraphs
    # are read lazily: the pages are usually full long before the 30th hit.
    relevant = (paragraph(i) for i in range(len(result.hits)) if paragraph(i).relevant(options.min_coverage))
    term_weights = {t: stats.weight(t) for t in terms}
    chars = _question_chars(question, tokenizer, stats)
    passages = _passages(relevant, units, chars, term_weights, tokenizer, kind, options)
    return Answer(question, True, tuple(passages), options.per_page, terms, coverage)


def relevant_hits(
    question: str,
    result: SearchResult,
    tokenizer: Tokenizer,
    stats: CorpusStats,
    options: ComposeOptions = ComposeOptions(),
) -> list[Hit]:
    """The hits that pass the relevance test answers use (keyword subscriptions filter with it too)."""
    units = question_units(question, tokenizer, stats)
    if not units:
        return []
    names = question_names(question, tokenizer) if options.missing_name_factor < 1 else []
    return [
        h
        for h in result.hits
        if _Paragraph(h, units, names, tokenizer, options).relevant(options.min_coverage)
    ]


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

_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")
_WORDCHAR = re.compile(r"[^\W_]")
_CLASSIFIERS = "个位名次年天岁种项条家所期支场人元倍成届号代类部首本座只件级层章集份"
#: Words that ask rather than inform (some beyond the tokenizer's stop words: 几届, 第几, 多少项, 何种 …).
_ASKING = re.compile(
    rf"^(?:什么(?:样的?)?|谁|多少[{_CLASSIFIERS}]?|第?几[{_CLASSIFIERS}]?|哪[{_CLASSIFIERS}一些里儿]?"
    rf"|何[{_CLASSIFIERS}处地时]?)$"
)
#: Pointing words: they refer to the conversation, not to the text (这儿, 本届, 该项, 此次 …).
_DEICTIC = re.compile(r"^(?:[这那]儿|[这那该此本][篇届部首本片剧作曲文次期种位名个项条])$")
_HOW = "大高长远重久宽深厚"  # 多 + one of these asks for a measure (多大, 多高 …)
_COPULAS = frozenset(["是", "叫", "为", "有", "叫做", "称为", "是在", "在"])
_PAIR_WEIGHT = 0.5  # character pairs: evidence of word order and of names jieba splits, not words
_NAME_TAGS = ("nr", "ns", "nt", "nz")
_CHAR_WEIGHT = 0.1  # single characters of the question's words: they only decide between windows
_BODY_MARK = "\ue000"
_ASKED_KIND_WEIGHT = 0.5  # the noun naming the kind of answer (什么职务): the answer seldom repeats it


def _parse(question: str, tokenizer: Tokenizer) -> tuple[list[str], list[bool], set[int]]:
    """The question's normalised words, which of them inform, and which name the kind of answer asked for."""
    words = tokenizer.words(question)
    n = len(words)
    asking = [bool(_ASKING.match(w) or _DEICTIC.match(w)) for w in words]
    for i in range(n - 1):
        if words[i] == "多" and len(words[i + 1]) == 1 and words[i + 1] in _HOW:
            asking[i] = asking[i + 1] = True
    content = [
        bool(_WORDCHAR.search(w)) and w not in STOPWORDS and not asking[i] for i, w in enumerate(words)
    ]
    asked_kind = set()
    for i in range(n):
        if not asking[i]:
            continue
        j = i + 2 if i + 2 < n and words[i + 1] == "的" else i + 1
        if j < n and content[j]:
            asked_kind.add(j)  # 什么职务, 哪些成绩, 什么样的人
        if i >= 3 and words[i - 1] in _COPULAS and content[i - 2] and words[i - 3] == "的":
            asked_kind.add(i - 2)  # 拳击道的座右铭是什么
    return words, content, asked_kind


def question_units(question: str, tokenizer: Tokenizer, stats: CorpusStats) -> dict[str, float]:
    """The question's informative units (normalised words and character pairs) with their weights."""
    words, content, asked_kind = _parse(question, tokenizer)
    n = len(words)
    factors: dict[str, float] = {}

    def add(unit: str, factor: float) -> None:
        factors[unit] = max(factors.get(unit, 0.0), factor)

    run: list[str] = []  # consecutive CJK content words
    for i, w in enumerate([*words, ""]):
        if i < n and content[i] and _CJK.match(w):
            run.append(w)
            continue
        pairs = [a[-1] + b[0] for a, b in pairwise(run)]
        pairs += [w[k : k + 2] for w in run if len(w) > 2 for k in range(len(w) - 1)]
        for pair in pairs:
            if stats.df(pair) > 0:  # a pair the corpus never holds is an artefact of the run
                add(pair, _PAIR_WEIGHT)
        run = []
    for i, w in enumerate(words):
        if not content[i]:
            continue
        factor = _ASKED_KIND_WEIGHT if i in asked_kind else 1.0
        if len(w) > 1 and _CJK.match(w) and stats.df(w) == 0:
            # A word the corpus never holds is looked for by its parts the corpus holds; with none, it
            # stays, weighing most and found nowhere.
            parts = [w[k : k + 2] for k in range(len(w) - 1)] if len(w) > 2 else list(w)
            for part in [p for p in parts if p not in STOPWORDS and stats.df(p) > 0] or [w]:
                add(part, factor)
        else:
            add(w, factor)
    return {unit: stats.weight(unit) * factor for unit, factor in factors.items()}


def question_names(question: str, tokenizer: Tokenizer) -> list[str]:
    """Names in the question (jieba's tags with HMM on: people, places, organisations, other proper nouns)."""
    tagged = tokenizer.tag_names(question)
    return list(dict.fromkeys(w for w, tag in tagged if tag.startswith(_NAME_TAGS) and len(w) > 1))


def _question_chars(question: str, tokenizer: Tokenizer, stats: CorpusStats) -> dict[str, float]:
    """The characters of the question's CJK content words, weighing a little: 父亲 half-finds 父母."""
    words, content, _ = _parse(question, tokenizer)
    chars = {
        c for w, c_ in zip(words, content, strict=True) if c_ and len(w) > 1 and _CJK.match(w) for c in w
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
        units: dict[str, float],
        names: Sequence[str],
        tokenizer: Tokenizer,
        options: ComposeOptions,
    ) -> None:
        self.hit = hit
        self.units = units
        self._tokenizer = tokenizer
        self._options = options
        a = hit.article
        # One call for titles and text (normalising is most of the cost); lines stay lines, and the mark
        # (a private-use character: normalising keeps it, unlike control characters) starts the body.
        title, _, self.body = tokenizer.normalize_cached(
            "\n".join((a.kicker, a.headline, a.subtitle, _BODY_MARK + hit.paragraph.text))
        ).partition("\n" + _BODY_MARK)
        self.title = title
        self.title_units = {u for u in units if u in title}
        self.held = {u for u in units if u not in self.title_units and u in self.body}
        self._total = sum(units.values())
        self._title_share = math.fsum(units[u] for u in self.title_units) / self._total
        held_share = math.fsum(units[u] for u in self.held) / self._total
        # A name the question gives (a person, place, organisation) must be in the article's paragraph or
        # titles: 深圳地铁 is not answered by a passage on 上海地铁 however much else they share.
        missing = any(name not in title and name not in self.body for name in names)
        self._factor = options.missing_name_factor if missing else 1.0
        self.bound = self._combine(self._title_share + held_share)
        self._relevance: float | None = None

    def relevant(self, threshold: float) -> bool:
        return self.bound >= threshold and self.relevance >= threshold

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
            pos = self.norm.text.find(u)
            while pos >= 0:
                self.in_sentence[bisect_right(starts, pos) - 1].add(u)
                pos = self.norm.text.find(u, pos + 1)
        self.windows = _windows(self.sentences, self._options.window_chars)
        best = max(
            math.fsum(self.units[u] for u in set().union(*self.in_sentence[i : j + 1]))
            for i, j in self.windows
        )
        self._relevance = self._combine(self._title_share + best / self._total)

    def _combine(self, coverage: float) -> float:
        bonus = self._options.title_bonus
        return self._factor * (coverage + bonus * self._title_share) / (1 + bonus)


def _windows(spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """Runs of consecutive sentences (first and last index) within ``limit`` characters; a longer sentence alone."""
    out = []
    for i in range(len(spans)):
        for j in range(i, len(spans)):
            if j > i and spans[j][1] - spans[i][0] > limit:
                break
            out.append((i, j))
    return out


def _suggest(question: str, tokenizer: Tokenizer, stats: CorpusStats, hits: Sequence[Hit]) -> tuple[str, ...]:
    """What to try instead: the question's words the corpus knows, then headlines of the nearest hits."""
    informative = dict.fromkeys(tokenizer.content_words(question))
    out = [w for w in informative if len(w) > 1 and stats.df(w) > 0]
    for hit in hits[:3]:
        if hit.article.headline not in out:
            out.append(hit.article.headline)
    return tuple(out[:5])


# --- passages ---------------------------------------------------------------------------------------


def _passages(
    relevant: Iterable[_Paragraph],
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
            continue  # a reprint of a paragraph already quoted
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
        passage = _passage(para, span, term_weights)
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


def _passage(para: _Paragraph, span: tuple[int, int], term_weights: dict[str, float]) -> Passage:
    hit = para.hit
    text = hit.paragraph.text
    start, end = para.sentences[span[0]][0], para.sentences[span[1]][1]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    quote = prefix + text[start:end].strip() + suffix
    inner_start = start + (len(text[start:end]) - len(text[start:end].lstrip()))
    spans = _highlights(para.norm, inner_start, start + len(text[start:end].rstrip()), term_weights)
    shift = len(prefix) - inner_start
    a = hit.article
    source = Source(
        a.id, a.external_id, a.headline, a.kicker, a.subtitle, a.day, a.source, a.page, a.url,
        hit.paragraph.ordinal, hit.paragraph.id,
    )  # fmt: skip
    return Passage(quote, tuple((s + shift, e + shift) for s, e in spans), source, hit.score, hit.matched)


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
    return len(a & b) / len(a | b) if a and b else 0.0
