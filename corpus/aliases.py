"""The archive's own abbreviations: (short form, long form) pairs an article states or uses.

Chinese news names an organisation or event in full once and shortens it after (天津市总工会 → 天津市总,
中华全国总工会 → 全总, 中国国际进口博览会（以下简称“进博会”）). ``mine_aliases`` reads one article's text
and returns the pairs it holds, of two kinds:

- **explicit**: the text says so — ``X（以下简称“Y”）``, ``X（简称Y）``, ``X（下称Y）``, ``X（以下称Y）``,
  ``X，简称为Y``, ``“X”简称Y``. The long form is the quoted or 《》 title right before the marker, else the
  run of name characters before it without what leads up to the name (``_trim``: anything up to a 了, 的,
  在, 从 …, then leading verbs, prepositions and time words: 召开, 近日), and it must end like a name
  (``NAME_ENDINGS`` and ``_THING_ENDINGS``: 计划, 框架, 方案 …). A document named by its kind (《条例》,
  《意见》, “标准”) is not an alias: the short form is the long form's last word, shared with every other
  document of that kind.
- **implicit**: a name ending in a kind of organisation or event (委员会, 总工会, 博览会, 运动会, 局, 部,
  院 …, ``NAME_ENDINGS``) and, elsewhere in the same article (a headline abbreviates what its body spells
  out: 天津市总与市审计局…), a 2–4 character form whose characters are a
  subsequence of the name, at least one from the name's own part (天津市 of 天津市总工会) and the last being
  the first or last character of its kind (市总 → 总工会, 进博会 → 博览会). Kept strict for precision: the
  name's own part has at least two characters (市总工会 is any city's); the form is not the name's tail
  (工会, 总工会), not a common word (``COMMON_WORDS``), and stands on its own in the text — not the start of
  a longer name (the 市总 of 市总工会) or word (the 政协委 of 政协委员), and not a piece of a longer string:
  its occurrences do not all share one neighbour (进博 is always 进博会), and a single occurrence has a
  boundary on both sides (punctuation, or a function character such as 的, 在, 与); a form fitting two
  different names of the article is left out. Recurrence across articles (the counts the store keeps)
  decides, when questions are widened, whether an implicit pair is used at all.

Pure and without a tokenizer, on purpose: it runs inside the store's write transaction for every article
ingested (so replacing or deleting an article keeps the counts right in the same transaction), and corpus
cannot use retrieval's segmenter (imports point the other way). Segmentation would not help much either:
jieba cuts 天津市总 as 天津市 / 总, which hides the 市总 a reader types.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from .text import CJK
from .workers import in_order

__all__ = [
    "COMMON_WORDS",
    "MINER_VERSION",
    "NAME_ENDINGS",
    "AliasCount",
    "MinedAlias",
    "explicit_mentions",
    "mine_aliases",
    "mine_each",
    "mining_text",
]

T = TypeVar("T")
_INLINE_FIRST = 2_000  # articles mined in this process before a longer stream gets worker processes
_BATCH = 500  # articles a worker mines at a time
_AHEAD_PER_WORKER = 4  # batches in flight per worker

#: Bump when the mining rules change: the store mines every stored article again when it is opened.
MINER_VERSION = 1

#: What an organisation or event name ends in (matched longest first). Single characters only for
#: offices (外交部, 统计局, 国家卫生健康委, 国务院), and not after a character that makes them a common
#: word (干部, 格局, 举办: ``_NOT_NAMES``).
NAME_ENDINGS = tuple(
    sorted(
        """
        委员会 总工会 联合会 工商联 博览会 运动会 交易会 洽谈会 展览会 博览交易会 峰会 论坛 协会 学会 商会
        基金会 代表大会 办公厅 办公室 管理局 监督局 科学院 研究院 研究所 研究中心 法院 检察院 大学 学院 中心 集团
        公司 银行 组织 联盟 总台 总署 总局
        委 局 部 厅 院 署 办
        """.split(),  # noqa: SIM905 - a word list reads best as words
        key=len,
        reverse=True,
    )
)
# What else an explicitly shortened thing may be called (an event, a plan, a treaty).
_THING_ENDINGS = tuple(
    """
    计划 工程 框架 方案 行动 活动 战略 倡议 协定 条约 公约 规划 项目 机制 体系 政策 平台 运动 赛 节 奖 区 港 站
    会 会议 指南 纲要
    """.split()  # noqa: SIM905
)

#: Words that are a short form of many names and of none in particular, or common on their own.
COMMON_WORDS = frozenset(
    """
    中国 国家 全国 中央 中共 社会 会议 大会 全会 委员 常委 工作 发展 部门 部长 局长 院长 会长 主席 书记 全体 会员
    院士 学会 学院 大学 学生 学校 中心 公司 集团 银行 组织 国际 中外 中华 人民 国务 国务院 政府 地方 部委 党委 工会
    保险公司 这家公司 该公司 家银行 服务中
    党组 委会 市委 省委 县委 区委 国会 政协 两会 大学生 中学 小学 总会 分会 公会 商会
    协会 总部 全部 内部 外部 干部 中部 东部 西部 南部 北部 全局 大局 开局 格局 当局 布局 医院 法院 学部 本部
    政治局 常委会 委员会 中央委 省政府 市政府 总局 分局 局部 全院 两院 院校 部署 电视台 广播电台 信心 科学 科研 司法
    议会 议院 剧院 广大 协商 国际组织 部委 外交部 商务部 国防部 工信部 民政部 财政部
    """.split()  # noqa: SIM905
)

# Two characters that make a name's last character the start of a common word (委员, 局长, 会议): a name
# ending there does not end there.
_CONTINUATIONS = frozenset(
    """
    委员 委托 委屈 局长 局面 局势 局部 局限 部长 部分 部署 部门 部队 部位 部件 部落 会议 会长 会见 会谈 会员
    会商 会晤 会计 会堂 会签 院长 院士 院校 院区 院线 厅长 署长 办法 办理 办好 办学 办案 办事
    心理 心中 心里 心愿 团长 团结 团体 团队 司长 司令 司法 行长 行动 行业 行为 织物 盟友 盟国 台湾 台阶 台风 坛子
    学生 学习 学校 学者 学科 学术 学员 学位 学院 学会 学报 学子 学风 学历 学业 学费 学期 组长 组建 组成 司机
    """.split()  # noqa: SIM905
)
# A single-character ending after these is a common word, not an office (干部, 格局, 举办, 医院).
_NOT_NAMES = frozenset(
    """
    干部 全部 内部 外部 局部 东部 西部 南部 北部 中部 总部 俱乐部 本部 头部 底部 顶部 腹部 胸部 面部 背部 基部
    颈部 腰部 腿部 足部 手部 脸部 口部 尾部 侧部 上部 下部 前部 后部 大部 细部 分部 支部 全省 各部
    开局 格局 大局 布局 当局 结局 全局 时局 变局 新局 骗局 破局 棋局 僵局 终局 定局 败局 残局 出局 入局 胜局
    举办 创办 主办 承办 开办 督办 查办 操办 兴办 包办 申办 协办 合办 代办 领办 帮办 筹办 交办 法办 分办 首办 联办 在办 问办
    医院 法院 学院 剧院 庭院 寺院 书院 影院 宅院 大院 小院 别院 住院 出院 入院 研院 两院 全院 本院 该院
    党委 纪委 常委 编委 市委 省委 县委 区委 村委 校委 军委 州委 旗委 镇委 乡委 委委 评委 主委 监委 政委 团委 工委
    公署 部署 官署 签署 专署 行署
    大厅 客厅 餐厅 展厅 舞厅 门厅 前厅 正厅 副厅 办厅 省厅 该厅 本厅 全厅 部委 党组织 协商会 协商委
    """.split()  # noqa: SIM905
)
# Characters that mark a word boundary before or after a form even without punctuation: function words,
# 届 of 本届进博会, 上 of 进博会上. A form does not start with one of ``_FUNCTION``.
_FUNCTION = frozenset("的了在和与及对向是为由从将把被让使给同跟于等届年次已也都还就并均再又其该")
_LEFT_BOUNDARY = _FUNCTION | frozenset("本今")
# After a form, also the first character of a verb news puts after a subject (县总不断…, 全总召开…, 进博会开幕…).
_RIGHT_BOUNDARY = _FUNCTION | frozenset("上中下后前期今首将不召举积开闭吸迎落")
# What leads up to a name inside a run of name characters: cut after the last of these …
_CUT_AFTER = re.compile(
    "[了的是在从向把被让给为]|(?<!自)由|会见|会晤|会谈|主持|召开|出席|考察|视察|致电|致信|回信|感谢|祝贺|代表|访问|走访|前往|来到"
    "|抵达|通话|宣布|发布|印发|举行|举办|参加|参观|调研|慰问|激励|记者|获悉|创立|创建|创办|成立|设立|组建"
)
_JOIN = re.compile("[与和及同]")
# … then take off leading time words, verbs and prepositions (近日天津市总工会…, 出席第六届进博会…).
_LEADING = re.compile(
    "|".join(
        sorted(
            """
        今天 今日 昨天 昨日 近日 日前 目前 此前 随后 当天 同日 近期 今年 去年 明年 上午 下午 晚上 当晚 近年来 多年来
        召开 举行 举办 开幕 闭幕 启动 成立 设立 组建 出席 参加 参与 参观 推出 发布 印发 实施 开展 建立 支持 加入
        来自 会同 牵头 组织 主办 承办 协办 指导 作为 位于 隶属 前往 走进 来到 访问 会见 会晤 邀请 应邀 代表
        根据 按照 依据 通过 经过 围绕 针对 关于 包括 其中 以及 及其 还有 并且 同时 此外 另外 对于 由于 为了 面向
        携手 记者 表示 指出 强调 认为 介绍 宣布 希望 呼吁 据悉 日电 电 讯 报道 消息
        携 与 同 跟 对 由 于 据 经 将 并 还 也 都 已 正 曾 又 再 即 就 均 共 仍 各 该 本 其 这 那 及 和
        """.split(),  # noqa: SIM905
            key=len,
            reverse=True,
        )
    )
)
_NAME_CHAR = f"{CJK}0-9０-９A-Za-zＡ-Ｚａ-ｚ·•—－\\-"
_NAME_RUN = re.compile(f"[{_NAME_CHAR}]+$")
_CJK_ONLY = re.compile(f"^[{CJK}]+$")
_IS_CJK = re.compile(f"[{CJK}]")
_ENDING = re.compile("|".join(NAME_ENDINGS))
_YEAR_OR_EDITION = re.compile(r"^(?:\d{4}年(?:[—－\-至到]\d{4}年)?|第?[0-9一二三四五六七八九十百]+届|首届)")
_NOTE = re.compile(r"[（(][^（）()]*[）)]|\d{4}年?版?$")
_QUOTES = {"”": "“", '"': '"', "」": "「", "》": "《", "』": "『", "’": "‘"}
_EXPLICIT = re.compile(
    r"(?:[（(]\s*(?:以下|下文)?简称|[（(]\s*(?:以下|下)称|[，,]\s*(?:以下)?简称|(?<=[”\"」》])简称)"
    r"(?:为)?\s*[：:]?\s*"
    r"(?:[“\"「《『](?P<quoted>[^“”\"「」《》『』（）()\n]{1,20})[”\"」》』]|(?P<bare>[^\s“”\"「」《》『』（）()，,。；;：:、\n]{2,12}))"
)
_MAX_LONG = 24


@dataclass(frozen=True, kw_only=True)
class MinedAlias:
    """One pair an article holds: ``short`` stands for ``long``; ``explicit`` when the text says so."""

    short: str
    long: str
    explicit: bool


@dataclass(frozen=True, kw_only=True)
class AliasCount:
    """A pair as the store keeps it: how many articles hold it, and how many of them state it."""

    short: str
    long: str
    articles: int
    explicit: int


def mining_text(kicker: str, headline: str, subtitle: str, paragraphs: Iterable[str]) -> str:
    """The text of an article that is mined, a line per part: the same when it is stored and mined again."""
    return "\n".join(part for part in (kicker, headline, subtitle, *paragraphs) if part)


def mine_aliases(text: str) -> list[MinedAlias]:
    """The (short, long) pairs one article's text holds, each once (explicit wins over implicit)."""
    found: dict[tuple[str, str], bool] = {}
    for short, long, kept in explicit_mentions(text):
        if kept:
            found[(short, long)] = True
    for short, long in _implicit(text):
        found.setdefault((short, long), False)
    return [MinedAlias(short=s, long=lg, explicit=e) for (s, lg), e in found.items()]


