"""Inline mode (``bot/telegram/inline.py``): quotes as HTML, the latest articles for an empty query, and
an allowance of its own.
"""

from __future__ import annotations

from bot import messages as msg
from fakebot import parse_html, utf16_len
from tests.conftest import SAMPLE_HEADLINES

from .harness import (
    TWO_PAGE_QUESTION,
    USER,
    WAIT,
    Harness,
)


async def test_inline_query_returns_quotes_as_html_and_empty_query_lists_latest(tg: Harness) -> None:
    since = tg.fake.mark()
    tg.fake.inline_query(USER, TWO_PAGE_QUESTION)
    answer = await tg.fake.wait_for("answerInlineQuery", since=since, timeout=WAIT)
    results = answer.params["results"]
    assert 1 <= len(results) <= 10
    texts = []
    for result in results:
        content = result["input_message_content"]
        assert result["type"] == "article" and content["parse_mode"] == "HTML"
        plain, _ = parse_html(content["message_text"])
        assert utf16_len(plain) <= 4096
        texts.append(plain)
    assert any("市审计局" in t for t in texts)
    assert SAMPLE_HEADLINES[1] in texts[0]  # the best passage first, with its source

    since = tg.fake.mark()
    tg.fake.inline_query(USER, "")
    latest = await tg.fake.wait_for("answerInlineQuery", since=since, timeout=WAIT)
    titles = [r["title"] for r in latest.params["results"]]
    assert sorted(titles) == sorted(msg.INLINE_LATEST.format(headline=h) for h in SAMPLE_HEADLINES)
    for result in latest.params["results"]:
        plain, entities = parse_html(result["input_message_content"]["message_text"])
        assert any(e["type"] == "bold" for e in entities)
        assert result["title"].removeprefix("最新：") in plain


async def test_typing_an_inline_question_does_not_use_up_private_questions(tg: Harness) -> None:
    question = TWO_PAGE_QUESTION
    for n in range(1, len(question) + 1):  # one inline query per keystroke, as Telegram sends them
        since = tg.fake.mark()
        tg.fake.inline_query(USER, question[:n])
        await tg.fake.wait_for("answerInlineQuery", since=since, timeout=WAIT)
    assert len(question) > tg.settings.rate_limit_per_minute
    reply = await tg.say(USER, question)
    assert "市审计局" in (reply.plain_text or "")  # answered, not 提问太频繁了
