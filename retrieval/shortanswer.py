"""The short answer: one span of the best quote that answers the question, when the kind of answer is clear.

A number with its unit for 多少/几, a date or period for 何时/哪天/哪几天/哪一年, a person for 谁, a place for
哪里, a title in 《》 (or a name in “”) for 什么/哪部. Candidates of the asked kind are read from the quote's
sentences that hold the question's words, those the question itself contains are dropped, and one is
shown only when it is the only candidate of its kind there or clearly the nearest to the question's words
(a wrong short answer is worse than none: when unsure, nothing is shown).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from corpus.text import CLAUSE_END, SENTENCE_END

from .lexicon import CLASSIFIERS, NUMBER, PERSON, PLACE, REASON, TIME, WHAT
from .question import ASKING_ROLE, CONTENT, Question
from .tokenize import Tokenizer

__all__ = ["ShortAnswer", "short_answer"]


@dataclass(frozen=True, kw_only=True)
class ShortAnswer:
    """``text`` answers the question; ``start``/``end`` locate it in the quote it was read from."""

    text: str
    start: int
    end: int
    kind: str


_DIGITS = r"\d+(?:[.,，]\d+)*"
_HAN_NUMBER = r"[一二两三四五六七八九十百千万亿零〇]+"
_MULTI_UNITS = (
    "美元|欧元|加元|港元|日元|英镑|镑|卢布|元|人次|辆次|架次|艘次|车次|平方公里|平方千米|平方公尺|平方米|立方公尺|立方米|"
    "公里|千米|厘米|毫米|公分|公尺|英里|英尺|英寸|英呎|米|公顷|亩|吨|千克|公斤|克|升|标准箱|标箱|千瓦时|千瓦|兆瓦|度|"
    "小时|分钟|秒|件套|个百分点|个月|周年|年|天|岁|倍|届|次|班|点|票|%|％"
)
_NUMBER = re.compile(
    rf"(?:{_DIGITS}|{_HAN_NUMBER})(?:\s*[万亿千百]{{1,2}})?(?:多|余)?\s*(?:{_MULTI_UNITS}|[{CLASSIFIERS}])"
    r"|百分之[一二三四五六七八九十点零〇\d.]+"
    rf"|(?:{_DIGITS})(?:\.\d+)?%"
)
_DAY = r"\d{1,2}[日号]"
_MONTH = r"\d{1,2}月"
_YEAR = r"\d{4}年"
_TO = r"(?:至|到|—|－|-|~|～)"
_DATE = re.compile(
    rf"(?:{_YEAR})?{_MONTH}{_DAY}{_TO}(?:{_MONTH})?{_DAY}"  # 9月24日至27日
    rf"|(?:{_YEAR})?{_MONTH}(?:上旬|中旬|下旬|底|初|中)?{_TO}{_MONTH}(?:上旬|中旬|下旬|底|初)?"  # 3月至5月
    rf"|{_YEAR}{_TO}{_YEAR}"  # 2021年至2025年
    rf"|{_YEAR}{_MONTH}{_DAY}(?:[上下]午\d{{1,2}}[时点](?:\d{{1,2}}分)?)?"
    rf"|{_YEAR}{_MONTH}(?:上旬|中旬|下旬|底|初)?"
    rf"|{_MONTH}{_DAY}(?:[上下]午\d{{1,2}}[时点](?:\d{{1,2}}分)?)?"
    rf"|{_YEAR}(?:上半年|下半年|年底|年初)?"
    rf"|\d{{2,4}}年代"
)
_TITLE = re.compile(r"《[^《》]{1,40}》")
_QUOTED = re.compile(r"“[^“”]{2,20}”")
_QUOTED_ASKS = re.compile(r"口号|主题|称号|理念|名称|叫什么|称为|被誉为|誉为|昵称|简称|别称|精神")
_TITLE_ASKS = re.compile(
    r"《|书|著作|作品|电影|影片|电视剧|剧|节目|歌曲|歌|诗|文件|条例|法律|办法|规划|报告|纲要|意见|小说|杂志|报纸|刊物|专辑"
)
_YEAR_ASKED = re.compile(r"哪一?年|几几年|什么年份|年份")
_DAY_ASKED = re.compile(r"哪一?天|哪几天|几月几[日号]|几号|哪一?日|什么日子")
_CLAUSES = re.compile(f"(?<=[{SENTENCE_END}{CLAUSE_END}])")
_PERSON_TAGS = ("nr",)
_ASPECT = set("得着了地过")
_NOT_A_NAME = ("v", "p", "u", "c", "d", "m", "q", "x", "y", "r")
_CJK_ONLY = re.compile(r"[\u4e00-\u9fff]+")
_NAME_ASKED = re.compile(r"^(?:叫什么(?:名字)?|是谁|叫啥|名叫什么|起了什么名字)")
_PERSON_ROLES = frozenset(
    [
        "总统",
        "主席",
        "议长",
        "书记",
        "总理",
        "首相",
        "部长",
        "专员",
        "博士",
        "院士",
        "教练",
        "队长",
        "演员",
        "歌手",
        "作者",
        "导演",
        "主演",
        "创始人",
        "掌门人",
        "负责人",
        "董事长",
        "代表",
        "委员",
        "主任",
        "局长",
        "司长",
        "市长",
        "县长",
        "村长",
        "校长",
        "园长",
        "馆长",
        "他",
        "她",
    ]
)
_PERSON_ROLE_ENDS = "长员手家师者官帅"
_NAME_PARTS = ("n", "nr", "ns", "nz", "nt", "j", "eng")
_MAX_NAME = 8
_LIST_ASKED = re.compile(r"哪几(?!天)|哪些|分别")
_PLACE_TYPE = re.compile(
    r"哪(?:一|个|座|一个)?(村|镇|乡|县|区|市|省|州|岛|山|河|湖|港|站|街|路)|(?:哪里|哪儿|何地|何处)(人)"
)
_LOCATIVE = re.compile(r"(?:在|于|位于|来自|到|赴|抵达|前往|来到|发源于|出生于|生于|落户|迁往|迁至)$")
_SUPPORT = 0.2  # share of the question's words the candidate's sentence must hold
_SHARE_OF_BEST = 0.6  # … and at least this much of the best sentence's share
_SENTENCE_START = re.compile(f"(?:^|(?<=[{SENTENCE_END}]))")
_BESIDE = 2  # characters between a name and the question's nearest word, at most
_SENTENCE = re.compile(f"[{SENTENCE_END}]")
_CONTEXT = 12  # characters of the question's words matched on either side of the gap, at most
_MIN_LEFT = 2
_MAX_GAP = 20
_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_BREAK = re.compile(r"[，。；！？、：,;!?:（）()“”《》]")
_TRAILING = re.compile(r"[？?。！!\s]+$|[呢吗啊呀吧]+[？?。！!\s]*$")
_UNIT_CHAR = re.compile(rf"[{CLASSIFIERS}元米吨亩%]")
_NOT_FIRST = "的了之中等所其或及和与而则」』）)"
_LEAD = re.compile(r"(?:是|为|达到|达|约|共|有|超过|在|于|叫做|叫|称为|称|名为|即|由|就是|乃|位于)+")
_PLACE_TAGS = ("ns",)
_WINDOW = 20  # characters on either side of a candidate where the question's words count for it
_MIN_CLOSENESS = 2.0
_MARGIN = 1.5
_UNITLESS_MARGIN = 2.0  # a number whose unit the question does not say: a wider lead


def short_answer(question: Question, quote: str, tokenizer: Tokenizer) -> ShortAnswer | None:
    """The span of ``quote`` that answers ``question``, or None when the kind is unclear or unsure."""
    kind = question.kind
    if kind == REASON or not quote:
        return None
    text = _same_length(quote, tokenizer)
    asked = tokenizer.normalize(question.text)
    if _LIST_ASKED.search(asked):
        return None  # several answers (哪些, 哪几个, 分别): the quotes say them better than one line
    span = _gap(question, text, asked, kind, tokenizer)
    if span is None and kind in (NUMBER, TIME, PERSON, PLACE, WHAT):
        span = _typed(question, text, asked, kind, tokenizer)
    if span is None:
        return None
    start, end = span
    return ShortAnswer(text=quote[start:end], start=start, end=end, kind=kind or WHAT)


def _typed(
    question: Question, text: str, asked: str, kind: str, tokenizer: Tokenizer
) -> tuple[int, int] | None:
    """The one candidate of the asked kind in the quote (or the clearly nearest to the question's words)."""
    if kind == NUMBER:
        if len(re.findall("多少|几", _NOT_ASKING.sub("", asked))) > 1:
            return None  # 几章几条: two numbers asked for
        found = _numbers(text, asked, question)
    elif kind == TIME:
        found = _dates(text, asked)
    elif kind == PERSON:
        found = _tagged(text, asked, tokenizer, _PERSON_TAGS)
    elif kind == PLACE:
        found = _places(text, asked, tokenizer)
    elif _names_a_person(question):
        found = _tagged(text, asked, tokenizer, _PERSON_TAGS)
        kind = PERSON
    else:
        found = _titles(text, asked) or _headed(question, text, asked, tokenizer)
    anchors = _anchors(question)
    # The candidate's sentence must be the one that answers: near the best share of the question's words.
    best = max(
        (_support(text, (m.start(), m.start()), anchors) for m in _SENTENCE_START.finditer(text)), default=0.0
    )
    found = [
        f for f in found if (held := _support(text, f, anchors)) >= _SUPPORT and held >= _SHARE_OF_BEST * best
    ]
    if kind in (PERSON, PLACE):  # names are many in a sentence: only the one beside the question's words
        found = [f for f in found if _distance(text, f, anchors) <= _BESIDE]
    if kind == NUMBER and "第几" in asked:
        found = [f for f in found if text[f[0]] == "第"]
    margin = _MARGIN if kind != NUMBER or _asked_units(asked) else _UNITLESS_MARGIN
    return _choose(text, found, anchors, margin) if found else None


def _support(text: str, span: tuple[int, int], anchors: list[str]) -> float:
    """The share of the question's words the sentence holding ``span`` holds (by characters)."""
    if not anchors:
        return 0.0
    start = max((m.end() for m in _SENTENCE.finditer(text, 0, span[0])), default=0)
    after = _SENTENCE.search(text, span[1])
    sentence = text[start : after.end() if after else len(text)]
    held = sum(len(a) for a in anchors if a in sentence)
    return held / sum(len(a) for a in anchors)


def _distance(text: str, span: tuple[int, int], anchors: list[str]) -> int:
    positions = [p for a in anchors for p in _starts(text, a)]
    ends = [p + len(a) for a in anchors for p in _starts(text, a)]
    before = min((span[0] - e for e in ends if e <= span[0]), default=10**6)
    after = min((p - span[1] for p in positions if p >= span[1]), default=10**6)
    return min(before, after)


def _gap(
    question: Question, text: str, asked: str, kind: str | None, tokenizer: Tokenizer
) -> tuple[int, int] | None:
    """The answer as the gap a sentence leaves where the question has its question word: the words before
    the question word end just before it and the words after it begin just after (范廷颂 ___ 被任为主教)."""
    words, roles = question.words, question.roles
    at = next((i for i, r in enumerate(roles) if r == ASKING_ROLE), None)
    if at is None:
        return None
    end_ask = at
    while end_ask < len(words) and roles[end_ask] == ASKING_ROLE:
        end_ask += 1
    left = "".join(words[:at])
    right = _TRAILING.sub("", "".join(words[end_ask:]))
    best: tuple[int, int, int, int] | None = None  # (right matched, left matched, start, end)
    for size in range(min(len(left), _CONTEXT), _MIN_LEFT - 1, -1):
        suffix = left[-size:]
        if not _WORD.search(suffix):
            continue
        for at_suffix in _starts(text, suffix):
            start = at_suffix + len(suffix)
            found = _after(text, start, right)
            if found is None:
                continue
            matched, end = found
            if best is None or matched > best[0]:
                best = (matched, size, start, end)
        if best is not None:
            break
    if best is None:
        return None
    right_matched, left_matched, start, end = best
    if kind in (WHAT, None) and not (
        (left_matched >= 3 and right_matched >= 2) or (left_matched >= 3 and not right and end - start <= 15)
    ):
        return None  # a description, not a typed answer: only when the sentence mirrors the question
    return _typed_gap(text, start, end, kind, asked, tokenizer)


def _after(text: str, start: int, right: str) -> tuple[int, int] | None:
    """Where the gap that starts at ``start`` ends: before the longest beginning of ``right`` found within
    reach (with how many characters of it matched), or at the end of the clause when ``right`` is empty."""
    reach = text[start : start + _MAX_GAP + len(right)]
    for size in range(min(len(right), _CONTEXT), 0, -1):
        prefix = right[:size]
        if size < 2 and not _UNIT_CHAR.fullmatch(prefix):
            break
        at = reach.find(prefix, 1)
        if 0 < at <= _MAX_GAP and not _BREAK.search(reach[:at]):
            return size, start + at
    if right:
        return None
    clause = _BREAK.search(reach)
    end = clause.start() if clause else -1
    return (0, start + end) if 0 < end <= _MAX_GAP else None


def _typed_gap(
    text: str, start: int, end: int, kind: str | None, asked: str, tokenizer: Tokenizer
) -> tuple[int, int] | None:
    """The gap, trimmed of the verbs that introduce an answer, if it holds an answer of the asked kind."""
    lead = _LEAD.match(text, start, end)
    if lead:
        start = lead.end()
    while end > start and text[end - 1] in "的了":
        end -= 1
    gap = text[start:end]
    if not gap or gap in asked or not _WORD.search(gap) or gap[0] in _NOT_FIRST:
        return None
    if kind in (NUMBER, TIME):
        pattern = _NUMBER if kind == NUMBER else _DATE
        found = [m for m in pattern.finditer(gap) if kind == TIME or not _NOT_A_QUANTITY.fullmatch(m.group())]
        if len(found) != 1:
            return None  # none, or several (1998年和2015年): not one answer
        return start + found[0].start(), start + found[0].end()
    if kind in (PERSON, PLACE):
        tags = _PERSON_TAGS if kind == PERSON else _PLACE_TAGS
        inside = _tagged(gap, asked, tokenizer, tags)
        if len(inside) == 1:
            return start + inside[0][0], start + inside[0][1]
        return (start, end) if len(gap) <= 6 and not inside else None
    return (start, end) if len(gap) <= _MAX_GAP else None


def _anchors(question: Question) -> list[str]:
    """The question's content words (two characters or more), which the answer stands near."""
    return [w for w, r in zip(question.words, question.roles, strict=True) if r == CONTENT and len(w) >= 2]


def _choose(
    text: str, found: list[tuple[int, int]], anchors: list[str], margin: float = _MARGIN
) -> tuple[int, int] | None:
    """The one candidate, or the one whose surroundings hold clearly more of the question's words (each
    counted by its length, less the farther it stands, within the candidate's clause and the ones beside)."""
    found = sorted(set(found))
    scored = sorted(((_closeness(text, f, anchors), f) for f in found), reverse=True)
    if len({text[s:e] for s, e in found}) == 1:  # one candidate, maybe said twice: where it is closest
        return scored[0][1]
    (best, span), (second, _) = scored[0], scored[1]
    return span if best >= _MIN_CLOSENESS and best >= margin * second else None


def _closeness(text: str, span: tuple[int, int], anchors: list[str]) -> float:
    lo, hi = max(0, span[0] - _WINDOW), min(len(text), span[1] + _WINDOW)
    score = 0.0
    for a in anchors:
        best = 0.0
        for start in _starts(text, a, lo, hi):
            end = start + len(a)
            gap = span[0] - end if end <= span[0] else start - span[1] if start >= span[1] else 0
            best = max(best, len(a) * (1 - max(gap, 0) / _WINDOW))
        score += best
    return score


def _starts(text: str, literal: str, lo: int = 0, hi: int | None = None) -> Iterator[int]:
    """Where ``literal`` occurs in ``text[lo:hi]``, not overlapping (as ``re.finditer`` finds it, without
    compiling a pattern per word: the words differ with every question and overflowed ``re``'s cache)."""
    hi = len(text) if hi is None else hi
    at = text.find(literal, lo, hi) if literal else -1
    while at >= 0:
        yield at
        at = text.find(literal, at + len(literal), hi)


def _not_asked(text: str, asked: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(s, e) for s, e in spans if text[s:e] not in asked]


def _numbers(text: str, asked: str, question: Question) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _NUMBER.finditer(text)]
    spans = [(s, e) for s, e in spans if not _NOT_A_QUANTITY.fullmatch(text[s:e])]
    spans = _not_asked(text, asked, spans)
    units = _asked_units(asked)
    if units:
        spans = [(s, e) for s, e in spans if any(u in text[s:e] for u in units)]
    return spans


