"""Time expressions in questions: "2024年9月下旬", "2023年五一假期", "上个月", "去年冬天" → date spans.

A news question usually names a time, but the date lives in the article's metadata, not in its words.
``find_times`` reads the expressions of a normalised question (NFKC, simplified) and resolves each to a
``TimeSpan``: the days it names (``start``..``end``, inclusive), how fine it is (``grain``), whether it was
resolved against "now" (``relative``), and the days around it when reports about it appear:

- ``lag``: figures for a month, quarter or year are published after it ends (monthly statistics two to
  six weeks later, a year's in the following spring: the statistical communiqué ends February, the
  government work report is in March); a day's event is reported the next day or two;
- ``lead``: a holiday is previewed the week before, a scheduled day a day or two before.

``TimeSpan.holds(day)`` is the test the ranking uses as a prior on article dates (never as a hard
filter); ``find_times`` never raises: what it cannot read is left to the words.

Absolute: 2024年, 2024年9月, 2024年9月24日, 9月24日至27日, 9月下旬, 年初/年中/年底, 一季度, 前三季度,
上半年, 前11个月, 最后一个月, 春节/五一/国庆/端午/中秋/清明/元旦/元宵 (official holiday periods from
``chinese_calendar``), 暑期/寒假/春运, 春天…冬天. Without a year they take the question's own year
("2024年…9月下旬") or, failing that, the latest such period that has begun by "now".
Relative to "now": 今天 昨天 前天, 本周 上周, 本月 上个月, 今年 去年 前年 明年, 最近 近日 日前 近期 前几天
这几天, 近N年/近N个月/近N天, N年前/N个月前/N天前, 明天 下周 下个月 (a future span the archive may lack).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

import chinese_calendar

__all__ = ["DAY", "HALF", "HOLIDAY", "MONTH", "QUARTER", "RECENT", "SEASON", "YEAR", "TimeSpan", "find_times"]

DAY, MONTH, SEASON, QUARTER, HALF, YEAR, HOLIDAY, RECENT = (
    "day",
    "month",
    "season",
    "quarter",
    "half",
    "year",
    "holiday",
    "recent",
)
# Publication lag (days after the span) and lead (days before it) by grain; see the module docstring.
_LAG = {DAY: 3, MONTH: 45, SEASON: 30, QUARTER: 45, HALF: 45, YEAR: 90, HOLIDAY: 7, RECENT: 0}
_LEAD = {DAY: 2, HOLIDAY: 7}


@dataclass(frozen=True, kw_only=True)
class TimeSpan:
    """The days a time expression names, and the days around them when reports about it appear."""

    text: str  # the expression as the normalised question has it
    start: dt.date
    end: dt.date  # inclusive
    grain: str
    relative: bool  # resolved against "now"
    offset: tuple[int, int]  # where the expression is in the normalised question
    lead: int = 0
    lag: int = 0
    # A period named without a year (五一假期, 9月下旬) recurs: every year's occurrence counts.
    occurrences: tuple[tuple[dt.date, dt.date], ...] = ()

    @property
    def recurring(self) -> bool:
        return bool(self.occurrences)

    @property
    def first_report(self) -> dt.date:
        return self.start - dt.timedelta(days=self.lead)

    @property
    def last_report(self) -> dt.date:
        return self.end + dt.timedelta(days=self.lag)

    def report_periods(self) -> tuple[tuple[dt.date, dt.date], ...]:
        """The days articles reporting on this span can have (one period per occurrence)."""
        return self._report_periods

    @cached_property
    def _report_periods(self) -> tuple[tuple[dt.date, dt.date], ...]:  # asked for every candidate's date
        lead, lag = dt.timedelta(days=self.lead), dt.timedelta(days=self.lag)
        return tuple(
            (start - lead, end + lag) for start, end in self.occurrences or ((self.start, self.end),)
        )

    def holds(self, day: dt.date) -> bool:
        """Whether an article dated ``day`` can report on this span (on any occurrence of a recurring one)."""
        return any(first <= day <= last for first, last in self.report_periods())

    def label(self) -> str:
        """The span as a reader would check it: 2023-05, 2023-04-29 至 2023-05-03, 2023 …"""
        if self.start == self.end:
            return self.start.isoformat()
        if self.grain == YEAR and self.start.year != self.end.year:
            return f"{self.start.year}—{self.end.year}"
        if self.grain == YEAR and (self.start.month, self.start.day, self.end.month, self.end.day) == (
            1,
            1,
            12,
            31,
        ):
            return str(self.start.year)
        if self.grain == MONTH and self.start.day == 1 and self.end == _month_end(self.start):
            return self.start.isoformat()[:7]
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"


# --- the grammar -------------------------------------------------------------------------------------

_CN = "零〇一二两三四五六七八九十"
_N = rf"(?:\d{{1,2}}|[{_CN}]{{1,3}})"
_YEAR_ABS = r"(?P<y>(?:19|20)\d{2}|[〇零一二三四五六七八九]{4})年度?"
_YEAR_REL = r"(?P<yr>今年|去年|前年|大前年|明年|本年度?|上一年度?|上年度?)"
_HOLIDAYS = (
    r"春节|除夕|元宵节?|清明节?|清明假期|五一|劳动节|端午节?|中秋节?|国庆节?|国庆|十一黄金周|十一假期|十一长假"
    r"|元旦|暑期|暑假|寒假|春运|双十一|国庆中秋|中秋国庆"
)
_PART = (
    rf"(?P<q>第?[一二三四1-4]季度)"
    rf"|(?P<qn>前[二两三2-3]个?季度)"
    rf"|(?P<h>上半年|下半年)"
    rf"|(?P<first>(?:前|头)(?P<fn>{_N})个月)"
    rf"|(?P<mo>(?P<m>{_N})月份?(?:(?P<d>{_N})[日号])?(?P<dpart>上旬|中旬|下旬|初|底|末)?)"
    rf"|(?P<ypart>年初|年中|年底|年末|全年|开年|初|底|末|最后一个月)"
    rf"|(?P<hol>{_HOLIDAYS})(?P<holpart>前夕|前后|前|后|期间|假期|黄金周|长假)?"
    r"|(?P<season>[春夏秋冬][天季](?!运|奥|残奥|学期|攻势|招聘|作战|旅游))"
)
_RANGE_TAIL = rf"(?:至|到|-|—|~|～)(?:(?P<m2>{_N})月)?(?P<d2>{_N})[日号]"  # 9月24日至27日
_RELATIVE = (
    r"(?P<rel>今天|今日|昨天|昨日|前天|大前天|明天|明日|后天"
    r"|本周|这周|这个星期|本星期|上周|上个星期|上星期|上礼拜|下周|下个星期"
    r"|本月|这个月|上个月|上月|下个月|下月"
    r"|前几天|这几天|近几天|前些天|前些日子|近日|日前|最近|近期|近来|前不久|不久前|前段时间)"
)
_SPAN_BACK = rf"(?P<back>(?:近|过去|最近)(?P<bn>{_N}|几)(?P<bu>年|个月|天|周))"
_AGO = rf"(?P<ago>(?P<an>{_N})(?P<au>年|个月|天)前)"
_YEARS = (
    r"(?P<years>(?P<y1>(?:19|20)\d{2})年?\s*(?:—|-|–|~|～|至|到)\s*(?P<y2>(?:19|20)\d{2})年)"  # 2021—2025年
)
# Relative words first (上个月 before 月); the year-and-part alternative can match empty (skipped).
_EXPR = re.compile(
    rf"{_YEARS}|{_SPAN_BACK}|{_RELATIVE}|{_AGO}|(?:{_YEAR_ABS}|{_YEAR_REL})?(?:{_PART})?(?:{_RANGE_TAIL})?"
)

_RECURRING_YEARS = 30  # how far back a period named without a year is looked for
_RECENT_DAYS = {
    "前几天": 10,
    "这几天": 7,
    "近几天": 7,
    "前些天": 14,
    "前些日子": 30,
    "近日": 14,
    "日前": 14,
    "最近": 30,
    "近期": 30,
    "近来": 30,
    "前不久": 30,
    "不久前": 30,
    "前段时间": 60,
}


def find_times(normalized: str, now: dt.date) -> tuple[TimeSpan, ...]:
    """The time expressions of a normalised question, resolved against ``now``, in order."""
    out: list[TimeSpan] = []
    context_year: int | None = None
    for m in _EXPR.finditer(normalized):
        if not m.group(0) or m.group(0).startswith(("至", "到", "-", "—", "~", "～")):
            continue
        if m.group("y") and m.group(0).endswith("年") and normalized[m.end() : m.end() + 1] in ("代", "级"):
            continue  # 2020年代, 2022年级: not a year
        try:
            span = _resolve(m, now, context_year)
        except ValueError:  # 2月30日, 13月: not a date
            span = None
        if span is None:
            continue
        if m.group("y") or m.group("yr") or m.group("years"):
            context_year = span.end.year if m.group("years") else span.start.year
        out.append(span)
    return tuple(out)


def _resolve(m: re.Match[str], now: dt.date, context_year: int | None) -> TimeSpan | None:
    text = m.group(0)
    offset = (m.start(), m.end())
    if m.group("rel"):
        return _relative(m.group("rel"), now, offset)
    if m.group("years"):
        first, last = int(m.group("y1")), int(m.group("y2"))
        if last < first:
            return None
        return _span(text, dt.date(first, 1, 1), dt.date(last, 12, 31), YEAR, offset, relative=False)
    if m.group("back"):
        n = 3 if m.group("bn") == "几" else _number(m.group("bn"))
        return _span(text, _shift(now, m.group("bu"), -n), now, RECENT, offset, relative=True)
    if m.group("ago"):
        n, unit = _number(m.group("an")), m.group("au")
        point = _shift(now, unit, -n)
        if unit == "年":
            return _span(
                text, dt.date(point.year, 1, 1), dt.date(point.year, 12, 31), YEAR, offset, relative=True
            )
        if unit == "个月":
            return _span(text, point.replace(day=1), _month_end(point), MONTH, offset, relative=True)
        return _span(text, point, point, DAY, offset, relative=True)
    year = _year(m, now) if (m.group("y") or m.group("yr")) else context_year
    if year is not None:
        found = _part(m, year)
        if found is None:
            return None
        start, end, grain = found
        return _span(text, start, end, grain, offset, relative=bool(m.group("yr")))
    # No year anywhere: 9月下旬, 五一假期, 一季度 recur every year. The latest occurrence that has begun by
    # now is the one shown; every occurrence counts for an article's date.
    every = [p for y in range(now.year - _RECURRING_YEARS, now.year + 1) if (p := _part(m, y)) is not None]
    begun = [p for p in every if p[0] <= now]
    if not begun:
        return None
    start, end, grain = begun[-1]
    return _span(
        text, start, end, grain, offset, relative=True, occurrences=tuple((p[0], p[1]) for p in every)
    )


def _span(
    text: str,
    start: dt.date,
    end: dt.date,
    grain: str,
    offset: tuple[int, int],
    *,
    relative: bool,
    occurrences: tuple[tuple[dt.date, dt.date], ...] = (),
) -> TimeSpan:
    return TimeSpan(
        text=text,
        start=start,
        end=end,
        grain=grain,
        relative=relative,
        offset=offset,
        lead=_LEAD.get(grain, 0),
        lag=_LAG[grain],
        occurrences=occurrences,
    )


def _year(m: re.Match[str], now: dt.date) -> int:
    if m.group("y"):
        y = m.group("y")
        year = int(y) if y.isdigit() else int("".join(str(_digit(c)) for c in y))
        if not 1900 <= year <= 2099:
            raise ValueError(f"{year} is not a year of news")
        return year
    word = m.group("yr")
    shift = {"今年": 0, "本年": 0, "本年度": 0, "去年": -1, "上一年": -1, "上一年度": -1, "上年": -1,
             "上年度": -1, "前年": -2, "大前年": -3, "明年": 1}[word]  # fmt: skip
    return now.year + shift


def _part(m: re.Match[str], year: int) -> tuple[dt.date, dt.date, str] | None:
    """The days of the part of ``year`` the expression names (the whole year when it names none)."""
    if m.group("q"):
        q = _number(m.group("q").lstrip("第").removesuffix("季度"))
        if not 1 <= q <= 4:
            return None
        return dt.date(year, 3 * q - 2, 1), _month_end(dt.date(year, 3 * q, 1)), QUARTER
    if m.group("qn"):
        q = _number(re.sub(r"[前个季度]", "", m.group("qn")))
        return dt.date(year, 1, 1), _month_end(dt.date(year, 3 * q, 1)), QUARTER
    if m.group("h"):
        if m.group("h") == "下半年":
            return dt.date(year, 7, 1), dt.date(year, 12, 31), HALF
        return dt.date(year, 1, 1), dt.date(year, 6, 30), HALF
    if m.group("first"):
        n = _number(m.group("fn"))
        if not 1 <= n <= 12:
            return None
        return dt.date(year, 1, 1), _month_end(dt.date(year, n, 1)), HALF
    if m.group("mo"):
        first = dt.date(year, _number(m.group("m")), 1)
        if m.group("d"):
            day = first.replace(day=_number(m.group("d")))
            end = day
            if m.group("d2"):  # 9月24日至27日, 9月30日至10月2日
                end = dt.date(
                    year, _number(m.group("m2")) if m.group("m2") else first.month, _number(m.group("d2"))
                )
                if end < day:
                    return None
            return day, end, DAY
        part = m.group("dpart")
        if part in ("上旬", "初"):
            return first, first.replace(day=10), MONTH
        if part == "中旬":
            return first.replace(day=11), first.replace(day=20), MONTH
        if part in ("下旬", "底", "末"):
            return first.replace(day=21), _month_end(first), MONTH
        return first, _month_end(first), MONTH
    if m.group("ypart"):
        part = m.group("ypart")
        if part in ("初", "底", "末", "全年", "开年", "最后一个月") and not (m.group("y") or m.group("yr")):
            return None  # 初具规模, 底线: only right after a year are these times
        if part in ("年初", "初", "开年"):
            return dt.date(year, 1, 1), dt.date(year, 2, 28), MONTH
        if part == "年中":
            return dt.date(year, 6, 1), dt.date(year, 7, 31), MONTH
        if part in ("年底", "年末", "底", "末"):
            return dt.date(year, 11, 15), dt.date(year, 12, 31), MONTH
        if part == "最后一个月":
            return dt.date(year, 12, 1), dt.date(year, 12, 31), MONTH
        return dt.date(year, 1, 1), dt.date(year, 12, 31), YEAR
    if m.group("hol"):
        return _holiday(m.group("hol"), m.group("holpart"), year)
    if m.group("season"):
        return _season(m.group("season"), year)
    if m.group("y") or m.group("yr"):
        return dt.date(year, 1, 1), dt.date(year, 12, 31), YEAR
    return None


def _relative(word: str, now: dt.date, offset: tuple[int, int]) -> TimeSpan:
    one = dt.timedelta(days=1)
    if word in ("今天", "今日"):
        return _span(word, now, now, DAY, offset, relative=True)
    if word in ("昨天", "昨日", "前天", "大前天", "明天", "明日", "后天"):
        shift = {"昨天": -1, "昨日": -1, "前天": -2, "大前天": -3, "明天": 1, "明日": 1, "后天": 2}[word]
        day = now + shift * one
        return _span(word, day, day, DAY, offset, relative=True)
    monday = now - now.weekday() * one
    if word in ("本周", "这周", "这个星期", "本星期"):
        return _span(word, monday, now, DAY, offset, relative=True)
    if word in ("上周", "上个星期", "上星期", "上礼拜"):
        return _span(word, monday - 7 * one, monday - one, DAY, offset, relative=True)
    if word in ("下周", "下个星期"):
        return _span(word, monday + 7 * one, monday + 13 * one, DAY, offset, relative=True)
    first = now.replace(day=1)
    if word in ("本月", "这个月"):
        return _span(word, first, now, MONTH, offset, relative=True)
    if word in ("上个月", "上月"):
        previous = (first - one).replace(day=1)
        return _span(word, previous, first - one, MONTH, offset, relative=True)
    if word in ("下个月", "下月"):
        following = _month_end(now) + one
        return _span(word, following, _month_end(following), MONTH, offset, relative=True)
    return _span(word, now - _RECENT_DAYS[word] * one, now, RECENT, offset, relative=True)


_FIXED_HOLIDAYS = {
    "元旦": ((1, 1), (1, 3)),
    "五一": ((5, 1), (5, 5)),
    "劳动节": ((5, 1), (5, 5)),
    "清明": ((4, 4), (4, 6)),
    "清明节": ((4, 4), (4, 6)),
    "清明假期": ((4, 4), (4, 6)),
    "国庆": ((10, 1), (10, 7)),
    "国庆节": ((10, 1), (10, 7)),
    "十一黄金周": ((10, 1), (10, 7)),
    "十一假期": ((10, 1), (10, 7)),
    "十一长假": ((10, 1), (10, 7)),
    "国庆中秋": ((10, 1), (10, 8)),
    "中秋国庆": ((10, 1), (10, 8)),
    "暑期": ((7, 1), (8, 31)),
    "暑假": ((7, 1), (8, 31)),
    "寒假": ((1, 10), (2, 28)),
    "双十一": ((11, 1), (11, 11)),
}
_OFFICIAL = chinese_calendar.Holiday
_OFFICIAL_HOLIDAYS = {
    "春节": _OFFICIAL.spring_festival,
    "除夕": _OFFICIAL.spring_festival,
    "春运": _OFFICIAL.spring_festival,
    "元宵": _OFFICIAL.spring_festival,
    "元宵节": _OFFICIAL.spring_festival,
    "端午": _OFFICIAL.dragon_boat_festival,
    "端午节": _OFFICIAL.dragon_boat_festival,
    "中秋": _OFFICIAL.mid_autumn_festival,
    "中秋节": _OFFICIAL.mid_autumn_festival,
    "五一": _OFFICIAL.labour_day,
    "劳动节": _OFFICIAL.labour_day,
    "国庆": _OFFICIAL.national_day,
    "国庆节": _OFFICIAL.national_day,
    "十一黄金周": _OFFICIAL.national_day,
    "十一假期": _OFFICIAL.national_day,
    "十一长假": _OFFICIAL.national_day,
    "清明": _OFFICIAL.tomb_sweeping_day,
    "清明节": _OFFICIAL.tomb_sweeping_day,
    "清明假期": _OFFICIAL.tomb_sweeping_day,
    "元旦": _OFFICIAL.new_years_day,
}
# A lunar holiday in a year the official calendar does not list: the weeks it can fall in.
_LUNAR_WEEKS = {"端午": ((5, 25), (6, 25)), "中秋": ((9, 5), (10, 8)), "春": ((1, 18), (2, 25))}


def _holiday(name: str, part: str | None, year: int) -> tuple[dt.date, dt.date, str]:
    start, end = _holiday_period(name, year)
    day = dt.timedelta(days=1)
    if part in ("前", "前夕"):
        return start - (30 if part == "前" else 7) * day, start - day, HOLIDAY
    if part == "后":
        return end + day, end + 30 * day, HOLIDAY
    if part == "前后":
        return start - 10 * day, end + 10 * day, HOLIDAY
    return start, end, HOLIDAY


def _holiday_period(name: str, year: int) -> tuple[dt.date, dt.date]:
    official = _OFFICIAL_HOLIDAYS.get(name)
    found = _official_period(year, official.value) if official else None
    if found is not None:
        start, end = found
        if name == "除夕":
            return start, start
        if name in ("元宵", "元宵节"):
            return start + dt.timedelta(days=13), start + dt.timedelta(days=16)
        if name == "春运":
            return start - dt.timedelta(days=15), end + dt.timedelta(days=25)
        return start, end
    if name in _FIXED_HOLIDAYS:
        (m1, d1), (m2, d2) = _FIXED_HOLIDAYS[name]
    else:
        (m1, d1), (m2, d2) = _LUNAR_WEEKS.get(name[:2], _LUNAR_WEEKS["春"])
    return dt.date(year, m1, d1), dt.date(year, m2, d2)


@lru_cache(maxsize=512)
def _official_period(year: int, holiday: str) -> tuple[dt.date, dt.date] | None:
    """The official days off of a holiday in ``year`` (``chinese_calendar`` knows 2004 to this year),
    with the weekend days they run into (端午 2024: Saturday 8 June to Monday 10 June)."""
    try:
        days = chinese_calendar.get_holidays(
            dt.date(year, 1, 1), dt.date(year, 12, 31), include_weekends=False
        )
        named = [d for d in days if chinese_calendar.get_holiday_detail(d)[1] == holiday]
        if holiday == _OFFICIAL.new_years_day.value:
            named = [d for d in named if d.month == 1] or named  # not the one starting on 30 December
        if not named:
            return None
        one = dt.timedelta(days=1)
        start, end = named[0], named[-1]
        while chinese_calendar.is_holiday(start - one) and (start - one).year == year:
            start -= one
        while chinese_calendar.is_holiday(end + one) and (end + one).year == year:
            end += one
    except NotImplementedError:
        return None
    return start, end


def _season(name: str, year: int) -> tuple[dt.date, dt.date, str]:
    first_month = {"春": 3, "夏": 6, "秋": 9, "冬": 12}[name[0]]
    start = dt.date(year, first_month, 1)
    return start, _month_end(_shift(start, "个月", 2)), SEASON


def _month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _shift(day: dt.date, unit: str, n: int) -> dt.date:
    if unit == "年":
        return _same_day(day, day.year + n, day.month)
    if unit == "个月":
        months = day.year * 12 + day.month - 1 + n
        return _same_day(day, months // 12, months % 12 + 1)
    if unit == "周":
        return day + dt.timedelta(weeks=n)
    return day + dt.timedelta(days=n)


def _same_day(day: dt.date, year: int, month: int) -> dt.date:
    return dt.date(year, month, min(day.day, _month_end(dt.date(year, month, 1)).day))


_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}


def _digit(char: str) -> int:
    return _DIGITS[char]


def _number(text: str) -> int:
    """1-99 from Arabic or Chinese numerals (十一, 二十四, 三十)."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return int("".join(str(_digit(c)) for c in text))
    tens, _, units = text.partition("十")
    return (_digit(tens) if tens else 1) * 10 + (_digit(units) if units else 0)
