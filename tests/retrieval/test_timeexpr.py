"""Time expressions: a table of what readers write, with "now" injected, and the spans they mean."""

from __future__ import annotations

import datetime as dt

import pytest

from retrieval.timeexpr import DAY, HOLIDAY, MONTH, RECENT, SEASON, YEAR, TimeSpan, find_times

NOW = dt.date(2025, 3, 10)  # a Monday
D = dt.date


def only(text: str, now: dt.date = NOW) -> TimeSpan:
    spans = find_times(text, now)
    assert len(spans) == 1, spans
    return spans[0]


@pytest.mark.parametrize(
    ("text", "start", "end", "grain"),
    [
        # absolute
        ("2024年全国粮食产量是多少", D(2024, 1, 1), D(2024, 12, 31), YEAR),
        ("2024年9月的报道", D(2024, 9, 1), D(2024, 9, 30), MONTH),
        ("2024年9月24日开幕", D(2024, 9, 24), D(2024, 9, 24), DAY),
        ("2024年9月24日至27日召开", D(2024, 9, 24), D(2024, 9, 27), DAY),
        ("2024年9月30日至10月2日", D(2024, 9, 30), D(2024, 10, 2), DAY),
        ("2024年9月下旬", D(2024, 9, 21), D(2024, 9, 30), MONTH),
        ("2022年12月初", D(2022, 12, 1), D(2022, 12, 10), MONTH),
        ("截至2022年8月底", D(2022, 8, 21), D(2022, 8, 31), MONTH),
        ("2023年底机场总数", D(2023, 11, 15), D(2023, 12, 31), MONTH),
        ("2022年初出台的规划", D(2022, 1, 1), D(2022, 2, 28), MONTH),
        ("2023年一季度", D(2023, 1, 1), D(2023, 3, 31), "quarter"),
        ("2023年第四季度", D(2023, 10, 1), D(2023, 12, 31), "quarter"),
        ("2023年前三季度", D(2023, 1, 1), D(2023, 9, 30), "quarter"),
        ("2024年上半年", D(2024, 1, 1), D(2024, 6, 30), "half"),
        ("2024年下半年", D(2024, 7, 1), D(2024, 12, 31), "half"),
        ("2024年前7个月", D(2024, 1, 1), D(2024, 7, 31), "half"),
        ("2023年最后一个月", D(2023, 12, 1), D(2023, 12, 31), MONTH),
        ("二〇二三年的报告", D(2023, 1, 1), D(2023, 12, 31), YEAR),
        ("“十四五”（2021—2025年）期间", D(2021, 1, 1), D(2025, 12, 31), YEAR),
        # holidays: the official days off (chinese_calendar)
        ("2023年五一假期", D(2023, 4, 29), D(2023, 5, 3), HOLIDAY),
        ("2024年国庆", D(2024, 10, 1), D(2024, 10, 7), HOLIDAY),
        ("2023年春节", D(2023, 1, 21), D(2023, 1, 27), HOLIDAY),
        ("2025年春节前", D(2024, 12, 29), D(2025, 1, 27), HOLIDAY),
        ("2024年端午假期", D(2024, 6, 8), D(2024, 6, 10), HOLIDAY),
        ("2022年冬天", D(2022, 12, 1), D(2023, 2, 28), SEASON),
        # relative to now (2025-03-10)
        ("今天", NOW, NOW, DAY),
        ("昨天", D(2025, 3, 9), D(2025, 3, 9), DAY),
        ("前天", D(2025, 3, 8), D(2025, 3, 8), DAY),
        ("上周", D(2025, 3, 3), D(2025, 3, 9), DAY),
        ("本月", D(2025, 3, 1), NOW, MONTH),
        ("上个月", D(2025, 2, 1), D(2025, 2, 28), MONTH),
        ("今年", D(2025, 1, 1), D(2025, 12, 31), YEAR),
        ("去年", D(2024, 1, 1), D(2024, 12, 31), YEAR),
        ("前年", D(2023, 1, 1), D(2023, 12, 31), YEAR),
        ("去年冬天", D(2024, 12, 1), D(2025, 2, 28), SEASON),
        ("今年一季度", D(2025, 1, 1), D(2025, 3, 31), "quarter"),
        ("今年头三个月", D(2025, 1, 1), D(2025, 3, 31), "half"),
        ("今年春节", D(2025, 1, 28), D(2025, 2, 4), HOLIDAY),
        ("去年1月份", D(2024, 1, 1), D(2024, 1, 31), MONTH),
        ("最近", D(2025, 2, 8), NOW, RECENT),
        ("前几天", D(2025, 2, 28), NOW, RECENT),
        ("近三年", D(2022, 3, 10), NOW, RECENT),
        ("三年前", D(2022, 1, 1), D(2022, 12, 31), YEAR),
        ("明天", D(2025, 3, 11), D(2025, 3, 11), DAY),
        ("下个月", D(2025, 4, 1), D(2025, 4, 30), MONTH),
        ("明年", D(2026, 1, 1), D(2026, 12, 31), YEAR),
    ],
)
def test_expressions_resolve_to_their_days(text: str, start: dt.date, end: dt.date, grain: str) -> None:
    span = only(text)
    assert (span.start, span.end, span.grain) == (start, end, grain)