# A year or a day is a date; 一个, 一家, 一年 are articles of speech more often than quantities.
_NOT_A_QUANTITY = re.compile(
    rf"\d{{4}}年|\d{{1,2}}[日号月]|一[{CLASSIFIERS}]|[一二两三四五六七八九十]{{1,2}}[年月天]"
)
_ASKED_UNIT = re.compile(rf"(?:多少|几)[万亿千百]{{0,2}}((?:{_MULTI_UNITS}|[{CLASSIFIERS}]))")
_NOT_ASKING = re.compile(r"[前这近头后]几[天年月日周个]|几乎|好几")
# Units that answer a question naming another: 多少人 is answered in 名 or 位 too.
_SAME_UNIT = {"人": ("人", "名", "位"), "名": ("人", "名", "位"), "位": ("人", "名", "位")}
_ASKED_MEASURE = (
    (re.compile(r"比例|比重|占比|百分之|增幅|增速|降幅|率是|率为|率达|率有"), ("%", "％", "百分点", "成")),
    (
        re.compile(r"多深|多高|多长(?!时间)|多远|多宽|多厚|身高|海拔|长度|高度|深度|距离|直径|体长"),
        ("米", "公里", "千米", "公分", "公尺", "英里", "英尺", "英寸"),
    ),
    (re.compile(r"多重|重量|体重"), ("吨", "公斤", "千克", "克", "斤")),
    (re.compile(r"面积"), ("平方", "公顷", "亩")),
    (re.compile(r"多少钱|金额|投资|资金|经费|价值|价格|营收|收入|产值|总额|费用|成本|利润"), ("元",)),
    (
        re.compile(r"多长时间|多久|多少年|几年|多少天|几天|多少个月|几个月|多少小时|几个小时"),
        ("年", "天", "月", "小时", "分钟", "秒"),
    ),
    (re.compile(r"多少岁|几岁|年龄|年纪"), ("岁",)),
)


