"""A question, parsed once: its words and what each does, its search terms, names, kind, focus and times.

``parse_question`` normalises and segments the text once; search, re-ranking, the composer and the
digest's keyword filter all take the ``Question`` it returns, never the string.

Each word gets a role:

- ``CONTENT``: what the question is about; searched for, and a passage must hold enough of it;
- ``ASKING``: 什么, 多少个, 第几, 多 + 高 … (and the classifier or 钱 right after 多少): how it asks;
- ``TIME``: part of a time expression (2024年, 上个月, 五一假期): matched against article dates, not words;
- ``FILLER``: what readers add and texts do not say (一共, 具体, 听说, 那种, 报道里);
- ``STOP``: function words and pronouns; ``PUNCT``: the rest.

``asked_kind`` marks content words naming the kind of answer (什么**职务**, 的**座右铭**是什么): the
answering text seldom repeats them. ``focus`` is the attribute a question asks the value of (英特尔的**股价**
是多少, 多少名**员工**, 哪一年**出生**, 多少钱的**门票**): an archive that mentions the subject but never that
attribute cannot answer, however much else a passage shares with the question.

``widened`` holds the archive's abbreviations the question uses (``retrieval.aliases``): the other forms
of a name it says (进博会 → 中国国际进口博览会, and the other way round), searched for with their own
weights, and accepted wherever a stage looks for one of the question's words inside that name
(``alternatives``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from corpus.text import CJK_WORD

from .aliases import AliasMap, Widening
from .lexicon import (
    ASKING,
    CLASSIFIERS,
    COPULAS,
    DEICTIC,
    FILLERS,
    HOW,
    LATEST,
    MEASURES,
    STOPWORDS,
    UNITS,
    question_kind,
)
from .timeexpr import RECENT, TimeSpan, find_times
from .tokenize import Tokenizer

__all__ = [
    "ASKING_ROLE",
    "CONTENT",
    "FILLER",
    "PUNCT",
    "STOP",
    "TIME_ROLE",
    "Question",
    "parse_question",
    "says",
]

CONTENT, ASKING_ROLE, TIME_ROLE, FILLER, STOP, PUNCT = "content", "asking", "time", "filler", "stop", "punct"
_WORDCHAR = re.compile(r"[^\W_]")

# Time words that mean something else in every article (去年 of the article's own year): never searched.
_RELATIVE_WORD = re.compile(
    r"^(?:今|去|前|明|本|上一?)年度?$|^(?:本|上个?|下个?|这个?)(?:月|周|星期)$|^(?:最近|近日|日前|近期|近来|前几天|几天"
    r"|这几天|前些天|前不久|不久前|今天|今日|昨天|昨日|前天|明天|大前天|后天|前|后|当时)$"
)
_NAME_TAGS = ("nr", "ns", "nt", "nz")
_HOW_TO = frozenset(["怎么", "如何", "怎样", "怎么样"])
_MODALS = frozenset(["要", "需要", "应该", "应", "该", "能", "可以", "才能", "得", "想", "打算"])
_HOW_MUCH = frozenset(
    ["多", "大", "高", "长", "远", "重", "深", "宽", "多大", "多高", "多长", "多远", "多重", "多深"]
)
_NOUN_TAGS = ("n", "vn", "j")  # nouns (names too), verbal nouns (融资), abbreviations
_NUMERAL = re.compile(r"^(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]{2,})$")
_QUANTITY = re.compile(
    rf"^[一二两三四五六七八九十百千万\d]+[{CLASSIFIERS}杯]$"
)  # 一杯, 两次: not an attribute
# Words between a subject and the copula or question word that do not change what is asked (股价现在是多少).
_ADVERBS = frozenset(["现在", "目前", "如今", "大约", "一共", "总共", "共", "都", "还", "又", "已", "已经", "能", "会",
                      "要", "最", "最终", "分别", "具体", "大概", "约", "到底", "究竟", "将", "应", "应该"])  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Question:
    """A question as every stage reads it; made by ``parse_question``."""

    text: str  # as asked, stripped
    normalized: str  # NFKC, lower case, simplified
    words: tuple[str, ...]  # segmentation of ``normalized`` (the words laid end to end are it)
    roles: tuple[str, ...]  # per word: CONTENT, ASKING_ROLE, TIME_ROLE, FILLER, STOP or PUNCT
    asked_kind: frozenset[int]  # word positions naming the kind of answer asked for
    focus: tuple[str, ...]  # the attribute asked about, when the question names one
    terms: tuple[str, ...]  # BM25 query terms
    names: tuple[str, ...]  # people, places, organisations the question names
    numbers: tuple[str, ...]  # numerals naming something (神舟二十五号, 2024赛季): a passage must hold them
    kind: str | None  # lexicon.question_kind
    times: tuple[TimeSpan, ...]
    latest: bool  # asks for the current state (现在, 最新): the newest report wins
    now: dt.date
    widened: tuple[Widening, ...] = ()  # other forms of the names it says (retrieval.aliases)

    @property
    def all_terms(self) -> tuple[str, ...]:
        """The question's search terms, then those the other forms of its names add (highlighted too)."""
        return tuple(dict.fromkeys(self.terms + tuple(t for w in self.widened for t in w.terms)))

    def other_wording(self, idf: Callable[[str], float]) -> tuple[tuple[str, ...], tuple[float, ...]]:
        """The question as if it said the other forms of its names: its terms without those of the names
        (weight 1), then the other forms' terms (``Widening.weight``), for a second BM25 ranking."""
        said = {t for w in self.widened for t in w.said_terms}
        kept = [t for t in self.terms if t not in said]
        weights = dict.fromkeys(kept, 1.0)
        for w in self.widened:
            weight = w.weight(idf)
            for t in w.terms:
                weights[t] = max(weights.get(t, 0.0), weight)
        return tuple(weights), tuple(weights.values())

    def alternatives(self, unit: str) -> tuple[str, ...]:
        """Other forms a text may say ``unit`` (a word or character pair of the question) in: the other
        forms of a name of the question that holds it (博览 of 中国国际进口博览会 is said by 进博会)."""
        if not self.widened:  # most questions: asked for every unit of every candidate paragraph
            return ()
        return tuple(other for w in self.widened if unit in w.said for other in w.means)

    @property
    def content_words(self) -> tuple[str, ...]:
        """The informative words, once each, in order."""
        return tuple(dict.fromkeys(w for w, r in zip(self.words, self.roles, strict=True) if r == CONTENT))

    @property
    def dated(self) -> tuple[TimeSpan, ...]:
        """Time expressions that pick out a period (not 最近, not a period recurring every year)."""
        return tuple(t for t in self.times if t.grain != RECENT and not t.recurring)

    def fits(self, date: str | None, text: str = "", *, definite: bool = False) -> bool | None:
        """Whether an article of ``date`` (YYYY-MM-DD) fits the times the question names (None: it names none).

        ``text`` (the normalised paragraph and titles) that spells an absolute time out ("2023年…") fits too,
        whatever its date. ``definite`` looks only at the times that pick out a period (``dated``).
        """
        times = self.dated if definite else self.times
        if not times:
            return None
        if date and any(t.holds(dt.date.fromisoformat(date)) for t in times):
            return True
        return any(not t.relative and t.text in text for t in times)


