"""Every list of question words, in one place: what only asks, what only points, what only fills.

- ``STOPWORDS``: function words, pronouns and question words. The tokenizer drops them from questions and
  breaks character-pair runs at them in every text, so changing this set changes index tokens (bump the
  tokenizer's version when you do).
- ``QUESTION_FRAMES``: phrases that say how a question asks (多少钱, 叫什么名字, 是谁): the 钱 of 多少钱 is
  not what the question is about.
- ``ASKING``/``DEICTIC``/``HOW``: words that ask (什么, 多少个, 第几, 多 + 大/高 …) or point at the
  conversation (这儿, 本届, 该项): never evidence that a passage answers.
- ``FILLERS``: what readers add to a question and answering text does not say (一共, 具体, 听说, 那种,
  报道里 …). They are neither searched for nor required.
- ``UNITS``/``MEASURES``: units (多少**亿元**) and nouns that only say a quantity is asked for (**比例**是多少):
  a number with its unit answers them.
- ``LATEST``: words asking for the current state (现在, 目前, 最新): the newest report should win.
- ``QUESTION_KINDS``: the kind of answer asked for (a number for 多少, a person for 谁 …).
"""

from __future__ import annotations

import re

__all__ = [
    "ASKING",
    "CLASSIFIERS",
    "COPULAS",
    "DEICTIC",
    "FILLERS",
    "HOW",
    "LATEST",
    "MEASURES",
    "NUMBER",
    "PERSON",
    "PLACE",
    "QUESTION_FRAMES",
    "QUESTION_KINDS",
    "REASON",
    "STOPWORDS",
    "TIME",
    "UNITS",
    "WHAT",
    "question_kind",
]

#: Question words, function words and pronouns: removed from questions, and they break bigram runs.
STOPWORDS = frozenset(
    """
    什么 什么样 什么时候 什么地方 什么样的 为什么 怎么 怎么样 怎样 如何 哪 哪些 哪个 哪里 哪儿 哪一 哪位 哪种 哪年 哪国 多少 多少次 多少年 多久 多大 多长
    多高 多远 几 几个 几年 几次 几种 几位 谁 何 何时 何地 何人 何种 为何 是否 吗 呢 啊 吧 是 的 了 在 有 和
    与 及 或 被 把 对 于 为 由 从 到 以 将 也 都 而 其 之 这 那 这个 那个 这些 那些 请问 呀
    时候 地方 名字 哪一年 哪一天 哪一位 哪一个 哪一种 哪一部 哪一场 哪一届 哪家 何处 何时何地 几岁 几名 什么人 多少钱 多少岁 多少人 多少个 他 她 它 他们 她们
    它们 该 此 本 这种 这座 这部 这位 这本 这条 这家 这首 这支 这场 这款 这里 那里 这样 那样
    """.split()  # noqa: SIM905 - a word list reads best as words
)

QUESTION_FRAMES = re.compile(
    r"多少钱|多少人次|多少人|多少次|多少年|多少个|多少名|多少项|多少天|多长时间|多久|什么时候|什么时间|什么地方"
    r"|叫什么名字|叫什么|是什么|有哪些|为什么|怎么样|怎样|如何|哪一年|哪年|哪一天|哪天|哪里|哪儿|哪些|是谁|请问"
)

CLASSIFIERS = "个位名次年天岁种项条家所期支场人元倍成届号代类部首本座只件级层章集份张颗吨斤亩米回趟列起处批篇轮架艘辆台枚头匹棵株套间块片道门例栋户"
#: Words that ask rather than inform (beyond the stop words: 几届, 第几, 多少项, 何种, 哪座 …).
ASKING = re.compile(
    rf"^(?:什么(?:样的?)?|谁|多少[{CLASSIFIERS}]?|第?几[{CLASSIFIERS}]?|哪[{CLASSIFIERS}一些里儿]?"
    rf"|何[{CLASSIFIERS}处地时]?|哪一?[{CLASSIFIERS}]|哪几[{CLASSIFIERS}]?|几[{CLASSIFIERS}]几[{CLASSIFIERS}]"
    r"|多长时间|多少时间|多久|多长|多大|多高|多远|多重|多深|多宽|多厚|多少倍|几成|百分之(?:几|多少)?)$"
)
#: Pointing words: they refer to the conversation, not to the text (这儿, 本届, 该项, 此次 …).
DEICTIC = re.compile(r"^(?:[这那]儿|[这那该此本][篇届部首本片剧作曲文次期种位名个项条座家台场])$")
HOW = "大高长远重久宽深厚多"  # 多 + one of these asks for a measure (多大, 多高 …)
COPULAS = frozenset(
    ["是", "叫", "为", "有", "叫做", "称为", "是在", "在", "叫作", "名叫", "定为", "达", "达到"]
)

