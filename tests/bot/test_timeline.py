"""Timelines outside Telegram: the renderers (one escaped HTML message within 4096, plain text, JSON),
``newsbot timeline`` and ``/timeline`` in ``newsbot chat``, over ``tests/data/timeline-articles.jsonl``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot import messages as msg
from bot.chat import run_chat
from bot.cli import main
from bot.config import load_settings
from bot.render.json import timeline_json
from bot.render.telegram import timeline_message
from bot.render.terminal import timeline_text
from bot.service import NewsService
from fakebot import parse_html, utf16_len
from retrieval.timeline import NOT_MENTIONED, KeyPassage, MonthCount, Period, Timeline
from tests.conftest import DATA
from tests.conftest import run_cli as run

ARTICLES = DATA / "timeline-articles.jsonl"


def passage(article_id: int, day: str, quote: str, headline: str = "标题", dated: bool = True) -> KeyPassage:
    return KeyPassage(
        article_id=article_id,
        external_id=None,
        headline=headline,
        headline_derived=False,
        day=day,
        dated=dated,
        paragraph=2,
        quote=quote,
    )


def made_timeline(periods: list[Period], months: list[MonthCount], active: int = 0) -> Timeline:
    return Timeline(
        keyword="工会<b>&",
        terms=("工会",),
        first_day=months[0].month + "-01",
        last_day=months[-1].month + "-28",
        articles=sum(m.articles for m in months),
        months=tuple(months),
        periods=tuple(periods),
        active=active or len(periods),
    )


def months_of(*counts: int, start: int = 2023) -> list[MonthCount]:
    return [MonthCount(month=f"{start + i // 12}-{i % 12 + 1:02d}", articles=c) for i, c in enumerate(counts)]


def seen(text: str) -> str:
    """What a reader sees: the HTML parsed as Telegram parses it (raises on bad HTML), within one message."""
    plain, _ = parse_html(text)
    assert 0 < utf16_len(plain) <= 4096
    return plain


# --- renderers -----------------------------------------------------------------------------------------


def test_the_message_tells_the_story_in_order_with_everything_escaped() -> None:
    t = made_timeline(
        [
            Period(
                first_month="2023-01",
                last_month="2023-02",
                peak_month="2023-02",
                articles=5,
                passage=passage(3, "2023-02-03", "A & B <i>开会</i>。", headline="<标题>"),
            ),
            Period(
                first_month="2023-12",
                last_month="2023-12",
                peak_month="2023-12",
                articles=8,
                passage=passage(9, "2023-12-01", "年底的消息。", dated=False),
            ),
        ],
        months_of(2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1, 8, 1),
        active=3,
    )
    text, ids = timeline_message(t)
    plain = seen(text)
    assert ids == [3, 9]
    assert "&lt;标题&gt;" in text and "A &amp; B &lt;i&gt;" in text and "工会&lt;b&gt;&amp;" in text
    assert plain.startswith(msg.TIMELINE_TITLE.format(keyword="工会<b>&"))
    assert msg.TIMELINE_SPAN.format(first="2023-01-01", last="2024-01-28", total=15) in plain
    assert "2023 ▂▃········▁█ 14" in plain and "2024 ▁" in plain  # a bar a month, the year's total
    assert plain.index("2023-01 至 2023-02 · 5 篇") < plain.index("2023-12 · 8 篇")
    assert "2023-02-03 · <标题> · 第2段 · #3" in plain
    assert msg.TIMELINE_UNDATED.format(day="2023-12-01") in plain
    assert msg.TIMELINE_MORE.format(n=1) in plain
    terminal = timeline_text(t)
    assert "「A & B <i>开会</i>。」" in terminal and "2023-12 · 8 篇" in terminal
    assert timeline_json(t)["periods"][1]["passage"]["dated"] is False


def test_a_timeline_too_long_for_one_message_shortens_quotes_before_it_drops_periods() -> None:
    long = "很长的一句话，" * 200 + "😀" * 50
    periods = [
        Period(
            first_month=f"2023-{m:02d}",
            last_month=f"2023-{m:02d}",
            peak_month=f"2023-{m:02d}",
            articles=m,
            passage=passage(m, f"2023-{m:02d}-01", long, headline="头条" * 100),
        )
        for m in range(1, 9)
    ]
    text, ids = timeline_message(made_timeline(periods, months_of(*range(1, 9))))
    seen(text)
    assert ids == list(range(1, 9))  # every period still there, with a shortened quote

    long_ago = made_timeline(periods, months_of(*[1] * 12 * 170, start=1850))
    text, ids = timeline_message(long_ago)
    assert "1850 ████████████ 12" in seen(text)
    assert 0 < len(ids) < 8 and ids == list(range(9 - len(ids), 9))  # the busiest, in order
    assert msg.TIMELINE_MORE.format(n=8 - len(ids)) in seen(text)

    centuries = made_timeline(periods, months_of(*[1] * 12 * 300, start=1700))
    text, ids = timeline_message(centuries)
    assert "1700 " not in seen(text) and ids == list(range(1, 9))  # the months could never fit


def test_a_timeline_that_found_nothing_says_why_in_each_renderer() -> None:
    none = Timeline(keyword="火星移民", terms=("火星", "移民"), reason=NOT_MENTIONED)
    assert timeline_message(none) == (msg.TIMELINE_NONE.format(keyword="火星移民"), [])
    assert timeline_text(none) == msg.TIMELINE_NONE.format(keyword="火星移民")
    assert timeline_json(none)["found"] is False


# --- CLI and chat --------------------------------------------------------------------------------------


def test_newsbot_timeline_prints_the_story_and_json(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    assert run(capsys, "--db", str(db_path), "ingest", str(ARTICLES))[0] == 0
    code, out, _ = run(capsys, "--db", str(db_path), "timeline", "工会驿站")
    assert code == 0
    assert out.startswith(msg.TIMELINE_TITLE.format(keyword="工会驿站"))
    assert msg.TIMELINE_SPAN.format(first="2024-03-05", last="2025-06-12", total=11) in out
    assert "2024-03 至 2024-04 · 5 篇" in out and "2025-01 · 4 篇" in out
    code, out, _ = run(capsys, "--db", str(db_path), "timeline", "工会驿站", "--json", "--now", "2024-12-31")
    data = json.loads(out)
    assert code == 0 and data["found"] and data["last_day"] == "2024-09-03"
    assert [p["first_month"] for p in data["periods"]] == ["2024-03", "2024-09"]
    code, out, _ = run(capsys, "--db", str(db_path), "timeline", "火星移民")
    assert code == 3 and out.strip() == msg.TIMELINE_NONE.format(keyword="火星移民")
    code, out, _ = run(capsys, "--db", str(db_path), "timeline", "")
    assert code == 3 and out.strip() == msg.TIMELINE_USAGE


def test_timeline_help_names_the_keyword_and_the_day(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["timeline", "--help"])
    out = capsys.readouterr().out
    assert "KEYWORD" in out and "--now" in out and "--json" in out and "newsbot timeline 工会" in out


def test_chat_answers_timeline_commands(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--db", str(db_path), "ingest", str(ARTICLES))
    service = NewsService.open(load_settings(env={}, db=str(db_path)))
    out = io.StringIO()
    run_chat(service, io.StringIO("/timeline 工会驿站\n/timeline\n/timeline 火星移民\n/quit\n"), out)
    service.close()
    text = out.getvalue()
    assert msg.TIMELINE_TITLE.format(keyword="工会驿站") in text and "2025-01 · 4 篇" in text
    assert msg.TIMELINE_USAGE in text and msg.TIMELINE_NONE.format(keyword="火星移民") in text