def _asked_units(asked: str) -> tuple[str, ...]:
    """The units an answer may carry, by what the question names (多少万标箱 → 标箱, 多重 → 吨 …); () when
    the question does not say."""
    asked = _NOT_ASKING.sub("", asked)
    m = _ASKED_UNIT.search(asked)
    if m:
        return _SAME_UNIT.get(m.group(1), (m.group(1),))
    for pattern, units in _ASKED_MEASURE:
        if pattern.search(asked):
            return units
    return ()


def _dates(text: str, asked: str) -> list[tuple[int, int]]:
    spans = _not_asked(text, asked, [(m.start(), m.end()) for m in _DATE.finditer(text)])
    if _YEAR_ASKED.search(asked):
        spans = [(s, e) for s, e in spans if "年" in text[s:e]]
    elif _DAY_ASKED.search(asked):
        spans = [(s, e) for s, e in spans if re.search(r"[日号]", text[s:e])]
    return spans


def _positioned(text: str, tokenizer: Tokenizer) -> list[tuple[int, int, str]]:
    """Each word of ``text`` with its part-of-speech tag, as (start, end, tag)."""
    words: list[tuple[int, int, str]] = []
    pos = 0
    for word, tag in tokenizer.tag_names(text):
        at = text.find(word, pos)
        if at >= 0:
            pos = at + len(word)
            words.append((at, pos, tag))
    return words


