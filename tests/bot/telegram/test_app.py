"""The application (``bot/telegram/app.py``): the command menu, what no feature handles, Telegram's 429
and 403, outages, errors, the token kept out of the logs, and webhook mode.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from typing import Any

import httpx
import pytest

from bot import messages as msg
from bot.config import Settings
from fakebot import FakeBotAPI

from .harness import (
    ADMIN,
    OTHER,
    TWO_PAGE_QUESTION,
    USER,
    WAIT,
    Harness,
    buttons_of,
    running_bot,
)


async def test_startup_sets_the_chinese_command_menu(tg: Harness) -> None:
    menu = tg.fake.commands()
    assert menu == [{"command": c, "description": d} for c, d in msg.COMMANDS]
    assert {"start", "help", "ask", "latest", "digest", "subscribe", "trend"} <= {c["command"] for c in menu}
    assert all(re.search(r"[\u4e00-\u9fff]", c["description"]) for c in menu)


async def test_stickers_and_photos_in_private_get_the_text_only_hint(tg: Harness) -> None:
    since = tg.fake.mark()
    tg.fake.send_sticker(USER)
    assert (await tg.next_message(USER, since)).plain_text == msg.NOT_TEXT
    since = tg.fake.mark()
    tg.fake.send_photo(USER, caption="这张图里是什么？")
    assert (await tg.next_message(USER, since)).plain_text == msg.NOT_TEXT


async def test_a_429_on_send_message_still_delivers_the_reply_exactly_once(tg: Harness) -> None:
    tg.fake.fail("sendMessage", 429, retry_after=1)
    reply = await tg.say(USER, "象州县投入多少钱加强实体平台建设？")
    await tg.settle()
    assert "680万元" in (reply.plain_text or "")
    assert len(tg.chat_messages(USER)) == 1
    attempts = [c for c in tg.fake.calls if c.method == "sendMessage" and c.chat_id == USER]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0  # it waited as told


async def test_a_403_is_recorded_as_blocked_and_others_are_still_served(tg: Harness) -> None:
    tg.fake.block(USER)
    tg.fake.send_text(USER, "象州县投入多少钱加强实体平台建设？")
    other = await tg.say(OTHER, "大安山乡中心幼儿园的园长是谁？")
    assert "王青" in (other.plain_text or "")
    await tg.settle()
    with tg.db() as db:
        assert db.execute("SELECT chat_id, reason FROM blocked_chats").fetchall() == [(USER, "forbidden")]
    stats = await tg.say(ADMIN, "/stats")
    assert (stats.plain_text or "").endswith("屏蔽了机器人的聊天：1")
    assert [c.status for c in tg.fake.calls if c.method == "sendMessage" and c.chat_id == USER] == [403]


async def test_polling_recovers_from_a_dropped_connection_and_an_outage(tg: Harness) -> None:
    await tg.fake.wait_idle()
    tg.fake.drop("getUpdates")  # the next long poll's connection is cut
    reply = await tg.say(USER, "象州县投入多少钱加强实体平台建设？")
    assert "680万元" in (reply.plain_text or "")

    await tg.fake.wait_idle()
    tg.fake.down(0.5)  # the network goes away, cutting the waiting long poll, and comes back
    reply = await tg.say(USER, "大安山乡中心幼儿园的园长是谁？")
    assert "王青" in (reply.plain_text or "")
    dropped = [c for c in tg.fake.calls if c.method == "getUpdates" and c.status == 0]
    assert len(dropped) >= 2
    assert len(tg.chat_messages(USER)) == 2


async def test_an_unexpected_error_gets_one_short_apology_without_details(
    tg: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    tg.expect_errors = True

    def broken(question: str, **kwargs: Any) -> Any:
        raise RuntimeError("index segment /srv/newsbot/data/seg-1 is corrupt")

    with monkeypatch.context() as patch:
        patch.setattr(tg.service, "ask", broken)
        apology = await tg.say(USER, "象州县投入多少钱加强实体平台建设？")
        await tg.settle()
    assert apology.plain_text == msg.APOLOGY
    assert [r.plain_text for r in tg.chat_messages(USER)] == [msg.APOLOGY]

    assert "680万元" in ((await tg.say(USER, "象州县投入多少钱加强实体平台建设？")).plain_text or "")
    for record in tg.fake.sent:
        shown = json.dumps(record.params, ensure_ascii=False)
        assert "Traceback" not in shown and "RuntimeError" not in shown and "/srv/newsbot" not in shown


async def test_the_token_never_appears_in_the_logs(
    fake: FakeBotAPI, settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)  # everything, as with `newsbot -vv` (httpx stays at WARNING there too)
    async with running_bot(fake, settings) as tg:
        tg.expect_errors = True
        answer = await tg.say(USER, TWO_PAGE_QUESTION)
        since = fake.mark()
        await tg.press(answer, buttons_of(answer)[msg.MORE])
        await fake.wait_for("editMessageText", since=since, timeout=WAIT)
        fake.fail("sendMessage", 500)  # a Telegram error inside a handler: logged with its traceback
        fake.send_text(USER, "大安山乡中心幼儿园的园长是谁？")
        await tg.settle()
        with monkeypatch.context() as patch:
            patch.setattr(tg.service, "ask", lambda *a, **k: 1 / 0)  # a bug in a handler
            assert (await tg.say(USER, "象州县？")).plain_text == msg.APOLOGY
        await fake.wait_idle()
        fake.drop("getUpdates")  # a polling error
        await tg.say(USER, "象州县投入多少钱加强实体平台建设？")

    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert "error while handling an update" in logged  # the errors were logged...
    assert any(c.method == "getUpdates" and c.status == 0 for c in fake.calls)  # the poll was cut
    secret = fake.token.split(":", 1)[1]
    assert fake.token not in logged and secret not in logged  # ...without the token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _update(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "Tester"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Tester"},
            "from": user,
            "text": text,
        },
    }


async def test_webhook_accepts_only_updates_with_the_secret(fake: FakeBotAPI, settings: Settings) -> None:
    port = _free_port()
    webhook = {
        "listen": "127.0.0.1",
        "port": port,
        "url_path": "telegram",
        "webhook_url": "https://newsbot.example.org/telegram",
        "secret_token": "s3cret",
    }
    async with running_bot(fake, settings, webhook=webhook) as tg:
        assert fake.webhook_url == "https://newsbot.example.org/telegram"
        set_webhook = next(r for r in fake.sent if r.method == "setWebhook")
        assert set_webhook.params["secret_token"] == "s3cret"

        url = f"http://127.0.0.1:{port}/telegram"
        async with httpx.AsyncClient(timeout=5) as client:
            missing = await client.post(url, json=_update(1, USER, "象州县投入多少钱加强实体平台建设？"))
            wrong = await client.post(
                url,
                json=_update(2, USER, "大安山乡中心幼儿园的园长是谁？"),
                headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
            )
            since = fake.mark()
            right = await client.post(
                url,
                json=_update(3, USER, "黑龙江各级工会组建了多少支宣讲队伍？"),
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
            )
            reply = await tg.next_message(USER, since)
            # Once a later update is answered, the earlier (refused) ones would have been too.
            since = fake.mark()
            later = await client.post(
                url,
                json=_update(4, OTHER, "/help"),
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
            )
            await tg.next_message(OTHER, since)

    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert (right.status_code, later.status_code) == (200, 200)
    assert "1024支" in (reply.plain_text or "")
    assert [r.plain_text for r in tg.chat_messages(USER)] == [reply.plain_text]