def says(text: str, unit: str, forms: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether ``text`` says ``unit`` of a question, or one of the other ``forms`` it has (from
    ``Question.alternatives``: 进博会 says the 博览 of 中国国际进口博览会). Asked for every unit of every
    candidate: the plain case first."""
    if unit in text:
        return True
    other = forms.get(unit)
    return other is not None and any(f in text for f in other)


def said(text: str, units: Iterable[str], forms: Mapping[str, tuple[str, ...]]) -> set[str]:
    """Which of ``units`` ``text`` says (``says`` each; for a question without other forms of its names,
    which is most, a plain test: this runs for every unit of every candidate paragraph and sentence)."""
    if not forms:
        return {u for u in units if u in text}
    return {u for u in units if says(text, u, forms)}


def parse_question(
    text: str, tokenizer: Tokenizer, now: dt.date, *, times: bool = True, aliases: AliasMap | None = None
) -> Question:
    """Parse ``text`` once. ``now`` resolves relative times (上个月, 去年, 最近).

    Words of relative times (去年, 上个月, 最近) are not searched for: an article says 去年 of its own
    year. Absolute ones (2023年, 五一, 一季度) are, as the words they are. ``times=False`` reads no time
    expressions at all (a digest keyword such as 五一 is a subject, not a date). ``aliases`` widens the
    names the question says with their other forms.
    """
    text = text.strip()
    normalized = tokenizer.normalize(text)
    words = tokenizer.words(text)
    spans = find_times(normalized, now) if times else ()
    roles = _roles(words, spans)
    asked_kind = _asked_kind(words, roles)
    tagged = tokenizer.tag_names(normalized)  # part of speech: HMM on, so unknown names are tagged too
    tags = dict(tagged)
    keep = [
        r == CONTENT or (r == TIME_ROLE and not _RELATIVE_WORD.match(w))
        for w, r in zip(words, roles, strict=True)
    ]
    terms = tuple(tokenizer.search_terms(words, keep))
    widened = aliases.widen(normalized, words, terms, tokenizer.query_terms) if aliases else ()
    return Question(
        text=text,
        normalized=normalized,
        words=tuple(words),
        roles=tuple(roles),
        asked_kind=frozenset(asked_kind),
        focus=tuple(_focus(words, roles, tags)),
        terms=terms,
        names=tuple(_names(tagged, words, roles, asked_kind)),
        numbers=tuple(
            dict.fromkeys(w for w, r in zip(words, roles, strict=True) if r == CONTENT and _NUMERAL.match(w))
        ),
        kind=question_kind(normalized),
        times=spans,
        latest=any(w in LATEST for w in words) or "最新" in normalized,
        now=now,
        widened=widened,
    )


def _roles(words: list[str], times: tuple[TimeSpan, ...]) -> list[str]:
    n = len(words)
    roles: list[str] = []
    pos = 0
    for w in words:
        start, end = pos, pos + len(w)
        pos = end
        if not _WORDCHAR.search(w):
            roles.append(PUNCT)
        elif any(t.offset[0] < end and start < t.offset[1] for t in times):
            roles.append(TIME_ROLE)
        elif ASKING.match(w) or DEICTIC.match(w):
            roles.append(ASKING_ROLE)
        elif w in FILLERS:
            roles.append(FILLER)
        elif w in STOPWORDS:
            roles.append(STOP)
        else:
            roles.append(CONTENT)
    for i in range(1, n):
        if roles[i] == ASKING_ROLE and words[i - 1] in COPULAS:
            roles[i - 1] = ASKING_ROLE  # 叫 什么, 是 谁, 在 哪里: the frame of the question
    for i in range(n - 1):
        if words[i] == "多" and len(words[i + 1]) == 1 and words[i + 1] in HOW:
            roles[i] = roles[i + 1] = ASKING_ROLE  # 多大, 多高, 多深
        if roles[i] == ASKING_ROLE and words[i].startswith(("多少", "几", "哪")):
            following = words[i + 1]
            if (
                len(following) == 1 and (following in CLASSIFIERS or following == "钱")
            ) or following in UNITS:
                roles[i + 1] = ASKING_ROLE  # 多少 名, 多少 钱, 多少 亿元: how it asks, not what about
    return roles


def _asked_kind(words: list[str], roles: list[str]) -> set[int]:
    """Content words naming the kind of answer: 什么职务, 哪些成绩, 什么样的人, 拳击道的座右铭是什么."""
    n = len(words)
    out: set[int] = set()
    for i in range(n):
        if roles[i] != ASKING_ROLE:
            continue
        j = i + 2 if i + 2 < n and words[i + 1] == "的" else i + 1
        if j < n and roles[j] == CONTENT:
            out.add(j)
        if i >= 3 and words[i - 1] in COPULAS and roles[i - 2] == CONTENT and words[i - 3] == "的":
            out.add(i - 2)
    return out


def _focus(words: list[str], roles: list[str], tags: dict[str, str]) -> list[str]:
    """The attribute a question asks the value of, when it names one.

    - A quantity: the noun right after the question word (多少名**员工**, 多少钱的**门票**), else the one before
      it or its copula (**股价**现在是多少, **门票**多少钱); a noun that only says "a quantity" (比例, 规模) gives
      way to the word it measures (**资产**规模有多大). Only nouns: a text says 补贴 where a reader says
      补助, 通过资格评定 where a reader says 拿到资格, but a price is a price.
    - Advice on doing something (如何**办理**护照, 微信账号要怎么**注销**): the act, when the question opens with
      怎么/如何 or puts a modal before it. A description (是如何形成的, 怎样评价) is answered in other words.
    """
    n = len(words)
    for i in range(n):
        if words[i] in _HOW_TO and (i == 0 or roles[i - 1] == PUNCT or words[i - 1] in _MODALS):
            found = _next_content(words, roles, i + 1, skip=_ADVERBS)
            if found is not None and len(words[found]) >= 2:
                return [words[found]]
        if roles[i] != ASKING_ROLE:
            continue
        asks = words[i]
        if not (asks.startswith(("多少", "几")) or asks in _HOW_MUCH):
            continue
        found = _next_content(words, roles, i + 1, skip=("的",))
        if found is None:
            found = _previous_content(words, roles, i - 1)
        if found is not None and words[found] in MEASURES:  # 资产规模有多大: 资产, not 规模
            found = found - 1 if found > 0 and roles[found - 1] == CONTENT else None
        if found is not None and len(words[found]) >= 2 and tags.get(words[found], "").startswith(_NOUN_TAGS):
            return [words[found]]
        return []
    return []


def _next_content(words: list[str], roles: list[str], start: int, skip: Collection[str]) -> int | None:
    for j in range(start, min(start + 3, len(words))):
        if roles[j] == CONTENT and CJK_WORD.match(words[j]) and not _QUANTITY.match(words[j]):
            return j
        if roles[j] == ASKING_ROLE or words[j] in skip:
            continue
        return None
    return None


def _previous_content(words: list[str], roles: list[str], start: int) -> int | None:
    j = start
    while j >= 0 and (words[j] in COPULAS or words[j] in _ADVERBS or roles[j] in (FILLER, TIME_ROLE)):
        j -= 1
    if j >= 0 and roles[j] == CONTENT and CJK_WORD.match(words[j]):
        return j
    return None


def _names(
    tagged: list[tuple[str, str]], words: list[str], roles: list[str], asked_kind: set[int]
) -> list[str]:
    """Names in the question (jieba's tags with HMM on: people, places, organisations, other proper nouns)
    made only of content words' characters: not 五一 (a time), not 张床 (多少张床), not 城市 (哪座城市)."""
    content = "".join(
        w if r == CONTENT and i not in asked_kind else "\n" * len(w)
        for i, (w, r) in enumerate(zip(words, roles, strict=True))
    )
    return list(
        dict.fromkeys(w for w, tag in tagged if tag.startswith(_NAME_TAGS) and len(w) > 1 and w in content)
    )