def _tagged(text: str, asked: str, tokenizer: Tokenizer, tags: tuple[str, ...]) -> list[tuple[int, int]]:
    """Words of the given tags, two characters or more, that the question does not hold; names jieba
    splits are joined (浙江 丽水 → 浙江丽水; a surname 李 with 明远 → 李明远)."""
    words = _positioned(text, tokenizer)
    spans: list[tuple[int, int]] = []
    k = 0
    while k < len(words):
        at, end, tag = words[k]
        k += 1
        if not tag.startswith(tags):
            continue
        if tag.startswith("nr") and end - at == 1 and k < len(words):  # a surname on its own
            nxt = words[k]
            if (
                nxt[1] - nxt[0] <= 2
                and not nxt[2].startswith(_NOT_A_NAME)
                and _CJK_ONLY.fullmatch(text[nxt[0] : nxt[1]])
            ):
                end, k = nxt[1], k + 1
        while (
            k < len(words)
            and words[k][0] == end
            and words[k][2].startswith(tags)
            and not tags[0].startswith("nr")
        ):
            end, k = words[k][1], k + 1  # places next to each other are one place
        if tag.startswith("nr") and end - at == 3 and text[end : end + 1] in _ASPECT:
            end -= 1  # 王青急得上火: the name's last character is the verb the particle follows
        if end - at >= 2 and text[at:end] not in asked:
            spans.append((at, end))
    return spans


