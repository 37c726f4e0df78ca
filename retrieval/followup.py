"""Follow-up questions: a question that leans on the one before it, asked again in full.

``那去年呢？`` after ``2024年五一铁路发送旅客多少人次？`` is ``去年五一铁路发送旅客多少人次？``; ``他是哪里人？``
after ``滨江大桥的总设计师是谁？`` (answered 王海涛) is ``王海涛是哪里人？``; ``加开了多少列临时列车？`` keeps
the previous question's subject and time. A question with a subject of its own is a new question and is
left alone, and so is one that shares nothing with the previous question and its answer.

Kinds, as ``FollowUp.kind`` names them:

- ``time``: ``那X呢`` / ``X呢`` where X is a time: the previous question with its time (its year, when X
  is a year) replaced, or given;
- ``subject``: ``那X呢`` where X is a name: the previous question's name of the same kind (a name ending
  alike, 青岛港 for 宁波舟山港; else one tagged alike) replaced; or a question naming nothing itself that
  shares a word with the previous question or its quotes (还有哪些…, 总投资多少？): the previous question's
  names and time put in front;
- ``pronoun``: 他/她/它/他们/该港/其… replaced by the previous short answer when it names a person (or the
  question asked for one), else by the previous question's first name.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .lexicon import PERSON
from .question import CONTENT, Question, parse_question
from .timeexpr import find_times
from .tokenize import Tokenizer

__all__ = ["PRONOUN", "SUBJECT", "TIME", "FollowUp", "follow_up"]

TIME, SUBJECT, PRONOUN = "time", "subject", "pronoun"

_THEN = re.compile(
    r"^(?:那么?|那在|要是|如果是|换成|改成)?(?P<x>.+?)(?:的话)?(?:呢|怎么样|如何)[？?。!！\s]*$"
)
_PERSONAL = re.compile(r"他们|她们|它们|他|她|它|此人")
# 该港, 此县 (the noun must be the referent's own), 其 at the start of a clause (其产量 …, not 乌云其木格).
_DEMONSTRATIVE = re.compile(
    r"(?:该|此|这|那)(?P<noun>[\u4e00-\u9fff])|(?:^|(?<=[,，。;；]))其(?=[\u4e00-\u9fff])"
)
_YEAR = re.compile(r"\d{4}年|大前年|前年|去年|今年|明年|上一年")
_MORE = re.compile(r"^(?:那)?(?:还有|另外|其他|其余|别的)")
_NAME_TAGS = ("nr", "ns", "nt", "nz")
_NOUN_TAGS = ("n", "j", "nr", "ns", "nt", "nz")
_MAX_X = 12  # characters of the X in 那X呢
_SHORT = 4  # characters of content: a question this short (总投资多少？) cannot stand alone
_SAME_SHARE = 0.8  # share of a subject-less question's words the previous question or its quotes must hold
_HOLLOW = frozenset("还有 另外 其他 其余 别的 具体 情况 一下 详细 一共 总共 分别".split())  # noqa: SIM905
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NOT_NOUN = ("v", "u", "p", "c", "d", "m", "q", "r", "x", "y", "e", "a")


@dataclass(frozen=True, kw_only=True)
class FollowUp:
    """The question as understood (``text``), what it took from the previous one, and which kind."""

    text: str
    carried: tuple[str, ...]
    kind: str
    more: bool = False  # 还有…: other answers than the previous ones


def follow_up(
    text: str,
    previous: Question,
    tokenizer: Tokenizer,
    now: dt.date,
    *,
    short: str = "",
    context: str = "",
) -> FollowUp | None:
    """``text`` completed from the previous question (its short answer ``short``; ``context``, what its
    answer quoted and the articles it quoted from), or None when it stands alone."""
    normalized = tokenizer.normalize(text.strip())
    then = _THEN.match(normalized)
    if then and len(then.group("x")) <= _MAX_X:
        found = _instead(then.group("x"), previous, tokenizer, now)
        if found is not None:
            return found
    if _names(normalized, tokenizer):
        return None  # a subject of its own: a new question
    found = _pronoun(normalized, previous, short, tokenizer)
    if found is not None:
        return found
    asked = parse_question(normalized, tokenizer, now)
    if asked.kind is None:
        return None
    before = tokenizer.normalize(previous.text + context)
    own = [
        w for i, w in enumerate(asked.words) if asked.roles[i] == CONTENT and len(w) >= 2 and w not in _HOLLOW
    ]
    about = [w for w in own if w in before]
    if len("".join(asked.content_words)) > _SHORT and (not about or len(about) < _SAME_SHARE * len(own)):
        return None  # it speaks of things the previous question and its answer did not: a new question
    carried = _carried(previous, tokenizer, keep_time=not asked.times)
    if not carried:
        return None
    return FollowUp(
        text="".join(carried) + normalized, carried=carried, kind=SUBJECT, more=bool(_MORE.match(normalized))
    )


def _instead(x: str, previous: Question, tokenizer: Tokenizer, now: dt.date) -> FollowUp | None:
    """那X呢: X in place of the previous question's time, or of its name of the same kind."""
    base = previous.normalized
    times = find_times(x, now)
    if times and sum(t.offset[1] - t.offset[0] for t in times) >= len(x) - 1:  # X is a time
        carried = _carried(previous, tokenizer, keep_time=False)
        if not previous.times:
            return FollowUp(text=x + base, carried=carried, kind=TIME)
        first, last = previous.times[0].offset[0], previous.times[-1].offset[1]
        year = _YEAR.search(base, first, last)
        if _YEAR.fullmatch(x) and year:  # a year for a year: 2024年五一 → 2023年五一
            return FollowUp(text=base[: year.start()] + x + base[year.end() :], carried=carried, kind=TIME)
        return FollowUp(text=base[:first] + x + base[last:], carried=carried, kind=TIME)
    tags = [t for _, t in tokenizer.tag_names(x)]
    if (
        not tags
        or not all(t.startswith(_NOUN_TAGS) for t in tags)
        or not any(t.startswith(_NAME_TAGS) for t in tags)
    ):
        return None
    chunks = _chunks(base, tokenizer)
    same = [c for c in chunks if c[-1] == x[-1]] or [
        c for c in chunks if _tag_of(c, tokenizer) == _tag_of(x, tokenizer)
    ]
    old = next((c for c in same if c != x), None)
    if old is None:
        return None
    kept = tuple(c for c in _carried(previous, tokenizer, keep_time=True) if c != old)
    return FollowUp(text=base.replace(old, x, 1), carried=kept, kind=SUBJECT)