@pytest.mark.parametrize(
    ("text", "relative"), [("2024年9月", False), ("上个月", True), ("去年冬天", True), ("9月下旬", True)]
)
def test_what_depends_on_now_is_marked_relative(text: str, relative: bool) -> None:
    assert only(text).relative is relative


def test_a_year_carries_over_to_later_expressions() -> None:
    year, festival, late_september = find_times("2024年龙年春节前后，9月下旬", NOW)
    assert year.start.year == 2024 and festival.start.year == 2024
    assert late_september.start == D(2024, 9, 21) and not late_september.recurring


def test_a_period_named_without_a_year_recurs_and_shows_its_latest_occurrence() -> None:
    span = only("五一假期全国铁路发送旅客多少人次")
    assert span.recurring and span.start == D(2024, 5, 1)  # the latest one begun by 2025-03-10
    assert span.holds(D(2023, 5, 2)) and span.holds(D(2019, 5, 3))  # any year's holiday
    assert not span.holds(D(2023, 7, 1))
    assert only("9月下旬").start == D(2024, 9, 21)
    assert only("一季度", D(2025, 5, 1)).start == D(2025, 1, 1)


def test_reports_come_a_little_before_and_after_the_span() -> None:
    month = only("2024年9月")
    assert month.holds(D(2024, 10, 20))  # September's figures, published in October
    assert not month.holds(D(2024, 8, 20)) and not month.holds(D(2024, 12, 1))
    year = only("2022年")
    assert year.holds(D(2023, 2, 28))  # the statistical communiqué of 2022
    holiday = only("2023年五一假期")
    assert holiday.holds(D(2023, 4, 25)) and holiday.holds(D(2023, 5, 6))


@pytest.mark.parametrize(
    "text",
    [
        "冬小麦越冬管理",
        "第十一届全国人大",
        "安徽合肥已初具规模",
        "2020年代的经济",
        "十九届中央第八轮巡视",
        "冬季奥运会的吉祥物",
        "共收录了79篇文稿",
        "开馆满一年",
        "2025年6月中欧班列",
        "初中学生",
        "每年举办",
        "二十大代表",
    ],
)
def test_words_that_only_look_like_times_are_not_times(text: str) -> None:
    spans = find_times(text, NOW)
    assert all(s.grain in (YEAR, MONTH) and s.text[:4].isdigit() for s in spans), spans


def test_impossible_dates_are_skipped() -> None:
    assert find_times("2023年2月30日", NOW) == ()
    assert find_times("13月", NOW) == ()
    assert find_times("3000年", NOW) == ()


def test_labels_read_as_a_reader_would_check_them() -> None:
    assert only("2024年").label() == "2024"
    assert only("2024年9月").label() == "2024-09"
    assert only("2023年五一假期").label() == "2023-04-29 至 2023-05-03"
    assert only("2021—2025年").label() == "2021—2025"
