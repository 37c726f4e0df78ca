"""Questions over Telegram (``bot/telegram/questions.py``): private messages, /ask, groups, /start's
examples, the answer's page and feedback buttons, their sessions after a restart, limits on questions.

The real PTB ``Application`` polls the fake Bot API over HTTP (``harness``); each test gets its own copy of a
database holding the bundled sample page. "The bot ignored X" is checked by sending X, then waiting until
the bot has fetched every update and its update queue is done (``Harness.settle``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from bot import messages as msg
from bot.config import Settings
from fakebot import FakeBotAPI
from tests.conftest import SAMPLE_HEADLINES, SEEDS

from .harness import (
    GROUP,
    MEMBER,
    OTHER,
    TWO_PAGE_QUESTION,
    USER,
    WAIT,
    Harness,
    assert_html_message,
    buttons_of,
    make_settings,
    running_bot,
)


async def test_start_welcomes_and_its_example_buttons_ask_the_question(tg: Harness) -> None:
    welcome = await tg.say(USER, "/start")
    assert welcome.plain_text == msg.START.format(articles=len(SAMPLE_HEADLINES))
    assert buttons_of(welcome) == {q: f"q:{i}" for i, q in enumerate(msg.EXAMPLES)}

    since = tg.fake.mark()
    answer = await tg.press(welcome, "q:1")  # 大安山乡中心幼儿园的园长是谁？
    assert answer.text is None  # a quiet acknowledgement, no pop-up
    reply = await tg.next_message(USER, since)
    text = assert_html_message(reply)
    assert "王青" in text and "大安山里的“清淤战”" in text
    assert text.startswith(msg.ANSWER_HEADER.format(question=msg.EXAMPLES[1]))


async def test_seed_questions_are_answered_with_quote_and_headline(tg: Harness) -> None:
    for n, seed in enumerate(SEEDS):
        user = 5000 + n  # one user per question: the per-user rate limit is not what this test is about
        reply = await tg.say(user, seed["question"])
        text = assert_html_message(reply)
        if seed["answers"]:
            for expected in seed["answers"]:
                assert expected in text, (seed["qid"], text)
            assert seed["article"] in text, (seed["qid"], text)  # the headline in the source line
            assert {"👍", "👎"} <= set(buttons_of(reply)), seed["qid"]
            assert any(t.startswith(msg.FULL_TEXT) for t in buttons_of(reply)), seed["qid"]
        else:
            assert text.startswith(msg.NOT_FOUND.split("「")[0]), (seed["qid"], text)
            assert reply.reply_markup is None


async def test_the_short_answer_comes_first_and_is_marked_in_the_quote(tg: Harness) -> None:
    reply = await tg.say(USER, "象州县投入多少钱加强实体平台建设？")
    text = assert_html_message(reply)
    assert text.splitlines()[1] == msg.SHORT_ANSWER.format(answer="680万元")
    assert "<b><u>680万元</u></b>" in (reply.text or "")  # underlined where it stands in the quote
    unsure = await tg.say(USER, "天津市总工会和哪个部门建立了协同贯通工作机制?")  # quoted, no one-line answer
    assert "答：" not in assert_html_message(unsure)


async def test_a_button_under_a_deleted_message_sends_the_page_anew(tg: Harness) -> None:
    tg.expect_errors = True  # the refused edit is expected; nothing else may fail
    first = await tg.say(USER, TWO_PAGE_QUESTION)
    since = tg.fake.mark()
    tg.fake.press_button(first, buttons_of(first)[msg.MORE])
    tg.fake.user_deletes(USER, first.message_id or 0)  # before the bot handles the press (same loop)
    page2 = await tg.fake.wait_for("sendMessage", since=since, chat_id=USER, timeout=WAIT)
    assert msg.ANSWER_PAGE.format(page=2, pages=2) in assert_html_message(page2)
    assert msg.PREVIOUS in buttons_of(page2)
    await tg.settle()
    refused = [c.error for c in tg.fake.calls if c.status == 400]
    assert refused == ["Bad Request: message to edit not found"]
    assert [r for r in tg.fake.messages() if r.plain_text == msg.APOLOGY] == []


async def test_more_edits_the_answer_in_place_and_a_double_tap_is_harmless(tg: Harness) -> None:
    first = await tg.say(USER, TWO_PAGE_QUESTION)
    assert first.plain_text and msg.ANSWER_PAGE.format(page=1, pages=2) in first.plain_text
    more = buttons_of(first)[msg.MORE]
    assert re.fullmatch(r"p:[\w-]{8}:1", more)

    since = tg.fake.mark()
    # A double tap: both presses carry the message as it was, with the "more" button.
    tg.fake.press_button(first, more)
    tg.fake.press_button(first, more)
    edit = await tg.fake.wait_for("editMessageText", since=since, timeout=WAIT)
    await tg.settle()

    assert edit.params["message_id"] == first.message_id and edit.chat_id == USER
    page2 = assert_html_message(edit)
    assert msg.ANSWER_PAGE.format(page=2, pages=2) in page2 and page2 != first.plain_text
    assert msg.PREVIOUS in buttons_of(edit) and msg.MORE not in buttons_of(edit)
    # Both taps were acknowledged; the second changed nothing and sent nothing new.
    assert sorted(r.method for r in tg.fake.sent[since:]) == [
        "answerCallbackQuery",
        "answerCallbackQuery",
        "editMessageText",
    ]
    assert len(tg.chat_messages(USER)) == 1
    stored = tg.fake.message(USER, first.message_id or 0)
    assert stored is not None and msg.ANSWER_PAGE.format(page=2, pages=2) in stored["text"]

    back = buttons_of(edit)[msg.PREVIOUS]
    since = tg.fake.mark()
    await tg.press(stored, back)
    again = await tg.fake.wait_for("editMessageText", since=since, timeout=WAIT)
    assert again.plain_text == first.plain_text


async def test_thumbs_up_is_stored_in_the_query_log(tg: Harness) -> None:
    reply = await tg.say(USER, "象州县投入多少钱加强实体平台建设？")
    thumbs_up = buttons_of(reply)["👍"]
    answer = await tg.press(reply, thumbs_up)
    assert answer.text == msg.THANKS_FEEDBACK

    with tg.db() as db:
        rows = db.execute("SELECT question, chat_type, answered, feedback FROM query_log").fetchall()
    assert rows == [("象州县投入多少钱加强实体平台建设？", "private", 1, 1)]
    assert str(USER) not in repr(rows)  # the log keeps no user or chat ids


async def test_expired_forged_and_foreign_buttons_get_the_expired_alert(tg: Harness) -> None:
    mine = await tg.say(USER, TWO_PAGE_QUESTION)
    token = buttons_of(mine)[msg.MORE].split(":")[1]
    theirs = await tg.say(OTHER, "象州县投入多少钱加强实体平台建设？")
    since = tg.fake.mark()

    forged = ["p:AAAAAAAA:1", "f:ZZZZZZZZ:+", "p:x:1", "nonsense", "q:x", "s:d:1", ""]
    alerts = [await tg.press(mine, data, check=False) for data in forged]
    # Another chat's answer session, pressed from that other chat's message.
    alerts.append(await tg.press(theirs, f"p:{token}:1", check=False))
    alerts.append(await tg.press(theirs, f"f:{token}:-", check=False))
    for alert in alerts:
        assert (alert.text, alert.params.get("show_alert")) == (msg.SESSION_EXPIRED, True)

    # A session pruned because it is old: the prune job runs daily; run it now.
    with tg.db() as db:
        db.execute(
            "UPDATE answer_sessions SET created_at = '2000-01-01T00:00:00+00:00' WHERE token = ?", (token,)
        )
        db.commit()
    prune = tg.app.job_queue.get_jobs_by_name("prune")  # type: ignore[union-attr]
    assert len(prune) == 1
    await prune[0].run(tg.app)
    expired = await tg.press(mine, f"p:{token}:1")
    assert (expired.text, expired.params.get("show_alert")) == (msg.SESSION_EXPIRED, True)

    await tg.settle()
    assert [r for r in tg.fake.sent[since:] if r.method == "editMessageText"] == []
    assert tg.chat_messages(USER, since) == [] and tg.chat_messages(OTHER, since) == []
    with tg.db() as db:
        assert db.execute("SELECT feedback FROM query_log").fetchall() == [(None,), (None,)]


async def test_buttons_keep_working_after_a_restart(fake: FakeBotAPI, settings: Settings) -> None:
    async with running_bot(fake, settings) as first_run:
        answer = await first_run.say(USER, TWO_PAGE_QUESTION)
    async with running_bot(fake, settings) as second_run:  # a new process: new Application, same database
        since = fake.mark()
        await second_run.press(answer, buttons_of(answer)[msg.MORE])
        edit = await fake.wait_for("editMessageText", since=since, timeout=WAIT)
        assert msg.ANSWER_PAGE.format(page=2, pages=2) in (edit.plain_text or "")
        thanks = await second_run.press(answer, buttons_of(answer)["👍"])
        assert thanks.text == msg.THANKS_FEEDBACK


async def test_help_explains_usage_with_the_bot_username(tg: Harness) -> None:
    text = assert_html_message(await tg.say(USER, "/help"))
    assert text.startswith("怎么用") and f"@{tg.fake.username}" in text


async def test_group_answers_ask_mentions_and_replies_and_ignores_chatter(tg: Harness) -> None:
    bot_name = tg.fake.username
    asked = await tg.say(GROUP, "/ask 象州县投入多少钱加强实体平台建设？", user_id=MEMBER)
    assert "680万元" in (asked.plain_text or "")
    addressed = await tg.say(GROUP, f"/ask@{bot_name} 大安山乡中心幼儿园的园长是谁？", user_id=MEMBER)
    assert "王青" in (addressed.plain_text or "")
    mentioned = await tg.say(GROUP, f"@{bot_name} 黑龙江各级工会组建了多少支宣讲队伍？", user_id=MEMBER)
    assert "1024支" in (mentioned.plain_text or "")
    assert f"@{bot_name}" not in (mentioned.plain_text or "")
    replied = await tg.say(GROUP, "象州云工会服务了多少职工？", user_id=MEMBER, reply_to_message=asked)
    assert "71万人次" in (replied.plain_text or "")
    usage = await tg.say(GROUP, "/ask", user_id=MEMBER)
    assert usage.plain_text == msg.ASK_USAGE.format(example=msg.EXAMPLE_QUESTION)
    answered = tg.chat_messages(GROUP)

    since = tg.fake.mark()
    chatter = tg.fake.send_text(GROUP, "大家中午吃什么？", user_id=MEMBER)
    tg.fake.send_text(GROUP, "象州县投入多少钱？", user_id=9, reply_to_message=chatter["message"])
    tg.fake.send_text(GROUP, "@someone_else 象州县投入多少钱？", user_id=MEMBER)
    tg.fake.send_text(GROUP, "/ask@other_news_bot 象州县投入多少钱？", user_id=MEMBER)
    tg.fake.send_text(GROUP, "象州县投入多少钱加强实体平台建设？", user_id=MEMBER, edited=True)
    await tg.settle()
    assert tg.chat_messages(GROUP, since) == []
    assert len(answered) == 5
    for record in answered:  # in groups the bot replies to the message it answers
        assert record.params.get("reply_parameters") or record.params.get("reply_to_message_id")


async def test_a_follow_up_in_private_is_completed_from_the_last_answer(tg: Harness) -> None:
    await tg.say(USER, "大安山乡中心幼儿园的园长是谁？")
    follow = assert_html_message(await tg.say(USER, "她为什么急得上火？"))
    assert msg.UNDERSTOOD.format(question="王青为什么急得上火?") in follow
    assert "开学" in follow
    alone = assert_html_message(await tg.say(USER, "黑龙江各级工会组建了多少支宣讲队伍？"))  # its own subject
    assert "接着上一个问题" not in alone and "1024支" in alone


async def test_in_groups_only_a_reply_to_the_bots_answer_follows_up(tg: Harness) -> None:
    bot_name = tg.fake.username
    answer = await tg.say(GROUP, f"@{bot_name} 大安山乡中心幼儿园的园长是谁？", user_id=MEMBER)
    replied = await tg.say(GROUP, "她为什么急得上火？", user_id=MEMBER, reply_to_message=answer)
    assert "王青为什么急得上火" in assert_html_message(replied)
    mentioned = await tg.say(GROUP, f"@{bot_name} 她为什么急得上火？", user_id=MEMBER)  # not a reply
    assert "接着上一个问题" not in assert_html_message(mentioned)


async def test_follow_ups_end_after_the_configured_minutes(fake: FakeBotAPI, seeded_db: Path) -> None:
    async with running_bot(fake, make_settings(seeded_db, fake, follow_up_minutes=1)) as tg:
        await tg.say(USER, "大安山乡中心幼儿园的园长是谁？")
        tg.clock.set(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2))
        later = assert_html_message(await tg.say(USER, "她为什么急得上火？"))
        assert "接着上一个问题" not in later


async def test_rate_limit_per_user_gives_a_friendly_message(fake: FakeBotAPI, seeded_db: Path) -> None:
    settings = make_settings(seeded_db, fake, rate_limit_per_minute=2)
    async with running_bot(fake, settings) as tg:
        now = [1000.0]
        tg.runtime.monotonic = lambda: now[0]
        assert "680万元" in ((await tg.say(USER, "象州县投入多少钱加强实体平台建设？")).plain_text or "")
        assert "王青" in ((await tg.say(USER, "大安山乡中心幼儿园的园长是谁？")).plain_text or "")
        limited = await tg.say(USER, "黑龙江各级工会组建了多少支宣讲队伍？")
        assert limited.plain_text == msg.RATE_LIMITED.format(limit=2)
        assert "1024支" in ((await tg.say(OTHER, "黑龙江各级工会组建了多少支宣讲队伍？")).plain_text or "")
        now[0] += 61  # a minute later
        assert "1024支" in ((await tg.say(USER, "黑龙江各级工会组建了多少支宣讲队伍？")).plain_text or "")


async def test_a_question_over_the_length_limit_gets_the_length_message(tg: Harness) -> None:
    limit = tg.settings.max_question_chars
    reply = await tg.say(USER, "象" * (limit + 1))
    assert reply.plain_text == msg.QUESTION_TOO_LONG.format(length=limit + 1, limit=limit)


async def test_an_edited_question_is_not_answered_again(tg: Harness) -> None:
    await tg.say(USER, "象州县投入多少钱加强实体平台建设？")
    since = tg.fake.mark()
    tg.fake.send_text(USER, "大安山乡中心幼儿园的园长是谁？", edited=True)
    tg.fake.send_text(USER, "/start", edited=True)
    await tg.settle()
    assert tg.chat_messages(USER, since) == []
    with tg.db() as db:
        assert db.execute("SELECT count(*) FROM query_log").fetchone() == (1,)