#: Units a quantity question asks in (多少亿元, 多少公里): the answer carries them, the subject is elsewhere.
UNITS = frozenset(
    """
    元 万元 亿元 万亿元 美元 亿美元 欧元 公里 千米 米 厘米 吨 万吨 亿吨 斤 万斤 亿斤 公斤 千克 亩 万亩 亿亩 公顷 平方米
    平方公里 立方米 人次 万人次 亿人次 万人 亿人 千瓦 万千瓦 千瓦时 度 瓦 小时 分钟 秒 岁 倍 个百分点 百分点 件套
    """.split()  # noqa: SIM905 - a word list reads best as words
)

#: Nouns that only say a quantity is asked for (比例是多少, 总数是多少): a number answers them, the text
#: need not repeat them. Before one, the word it measures is the focus (资产规模 → 资产).
MEASURES = frozenset(
    """
    比例 比重 占比 总数 数量 数目 人数 次数 规模 总量 金额 总额 数额 数值 增速 增幅 幅度 份额 水平 程度 多少 总计 总和 数字
    数据 指数 速度 长度 高度 面积 体量 个数 项数 余额 额度 平均数 比率 概率
    """.split()  # noqa: SIM905 - a word list reads best as words
)

#: Words readers put in questions that answering text does not carry.
FILLERS = frozenset(
    """
    一共 总共 共有 共计 总计 合计 具体 大约 大概 约 大致 到底 究竟 听说 据说 据 报道 报道里 报道中 报道说 报道称 新闻 新闻里 消息
    提到 提及 那种 那位 那座 那家 那条 那场 那项 那名 那次 那台 那篇 那部 那只 那张 那项 有个 有位 有家 有座 有条 有项 有一个
    有一位 某 某个 当时 曾经 已经 还 又 再 就 才 知道 请 告诉 一下 我想 想知道 请问 您 你 你们 我 现在 目前
    如今 当前 眼下 最新 近来 头一回 具体地 分别 相关 此前 之前 之后 以后
    """.split()  # noqa: SIM905 - a word list reads best as words
)
LATEST = frozenset(["最新", "现在", "目前", "如今", "当前", "眼下", "现阶段"])

NUMBER, PERSON, PLACE, TIME, REASON, WHAT = "number", "person", "place", "time", "reason", "what"
QUESTION_KINDS = (
    (
        TIME,
        re.compile(
            r"什么时候|何时|哪一?年|哪一?天|哪几天|哪个月|哪年哪月|几月|几号|几点|什么时间|多久以前|哪一?日"
        ),
    ),
    (
        NUMBER,
        re.compile(rf"多少|几[{CLASSIFIERS}]?|多大|多高|多长|多远|多重|多久|多深|多宽|多厚|第几|几成|多少倍"),
    ),
    (PERSON, re.compile(r"谁|何人|哪位|哪一位|什么人|哪名")),
    (
        PLACE,
        re.compile(
            r"哪里|哪儿|何地|何处|什么地方|哪个(?:省|市|县|国家|城市|地区|乡|镇|村)|在哪|哪座城市|哪个城市"
        ),
    ),
    (REASON, re.compile(r"为什么|为何|什么原因|怎么会")),
    (WHAT, re.compile(r"什么|哪")),
)


def question_kind(normalized: str) -> str | None:
    """The kind of answer a normalised question asks for: number, person, place, time, reason, what, None."""
    for kind, pattern in QUESTION_KINDS:
        if pattern.search(normalized):
            return kind
    return None