def _pronoun(normalized: str, previous: Question, short: str, tokenizer: Tokenizer) -> FollowUp | None:
    """他是哪里人 → 王海涛是哪里人; 该港 → 宁波舟山港 (a demonstrative only with the referent's own noun:
    这次, 那里 are not about the previous subject)."""
    chunks = _chunks(previous.normalized, tokenizer)
    if short and (previous.kind == PERSON or _tag_of(short, tokenizer) == "nr"):
        referent = short
    elif chunks:
        referent = chunks[0]
    else:
        return None
    m = _PERSONAL.search(normalized)
    if m is None:
        m = _DEMONSTRATIVE.search(normalized)
        if m is None or (m.group("noun") is not None and m.group("noun") != referent[-1]):
            return None
    resolved = normalized[: m.start()] + referent + normalized[m.end() :]
    return FollowUp(text=resolved, carried=(referent,), kind=PRONOUN)


def _carried(previous: Question, tokenizer: Tokenizer, *, keep_time: bool) -> tuple[str, ...]:
    """What a follow-up takes from the previous question: its time (unless it has its own) and its names
    (the whole of each: 宁波舟山港), else its content words other than the kind of answer it asked for."""
    out: list[str] = []
    if keep_time:
        out += [t.text for t in previous.times]
    asked_for = {previous.words[i] for i in previous.asked_kind}
    chunks = [c for c in _noun_phrases(previous.normalized, tokenizer) if c not in asked_for]
    if chunks:
        out += chunks
    else:
        out += [
            w
            for i, (w, r) in enumerate(zip(previous.words, previous.roles, strict=True))
            if r == CONTENT and i not in previous.asked_kind
        ]
    return tuple(dict.fromkeys(out))


def _chunks(text: str, tokenizer: Tokenizer) -> list[str]:
    """The names of ``text`` whole, in order: runs of name words with a one-character noun after them
    (宁波 舟山 港 → 宁波舟山港; 滨江 大桥 → 滨江大桥; 青山 县 → 青山县)."""
    out: list[str] = []
    run = ""
    for word, tag in [*tokenizer.tag_names(text), ("", "x")]:
        if word and tag.startswith(_NAME_TAGS):
            run += word
            continue
        if run and len(word) == 1 and _CJK.match(word) and not tag.startswith(_NOT_NOUN):
            run += word
        if run:
            out.append(run)
        run = ""
    return out


def _noun_phrases(text: str, tokenizer: Tokenizer) -> list[str]:
    """Runs of nouns holding a name (青山 县 图书馆 新馆 → 青山县图书馆新馆): what a question is about."""
    out: list[str] = []
    run: list[tuple[str, str]] = []
    for word, tag in [*tokenizer.tag_names(text), ("", "x")]:
        if word and (tag.startswith(_NOUN_TAGS) or (len(word) == 1 and tag == "zg")):
            run.append((word, tag))
            continue
        if any(t.startswith(_NAME_TAGS) for _, t in run):
            out.append("".join(w for w, _ in run))
        run = []
    return out


def _names(text: str, tokenizer: Tokenizer) -> list[str]:
    """People, places and organisations (nz, "other proper noun", tags 新开通 too: not counted)."""
    return [w for w, t in tokenizer.tag_names(text) if t.startswith(("nr", "ns", "nt")) and len(w) >= 2]


def _tag_of(text: str, tokenizer: Tokenizer) -> str:
    tags = [t for _, t in tokenizer.tag_names(text) if t.startswith(_NAME_TAGS)]
    return tags[0][:2] if tags else ""