def mine_each(items: Iterable[T], text_of: Callable[[T], str]) -> Iterator[tuple[T, list[MinedAlias]]]:
    """Each item with ``mine_aliases`` of its text, in order. A long stream (an archive's file: mining is
    half of storing it) is mined in worker processes a batch at a time while the caller stores what is
    done; the first ``_INLINE_FIRST`` items, and everything when the workers fail, are mined here.
    Errors of ``items`` itself (a file that cannot be read) reach the caller as they are."""
    it = iter(items)
    for item in itertools.islice(it, _INLINE_FIRST):
        yield item, mine_aliases(text_of(item))
    taken: deque[list[T]] = deque()  # batches given out, not yet yielded

    def texts() -> Iterator[list[str]]:
        while batch := list(itertools.islice(it, _BATCH)):
            taken.append(batch)
            yield [text_of(x) for x in batch]

    found = in_order(
        _mine_batch,
        texts(),
        here=_mine_batch,
        ahead_per_worker=_AHEAD_PER_WORKER,
        what="mining abbreviations",
    )
    for pairs in found:
        yield from zip(taken.popleft(), pairs, strict=True)


def _mine_batch(texts: list[str]) -> list[list[MinedAlias]]:
    return [mine_aliases(t) for t in texts]


def explicit_mentions(text: str) -> list[tuple[str, str, bool]]:
    """Every explicit pattern of the text as (short, long, kept): not kept are a document named by its kind
    (《条例》) and a long form that does not read as a name (the benchmark counts both)."""
    out: list[tuple[str, str, bool]] = []
    if "称" not in text:
        return out
    for m in _EXPLICIT.finditer(text):
        short = _clean(m.group("quoted") or m.group("bare") or "")
        long, quoted = _long_before(text, m.start())
        if long:
            # 第22届中国—东盟博览会 (东博会) names every year's expo; 第十四届全国冬季运动会 (十四冬) one of them.
            undated = _YEAR_OR_EDITION.sub("", long)
            long = undated if len(undated) >= 2 and all(c in undated for c in short) else long
        out.append((short, long or "", _keep_explicit(short, long, quoted)))
    return out


