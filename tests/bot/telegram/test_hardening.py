"""Hardening over HTTP: odd Telegram input and injected faults, against the real Application.

Catalogue entries here (see tests/test_hardening.py for questions, files and the store):

| input or fault | expected |
|---|---|
| unknown command in a private chat | a pointer to /help, nothing internal |
| unknown command in a group | ignored (it may be another bot's) |
| /ask@thisbot in a group | answered (in test_questions.py) |
| edited message, sticker, photo | not answered again; "only text" hint (elsewhere in tests/bot/telegram/) |
| forwarded message with a question | answered like any question |
| forged callback data, another chat's buttons | the expired alert (elsewhere in tests/bot/telegram/) |
| inline query of 300 characters | answered without error, at most 10 results |
| an article holding HTML tags and Telegram markup | shown as text in quotes and in the full article |
| 500 and 502 on sendMessage | retried: the reply arrives exactly once |
| a timeout on sendMessage (Telegram still delivers it) | delivered once, not repeated |
| 429 with retry_after, 403 | waits and delivers once; blocked chat recorded (elsewhere in tests/bot/telegram/) |
| getUpdates answering 502 for a while | polling recovers by itself |
| no network for a minute during long polling | the question asked meanwhile is answered afterwards |
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot import messages as msg
from bot.config import Settings
from fakebot import FakeBotAPI, parse_html

from .harness import (
    ADMIN,
    GROUP,
    MEMBER,
    USER,
    WAIT,
    Harness,
    assert_html_message,
    buttons_of,
    ingest_articles,
    running_bot,
)

QUESTION = "象州县投入多少钱加强实体平台建设？"


ANSWER = "680万元"


MARKUP_ARTICLE = {
    "id": "markup-1",
    "title": "网页<b>标题</b>里的标签 & 符号",
    "date": "2026-11-21",
    "text": '据报道,<b>加粗</b>和<a href="https://evil.example">链接</a>以及*星号*、_下划线_、`代码`都应原样显示,'
    "&lt;实体&gt;也一样。<script>alert(1)</script>\n第二段讲述社区食堂的营业时间调整。",
}


async def test_an_unknown_command_in_private_points_to_help(tg: Harness) -> None:
    reply = await tg.say(USER, "/frobnicate now")
    assert reply.plain_text == msg.UNKNOWN_COMMAND.format(command="/frobnicate")


async def test_an_unknown_command_in_a_group_is_ignored(tg: Harness) -> None:
    since = tg.fake.mark()
    tg.fake.send_text(GROUP, "/frobnicate", user_id=MEMBER, chat_type="supergroup")
    await tg.settle()
    assert tg.chat_messages(GROUP, since) == []


async def test_a_forwarded_question_is_answered(tg: Harness) -> None:
    since = tg.fake.mark()
    origin = {
        "type": "user",
        "date": int(time.time()) - 60,
        "sender_user": {"id": 99, "is_bot": False, "first_name": "转发"},
    }
    tg.fake.send_text(USER, QUESTION, user_id=USER, forward_origin=origin)
    reply = await tg.next_message(USER, since)
    assert ANSWER in assert_html_message(reply)


async def test_a_300_character_inline_query_is_answered(tg: Harness) -> None:
    since = tg.fake.mark()
    tg.fake.inline_query(USER, (QUESTION * 20)[:300])
    answer = await tg.fake.wait_for("answerInlineQuery", since=since, timeout=WAIT)
    assert answer.ok and len(answer.params["results"]) <= 10


async def test_markup_inside_articles_is_shown_as_text(fake: FakeBotAPI, settings: Settings) -> None:
    ingest_articles(settings, "markup.jsonl", MARKUP_ARTICLE)
    async with running_bot(fake, settings) as tg:
        reply = await tg.say(USER, "加粗和链接以及星号下划线代码都应原样显示吗")
        shown = assert_html_message(reply)
        assert "<b>加粗</b>" in shown and "<a href=" in shown and "*星号*" in shown
        _, entities = parse_html(reply.text or "")
        assert not any(e["type"] == "text_link" for e in entities)  # the article's link is not a link
        full = buttons_of(reply)
        article_button = next(data for label, data in full.items() if label.startswith(msg.FULL_TEXT))
        since = tg.fake.mark()
        await tg.press(reply, article_button)
        page = await tg.next_message(USER, since)
        shown_page = assert_html_message(page)
        assert "网页<b>标题</b>里的标签 & 符号" in shown_page and "<script>alert(1)</script>" in shown_page
        assert "&lt;实体&gt;" in shown_page


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_on_send_are_retried_and_the_reply_arrives_once(tg: Harness, status: int) -> None:
    tg.fake.fail("sendMessage", status=status, times=2)
    since = tg.fake.mark()
    tg.fake.send_text(USER, QUESTION, user_id=USER)
    reply = await tg.next_message(USER, since)
    assert ANSWER in assert_html_message(reply)
    await tg.settle()
    await asyncio.sleep(0.3)
    assert len(tg.chat_messages(USER, since)) == 1


async def test_a_timed_out_send_is_not_repeated(fake: FakeBotAPI, settings: Settings) -> None:
    async with running_bot(fake, settings) as tg:
        tg.expect_errors = True  # the timed-out send is logged as an error
        fake.delay("sendMessage", 6.0)  # beyond PTB's 5 s read timeout; the fake still delivers it
        since = fake.mark()
        fake.send_text(USER, QUESTION, user_id=USER)
        await tg.fake.wait_for("sendMessage", chat_id=USER, since=since, timeout=10)
        await asyncio.sleep(2.0)
        assert len(tg.chat_messages(USER, since)) == 1


async def test_polling_recovers_from_502s(tg: Harness) -> None:
    """Three 502s in a row: PTB's updater backs off, longer after each, and polls again; the question is
    answered once it does. The wait allows for the back-off (the test's usual 5 s ran out once in a fresh
    clone's first run, with the reply still on its way)."""
    tg.fake.fail("getUpdates", status=502, times=3)
    since = tg.fake.mark()
    tg.fake.send_text(USER, QUESTION)
    reply = await tg.fake.wait_for("sendMessage", chat_id=USER, since=since, timeout=30)
    assert ANSWER in assert_html_message(reply)


async def test_a_minute_without_network_loses_no_question(tg: Harness) -> None:
    """The network goes away for a minute during long polling; a question asked meanwhile is answered
    once it is back (PTB's updater retries with back-off; nothing is lost at Telegram's end)."""
    tg.expect_errors = True  # the updater logs the network errors it retries
    tg.fake.down(60)
    since = tg.fake.mark()
    tg.fake.send_text(USER, QUESTION, user_id=USER)
    await asyncio.sleep(60)
    tg.fake.up()
    reply = await tg.fake.wait_for("sendMessage", chat_id=USER, since=since, timeout=45)
    assert ANSWER in assert_html_message(reply)


async def test_admin_commands_reveal_nothing_to_others(tg: Harness) -> None:
    for command in ("/stats", "/reload"):
        reply = await tg.say(USER, command)
        assert reply.plain_text == msg.ADMIN_ONLY
    reply = await tg.say(ADMIN, "/stats")
    assert "文章" in (reply.plain_text or "") and tg.settings.token not in (reply.text or "")
