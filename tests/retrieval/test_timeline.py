"""Timelines (``retrieval/timeline.py``): monthly counts, active periods, and the key passage of each period
over a small archive written for these tests (``tests/data/timeline-articles.jsonl``: eleven reports on a
district's 工会驿站 from March 2024 to June 2025, in bursts, among three unrelated ones)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.service import NewsService
from corpus import Store, ingest_paths
from retrieval.question import parse_question
from retrieval.timeline import (
    NO_WORDS,
    NOT_MENTIONED,
    MonthCount,
    Timeline,
    active_periods,
    build_timeline,
    month_counts,
)
from tests.conftest import DATA

ARTICLES = DATA / "timeline-articles.jsonl"
NOW = "2025-07-01T02:00:00+00:00"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewsService]:
    folder = tmp_path_factory.mktemp("timeline")
    store = Store(folder / "t.db")
    ingest_paths(store, [ARTICLES], now=NOW)
    service = NewsService.open(load_settings(env={}, db=str(folder / "t.db")), store=store, persist=False)
    yield service
    service.close()


def timeline(service: NewsService, keyword: str, until: dt.date | None = None, **kwargs: int) -> Timeline:
    question = parse_question(keyword, service.searcher.tokenizer, dt.date(2025, 7, 1), times=False)
    return build_timeline(question, service.searcher, until=until, options=service.options, **kwargs)


def article_texts() -> dict[str, str]:
    rows = [json.loads(line) for line in ARTICLES.read_text(encoding="utf-8").splitlines()]
    return {r["id"]: r["title"] + "\n" + r["text"] for r in rows}


# --- months and periods, pure --------------------------------------------------------------------------


def test_months_run_from_the_first_mention_to_the_last_with_quiet_months_as_zero() -> None:
    counts = {dt.date(2023, 11, 30): 2, dt.date(2024, 2, 1): 1, dt.date(2023, 11, 2): 1}
    assert month_counts(counts) == (
        MonthCount(month="2023-11", articles=3),
        MonthCount(month="2023-12", articles=0),
        MonthCount(month="2024-01", articles=0),
        MonthCount(month="2024-02", articles=1),
    )
    assert month_counts({}) == ()


def test_bursts_above_the_average_are_the_periods_and_quiet_months_between_them_are_not() -> None:
    #          J  F  M  A  M  J  J  A  S  O  N  D
    counts = [1, 0, 9, 7, 0, 1, 0, 0, 1, 0, 12, 2]
    periods, active = active_periods(counts)
    assert periods == [(2, 3), (10, 10)] and active == 2


def test_only_the_busiest_periods_are_kept_and_they_stay_in_order() -> None:
    counts = [5, 0, 1, 0, 9, 0, 2, 0, 7, 0, 3]  # bursts of 5, 1, 9, 2, 7, 3 (average 2.5)
    periods, active = active_periods(counts, max_periods=2)
    assert periods == [(4, 4), (8, 8)] and active == 4  # 9 and 7 of the 5, 9, 7, 3 above the average


def test_a_long_busy_stretch_shows_the_peaks_of_its_own_plateau() -> None:
    plateau = [10, 11, 30, 12, 10, 25, 26, 11, 10, 12, 28, 10]  # twelve months, all above the average
    counts = [1, *[0] * 8, *plateau, 0, 0, 1]
    periods, active = active_periods(counts, max_months=6)
    assert periods == [(11, 11), (14, 15), (19, 19)] and active == 3


def test_a_flat_stretch_is_cut_into_chunks_no_longer_than_the_limit() -> None:
    periods, active = active_periods([4] * 14, max_months=6)
    assert periods == [(0, 5), (6, 11), (12, 13)] and active == 3


def test_a_single_month_is_one_period() -> None:
    assert active_periods([3]) == ([(0, 0)], 1)
    assert active_periods([]) == ([], 0)


# --- over a small archive ------------------------------------------------------------------------------


def test_first_and_last_mention_and_articles_per_month(service: NewsService) -> None:
    t = timeline(service, "工会驿站")
    assert t.found and (t.first_day, t.last_day) == ("2024-03-05", "2025-06-12")
    assert t.articles == 11
    counts = {m.month: m.articles for m in t.months}
    assert len(t.months) == 16 and sum(counts.values()) == 11
    assert (counts["2024-03"], counts["2024-04"], counts["2024-09"], counts["2025-01"]) == (3, 2, 1, 4)
    assert counts["2024-06"] == 0  # a quiet month is there, as none
    assert t.peak == MonthCount(month="2025-01", articles=4)


def test_each_period_in_order_quotes_a_dated_passage_of_its_own_months_verbatim(
    service: NewsService,
) -> None:
    t = timeline(service, "工会驿站")
    assert [(p.first_month, p.last_month, p.articles) for p in t.periods] == [
        ("2024-03", "2024-04", 5),
        ("2024-09", "2024-09", 1),
        ("2025-01", "2025-01", 4),
        ("2025-06", "2025-06", 1),
    ]
    texts = article_texts()
    for period in t.periods:
        passage = period.passage
        assert passage is not None and passage.dated
        assert period.first_month <= passage.day[:7] <= period.last_month
        assert passage.quote.strip("…") in texts[str(passage.external_id)]
        assert "驿站" in passage.quote
    assert len(set(t.article_ids)) == 4


def test_a_long_period_quotes_its_busiest_month(service: NewsService) -> None:
    first = timeline(service, "工会驿站").periods[0]
    assert first.peak_month == "2024-03" and first.passage is not None
    assert first.passage.day.startswith("2024-03")


def test_only_the_busiest_periods_are_shown_and_the_rest_counted(service: NewsService) -> None:
    t = timeline(service, "工会驿站", max_periods=2)
    assert [p.first_month for p in t.periods] == ["2024-03", "2025-01"] and t.active == 4


def test_what_came_out_after_the_day_asked_does_not_count(service: NewsService) -> None:
    t = timeline(service, "工会驿站", until=dt.date(2024, 12, 31))
    assert (t.first_day, t.last_day, t.articles) == ("2024-03-05", "2024-09-03", 6)
    assert t.months[-1].month == "2024-09"
    assert all(p.passage and p.passage.day <= "2024-12-31" for p in t.periods)


def test_words_of_a_keyword_count_together(service: NewsService) -> None:
    t = timeline(service, "驿站 义诊")
    assert t.found and t.articles == 1 and t.first_day == t.last_day == "2025-01-21"


def test_a_keyword_nothing_mentions_and_one_with_nothing_to_search_for(service: NewsService) -> None:
    nothing = timeline(service, "火星移民")
    assert nothing.reason == NOT_MENTIONED and not nothing.found and nothing.periods == ()
    assert timeline(service, "的").reason == NO_WORDS
    assert timeline(service, "  ").reason == NO_WORDS


def test_an_undated_article_counts_on_the_day_it_came_in_and_says_so(tmp_path: Path) -> None:
    feed = tmp_path / "undated.jsonl"
    feed.write_text(
        json.dumps({"title": "社区工会驿站开门", "text": "社区工会驿站今天开门迎客。"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    store = Store(tmp_path / "u.db")
    ingest_paths(store, [feed], now=NOW)
    service = NewsService.open(load_settings(env={}, db=str(tmp_path / "u.db")), store=store, persist=False)
    t = timeline(service, "工会驿站")
    service.close()
    ((period,),) = [t.periods]
    assert t.first_day == "2025-07-01"  # 02:00 UTC is 10:00 in Shanghai
    assert period.passage is not None and not period.passage.dated and period.passage.day == "2025-07-01"