# --- explicit --------------------------------------------------------------------------------------------


def _keep_explicit(short: str, long: str | None, quoted: bool) -> bool:
    if not long or len(short) < 2 or len(short) >= len(long) or short in COMMON_WORDS:
        return False
    if any(c in short for c in "或、/"):
        return False  # 简称甲或乙: two short forms in one, not one
    if _NOTE.sub("", long).endswith(_NOTE.sub("", short)):
        return False  # 《条例》 of 《军队功勋荣誉表彰条例》: the document's kind, not its name
    if not quoted and not long.endswith(NAME_ENDINGS + _THING_ENDINGS):
        return False  # …在哈尔滨成立，简称“哈军工”: what precedes is a clause, not the name
    return any(c in long for c in short)


def _long_before(text: str, end: int) -> tuple[str | None, bool]:
    """The name ending at ``end`` and whether it was quoted: a quoted or 《》 title, else the trimmed run
    of name characters."""
    while end > 0 and text[end - 1] in " \u3000":
        end -= 1
    if end == 0:
        return None, False
    closer = text[end - 1]
    if closer in _QUOTES:
        start = text.rfind(_QUOTES[closer], max(0, end - 80), end - 1)
        if start < 0:
            return None, True
        inner = _clean(text[start + 1 : end - 1])
        return (inner if 2 <= len(inner) <= 80 else None), True
    run = _NAME_RUN.search(text, max(0, end - 60), end)
    if run is None:
        return None, False
    name = _trim(run.group(), keep=2)
    return (name if 2 <= len(name) <= _MAX_LONG else None), False