def _names_a_person(question: Question) -> bool:
    """什么 asking for a person's name: 那位副镇长叫什么, 议长叫什么名字."""
    words, roles = question.words, question.roles
    at = next((i for i, r in enumerate(roles) if r == ASKING_ROLE), None)
    if at is None or not _NAME_ASKED.match("".join(words[at:])):
        return False
    before = next(
        (w for w, r in zip(words[at - 1 :: -1], roles[at - 1 :: -1], strict=True) if r == CONTENT), ""
    )
    return bool(before) and (before in _PERSON_ROLES or before[-1] in _PERSON_ROLE_ENDS)


def _headed(question: Question, text: str, asked: str, tokenizer: Tokenizer) -> list[tuple[int, int]]:
    """Names ending in the noun the question asks about (哪座山 → 赫尔蒙山, 那条街叫什么 → 量子大街): a word
    ending in it, with the nouns right before it."""
    head = _head_noun(question)
    if not head:
        return []
    ending = head[-2:]
    words = _positioned(text, tokenizer)
    spans = []
    for k, (at, end, _) in enumerate(words):
        if not text[at:end].endswith(ending):
            continue
        begin, j = at, k - 1
        while j >= 0 and words[j][2].startswith(_NAME_PARTS) and end - words[j][0] <= _MAX_NAME:
            begin, j = words[j][0], j - 1
        if end - begin > len(head) and text[begin:end] not in asked:
            spans.append((begin, end))
    return spans