def _clean(text: str) -> str:
    return text.strip().strip('“”"「」《》『』‘’ \u3000')


def _trim(run: str, keep: int = 0) -> str:
    """A run of name characters without what leads up to the name in it (the last ``keep`` characters are
    the name's ending and stay)."""
    head = run[: len(run) - keep] if keep else run
    cut = max((m.end() for m in _CUT_AFTER.finditer(head)), default=0)
    # 天津市总工会与市审计局: a name joined to the next one; 中国环境与发展国际合作委员会 is one name.
    joined = max(
        (m.end() for m in _JOIN.finditer(head) if head[: m.start()].endswith(NAME_ENDINGS)), default=0
    )
    run = run[max(cut, joined) :]
    while (m := _LEADING.match(run)) and len(run) - m.end() >= max(keep, 1):
        run = run[m.end() :]
    return run


# --- implicit --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Name:
    long: str
    own: int  # length of its own part: the ending (委员会, 总工会) starts there


def _implicit(text: str) -> Iterable[tuple[str, str]]:
    names = _names(text)
    if not names:
        return
    # Positions a form may not end at: inside a name ending that goes on (市总|工会), or before a character
    # making a common word with the one before (政协委|员).
    inside: set[int] = set()
    for m in _ENDING.finditer(text):
        inside.update(range(m.start() + 1, m.end()))
    by_last: dict[str, list[_Name]] = {}  # names by the first and last characters of their ending
    firsts: dict[str, set[str]] = {}  # and the characters a form of one of them can start with
    for name in names:
        for c in {name.long[name.own], name.long[-1]}:
            by_last.setdefault(c, []).append(name)
            firsts.setdefault(c, set()).update(name.long[: name.own])
    occurrences: dict[tuple[str, str], list[int]] = {}
    ends = sorted(pos + 1 for c in by_last for pos in _find_all(text, c))
    for end in ends:
        if end < 2 or end in inside or text[end - 1 : end + 1] in _CONTINUATIONS:
            continue
        fitting = by_last[text[end - 1]]
        can_start = firsts[text[end - 1]]
        for size in (2, 3, 4):
            start = end - size
            if start < 0:
                break
            if text[start] not in can_start:  # no fitting name has it in its own part (most places)
                continue
            short = text[start:end]
            if short[0] in _FUNCTION or short in COMMON_WORDS or not _CJK_ONLY.match(short):
                continue
            for name in fitting:
                if _abbreviates(short, name):
                    occurrences.setdefault((short, name.long), []).append(start)
    longs: dict[str, set[str]] = {}
    for (short, long), starts in occurrences.items():
        if _stands_alone(text, short, starts):
            longs.setdefault(short, set()).add(long)
    for short, found in longs.items():
        chosen = _one_name(found)
        if chosen is not None:
            yield short, chosen