def _head_noun(question: Question) -> str:
    words, roles = question.words, question.roles
    for i, (w, r) in enumerate(zip(words, roles, strict=True)):
        if r == ASKING_ROLE and w.startswith("哪") and i + 1 < len(words) and roles[i + 1] == CONTENT:
            return words[i + 1]
        if r == ASKING_ROLE and _NAME_ASKED.match("".join(words[i:])) and i > 0:
            before = [x for x, y in zip(words[:i], roles[:i], strict=True) if y == CONTENT]
            return before[-1] if before else ""
    return ""


def _places(text: str, asked: str, tokenizer: Tokenizer) -> list[tuple[int, int]]:
    """Places: of the type the question names (哪个县 → …县, 哪里人 → …人), else after a word that
    introduces a place (在, 位于, 来自 …)."""
    typed = _PLACE_TYPE.search(asked)
    spans = _tagged(text, asked, tokenizer, (*_PLACE_TAGS, "n", "nz", "nt", "s"))
    if typed:
        suffix = typed.group(1) or typed.group(2)
        if suffix == "人":  # 哪里人: the place of origin, shown with 人 (湖北人)
            return [
                (s, e + 1) for s, e in spans if text[e : e + 1] == "人" and _place_tag(text[s:e], tokenizer)
            ]
        return [(s, e) for s, e in spans if text[s:e].endswith(suffix) and len(text[s:e]) > len(suffix)]
    return [
        (s, e)
        for s, e in spans
        if _LOCATIVE.search(text[max(0, s - 3) : s]) and _place_tag(text[s:e], tokenizer)
    ]


def _place_tag(word: str, tokenizer: Tokenizer) -> bool:
    return any(tag.startswith(_PLACE_TAGS) for _, tag in tokenizer.tag_names(word))


def _titles(text: str, asked: str) -> list[tuple[int, int]]:
    if _TITLE_ASKS.search(asked):
        return _not_asked(text, asked, [(m.start(), m.end()) for m in _TITLE.finditer(text)])
    if _QUOTED_ASKS.search(asked):
        return _not_asked(text, asked, [(m.start() + 1, m.end() - 1) for m in _QUOTED.finditer(text)])
    return []


def _same_length(text: str, tokenizer: Tokenizer) -> str:
    """``text`` normalised character by character (full-width forms, traditional characters), keeping
    every position: a character whose normal form is longer (… → ...) stays as it is."""
    out = []
    for char in text:
        normal = tokenizer.normalize_cached(char)
        out.append(normal if len(normal) == 1 else char)
    return "".join(out)