def _find_all(text: str, char: str) -> Iterable[int]:
    pos = text.find(char)
    while pos >= 0:
        yield pos
        pos = text.find(char, pos + 1)


def _names(text: str) -> list[_Name]:
    """The organisation and event names of a text, each at its first mention."""
    names: dict[str, _Name] = {}
    for m in _ENDING.finditer(text):
        ending, start, end = m.group(), m.start(), m.end()
        if text[end - 1 : end + 1] in _CONTINUATIONS:
            continue  # 委员会议, 外交部长: the ending is the start of a word
        if text[start - 1 : end] in _NOT_NAMES or text[start - 2 : end] in _NOT_NAMES:
            continue  # 干部, 格局, 党组织: a common word
        if len(ending) == 1 and text[start - 1 : start] in _FUNCTION:
            continue  # 中国和委内瑞拉
        run = _NAME_RUN.search(text, max(0, start - 40), start)
        if run is None:
            continue
        own = _trim(run.group())
        undated = _YEAR_OR_EDITION.sub("", own)
        own = undated if len(undated) >= 2 else own
        if len(own) < 2 or not _CJK_ONLY.match(own):
            continue
        long = own + ending
        if len(long) <= _MAX_LONG and long not in names:
            names[long] = _Name(long, len(own))
    return list(names.values())


def _abbreviates(short: str, name: _Name) -> bool:
    """Whether ``short`` can stand for ``name``: its characters in order, the last one the first or last of
    the name's ending, at least one from the name's own part; not the name's tail."""
    long = name.long
    if short[0] not in long[: name.own] or len(long) < len(short) + 2 or long.endswith(short):
        return False
    if short in long[: name.own]:
        return False  # 红十字会 of 红十字会与红新月会国际联合会: a name within the name
    ending = long[name.own :]
    if short.endswith(ending):
        if len(ending) >= 3:
            return False  # 央委员会: a three-character ending is always shortened (国资委, 进博会, 全总)
        if long.startswith(short[: -len(ending)]):
            return False  # 中国银行 is not 中国人民银行, 国防大学 not 国防科技大学 (上合组织 is 上海合作组织)
    last = short[-1]
    if last not in (long[name.own], long[-1]):
        return False
    pos = long.rfind(last)
    for c in reversed(short[:-1]):
        pos = long.rfind(c, 0, pos)
        if pos < 0:
            return False
    return pos < name.own


def _stands_alone(text: str, short: str, starts: list[int]) -> bool:
    """Whether the form is a word of its own, not a piece of a longer string (合组织 of 上合组织, 中国科 of
    中国科技): somewhere it follows a boundary (punctuation, a function character) and somewhere one
    follows it."""
    n = len(text)
    left = any(s == 0 or _boundary(text[s - 1], _LEFT_BOUNDARY) for s in starts)
    right = any(s + len(short) >= n or _boundary(text[s + len(short)], _RIGHT_BOUNDARY) for s in starts)
    return left and right


def _boundary(char: str, function: frozenset[str]) -> bool:
    return not _IS_CJK.match(char) or char in function


def _one_name(longs: set[str]) -> str | None:
    """The name a form stands for when the article gives one (variants nest: 按照天津市总工会 ends in
    天津市总工会, the shortest is taken); None when it fits two different names."""
    shortest = min(longs, key=len)
    return shortest if all(lg.endswith(shortest) for lg in longs) else None
