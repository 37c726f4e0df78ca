"""The fake Bot API server against the real python-telegram-bot Application over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from fakebot import FakeBotAPI, SentRecord, parse_html, tiny_png, utf16_len

USER = 42  # a private chat: chat id == user id
GROUP = -1001234567890


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    # Sets PTB_TIMEDELTA=1 (else reading RetryAfter.retry_after warns, and filterwarnings=error
    # turns every 429 into that warning) and the token-logging httpx logger to WARNING.
    with FakeBotAPI.running() as server:
        assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
        yield server


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message  # also edited messages
    assert message is not None and message.text is not None
    await message.reply_text(message.text)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await context.bot.send_message(
        update.effective_chat.id, f"started {' '.join(context.args or [])}".strip()
    )


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("更多", callback_data="more"),
                InlineKeyboardButton("Docs", url="https://example.org"),
            ]
        ]
    )
    await update.message.reply_text(
        "<b>菜单</b> &amp; more", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer("done")
    await query.edit_message_text(f"pressed {query.data} on {query.message.message_id}")


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.document is not None
    telegram_file = await update.message.document.get_file()
    data = await telegram_file.download_as_bytearray()
    await update.message.reply_text(f"got {len(data)} bytes: {data.decode()}")
    await update.message.reply_document(bytes(data[::-1]), filename="reversed.txt", caption="reversed")


@contextlib.asynccontextmanager
async def running_app(
    fake: FakeBotAPI,
    *,
    rate_limiter: AIORateLimiter | None = None,
    poll_timeout: int = 1,
    received: list[Update] | None = None,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    builder = ApplicationBuilder().token(fake.token).base_url(fake.base_url).base_file_url(fake.base_file_url)
    if rate_limiter is not None:
        # The builder's generics expect BaseRateLimiter[None]; AIORateLimiter is BaseRateLimiter[int].
        builder = builder.rate_limiter(rate_limiter)  # type: ignore[arg-type]
    app = builder.build()
    if received is not None:

        async def collect(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            received.append(update)

        app.add_handler(TypeHandler(Update, collect), group=-1)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


# --------------------------------------------------------------------------- the PTB application


async def test_text_update_is_echoed_through_send_message(fake: FakeBotAPI) -> None:
    async with running_app(fake):
        update = fake.send_text(USER, "你好 🏟 world")
        record = await fake.wait_for("sendMessage", chat_id=USER)
        await fake.wait_idle()

    assert record.text == record.plain_text == "你好 🏟 world"
    assert record.message is not None
    assert record.message["chat"] == {
        "id": USER,
        "type": "private",
        "first_name": f"Tester{USER}",
        "username": f"tester{USER}",
    }
    assert record.message["from"]["username"] == "newsbot_test_bot"
    assert record.message["message_id"] == update["message"]["message_id"] + 1  # per-chat counter
    assert isinstance(record.message["date"], int)
    assert fake.messages(USER) == [record]
    assert [r.method for r in fake.sent][:2] == ["getMe", "deleteWebhook"]  # initialize, bootstrap
    assert fake.pending_updates == 0  # confirmed by the next getUpdates offset


async def test_commands_get_entities_and_address_the_bot_in_groups(fake: FakeBotAPI) -> None:
    async with running_app(fake):
        fake.send_text(GROUP, "/start@newsbot_test_bot now", user_id=7, chat_type="supergroup")
        fake.send_text(GROUP, "/start@some_other_bot ignored", user_id=7)
        fake.send_text(USER, "/start")
        group_reply = await fake.wait_for("sendMessage", chat_id=GROUP)
        private_reply = await fake.wait_for("sendMessage", chat_id=USER)
        await fake.wait_idle()

    assert group_reply.text == "started now"
    assert group_reply.message is not None and group_reply.message["chat"]["type"] == "supergroup"
    assert private_reply.text == "started"
    assert len(fake.messages(GROUP)) == 1  # the other bot's command was not ours
    update = fake.send_text(USER, "ping @newsbot_test_bot /help")
    assert update["message"]["entities"] == [
        {"type": "mention", "offset": 5, "length": 17},
        {"type": "bot_command", "offset": 23, "length": 5},
    ]


async def test_user_helpers_make_updates_that_ptb_parses(fake: FakeBotAPI) -> None:
    received: list[Update] = []
    async with running_app(fake, received=received):
        first = fake.send_text(USER, "original")
        await fake.wait_for("sendMessage", chat_id=USER)
        fake.send_text(USER, "edited text", edited=True)
        fake.send_text(
            USER,
            "a reply",
            reply_to_message=first["message"]["message_id"],
            forward_origin={"type": "hidden_user", "sender_user_name": "Anon"},
        )
        fake.send_sticker(USER, emoji="🔥")
        fake.send_photo(USER, caption="pic")
        fake.inline_query(USER, "上海")
        fake.add_chat(-100777, "channel", title="新闻频道")
        fake.send_text(-100777, "channel post")
        fake.send_text(GROUP, "@newsbot_test_bot 你好", user_id=7)
        group_echo = await fake.wait_for("sendMessage", chat_id=GROUP)

    assert group_echo.plain_text == "@newsbot_test_bot 你好"
    edited, reply, sticker, photo, inline, channel, group = received[1:]
    assert edited.edited_message is not None and edited.edited_message.text == "edited text"
    assert edited.edited_message.message_id == first["message"]["message_id"]
    assert edited.edited_message.edit_date is not None
    assert reply.message is not None and reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.text == "edited text"  # as stored after the edit
    assert reply.message.forward_origin is not None and reply.message.forward_origin.type == "hidden_user"
    assert sticker.message is not None and sticker.message.sticker is not None
    assert sticker.message.sticker.emoji == "🔥" and sticker.message.text is None
    assert (
        photo.message is not None and photo.message.photo[-1].width == 64 and photo.message.caption == "pic"
    )
    assert inline.inline_query is not None and inline.inline_query.query == "上海"
    assert channel.channel_post is not None and channel.channel_post.chat.title == "新闻频道"
    assert group.message is not None and group.message.chat.type == "supergroup"
    assert group.message.from_user is not None and group.message.from_user.id == 7
    assert group.message.entities[0].type == "mention"
    assert [u.update_id for u in received] == sorted({u.update_id for u in received})


async def test_buttons_callback_queries_and_edits(fake: FakeBotAPI) -> None:
    async with running_app(fake) as app:
        fake.send_text(USER, "/menu")
        menu_record = await fake.wait_for("sendMessage", chat_id=USER)
        assert menu_record.plain_text == "菜单 & more"
        assert menu_record.entities == [{"offset": 0, "length": 2, "type": "bold"}]
        assert menu_record.callback_data == ["more"]

        update = fake.press_button(menu_record, "more")
        query = update["callback_query"]
        assert query["chat_instance"] and query["message"]["message_id"] == menu_record.message_id
        answer = await fake.wait_for("answerCallbackQuery")
        edit = await fake.wait_for("editMessageText")
        assert answer.params["callback_query_id"] == query["id"] and answer.text == "done"
        assert edit.plain_text == f"pressed more on {menu_record.message_id}"
        # The edit had no reply_markup, so the keyboard is gone, as on Telegram.
        assert menu_record.message_id is not None
        current = fake.message(USER, menu_record.message_id)
        assert current is not None and "reply_markup" not in current and "edit_date" in current
        with pytest.raises(ValueError, match="no button"):
            fake.press_button(menu_record, "more")

        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await app.bot.edit_message_text(
                edit.plain_text or "", chat_id=USER, message_id=menu_record.message_id
            )
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await app.bot.answer_callback_query(query["id"])  # answered already


async def test_invalid_html_long_text_and_long_callback_data_are_rejected(fake: FakeBotAPI) -> None:
    async with running_app(fake) as app:
        bot = app.bot
        with pytest.raises(
            BadRequest, match=r"(?i)can't parse entities: can't find end tag corresponding to start tag"
        ):
            await bot.send_message(USER, "<b>unclosed", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "div" at byte offset 7'):
            await bot.send_message(USER, "新闻 <div>x</div>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)must be escaped"):
            await bot.send_message(USER, "AT&T", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(USER, "a" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(USER, "<b> </b>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
            await bot.send_message(USER, "buttons", reply_markup=keyboard)

        # Limits count UTF-16 code units after entity parsing: 2048 emoji = 4096 units is fine,
        # and markup does not count.
        emoji = await bot.send_message(USER, "<i>" + "🏟" * 2048 + "</i>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(USER, "🏟" * 2048 + "x")
        ok_keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="新" * 21)]])  # 63 bytes
        await bot.send_message(USER, "ok", reply_markup=ok_keyboard)
        with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
            await bot.send_photo(USER, tiny_png(), caption="c" * 1025)

    assert emoji.entities[0].length == 4096
    assert [r.plain_text for r in fake.messages(USER)] == ["🏟" * 2048, "ok"]
    rejected = [c for c in fake.calls if c.method in ("sendMessage", "sendPhoto") and not c.ok]
    assert [c.status for c in rejected] == [400] * 8
    assert rejected[0].error == (
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )


async def test_retry_after_reaches_ptb_as_retry_after(fake: FakeBotAPI) -> None:
    async with running_app(fake) as app:
        fake.fail("sendMessage", 429, retry_after=3)
        with pytest.raises(RetryAfter) as excinfo:
            await app.bot.send_message(USER, "flood")
        assert excinfo.value.retry_after == dtm.timedelta(seconds=3)
        await app.bot.send_message(USER, "after the flood")  # the fault was consumed
    assert fake.texts(USER) == ["after the flood"]


async def test_rate_limiter_retries_a_429_and_the_message_arrives_once(fake: FakeBotAPI) -> None:
    async with running_app(fake, rate_limiter=AIORateLimiter(max_retries=1)):
        fake.fail("sendMessage", 429, retry_after=1)
        fake.send_text(USER, "hello once")
        record = await fake.wait_for("sendMessage", chat_id=USER, timeout=10)
        await fake.wait_idle()
    attempts = [c for c in fake.calls if c.method == "sendMessage"]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0  # PTB waited retry_after
    assert fake.texts(USER) == ["hello once"] and record.text == "hello once"


async def test_documents_download_and_upload(fake: FakeBotAPI) -> None:
    payload = "新闻 digest ✓".encode()
    async with running_app(fake) as app:
        fake.send_document(USER, USER, "digest.txt", payload, "text/plain")
        reply = await fake.wait_for("sendMessage", chat_id=USER)
        upload = await fake.wait_for("sendDocument", chat_id=USER)
        photo = await app.bot.send_photo(
            USER, tiny_png(300, 200), caption="<i>chart</i>", parse_mode=ParseMode.HTML
        )
        # Files the bot uploaded are downloadable too.
        again = await (await app.bot.get_file(upload.message["document"]["file_id"])).download_as_bytearray()  # type: ignore[index]
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await app.bot.get_file("no-such-file")

    assert reply.text == f"got {len(payload)} bytes: {payload.decode()}"
    uploaded = upload.files["document"]
    assert uploaded.filename == "reversed.txt" and uploaded.data == payload[::-1]
    assert upload.plain_text == "reversed"
    assert upload.message is not None and upload.message["document"]["file_name"] == "reversed.txt"
    assert bytes(again) == payload[::-1]
    assert photo.caption == "chart" and photo.photo[-1].width == 300 and photo.photo[0].width == 90
    photo_record = fake.messages(USER)[-1]
    assert photo_record.method == "sendPhoto" and photo_record.files["photo"].data == tiny_png(300, 200)
    assert photo_record.params["photo"] == tiny_png(300, 200) and photo_record.params["chat_id"] == USER
    downloads = [c for c in fake.calls if c.method == "download"]
    assert len(downloads) == 2 and all(c.ok for c in downloads)


async def test_polling_resumes_after_the_network_comes_back(fake: FakeBotAPI) -> None:
    async with running_app(fake):
        await fake.wait_idle()
        fake.down()
        # The waiting long poll is cut, and PTB's retries are dropped while the network is down.
        deadline = time.monotonic() + 5
        while sum(1 for c in fake.calls if c.method == "getUpdates" and c.status == 0) < 2:
            assert time.monotonic() < deadline, fake.calls[-5:]
            await asyncio.sleep(0.05)
        fake.send_text(USER, "still there?")
        fake.up()
        record = await fake.wait_for("sendMessage", chat_id=USER, timeout=10)
        await fake.wait_idle()
    assert record.text == "still there?"
    assert fake.texts(USER) == ["still there?"]


async def test_stopping_the_server_during_a_long_poll_is_prompt(fake: FakeBotAPI) -> None:
    async with running_app(fake, poll_timeout=30):
        await fake.wait_idle()
        assert fake.polls_waiting == 1
        started = time.monotonic()
        await asyncio.to_thread(fake.stop)
        assert time.monotonic() - started < 1.0
        assert [t for t in threading.enumerate() if t.name.startswith("fakebot")] == []


async def test_faults_map_to_ptb_exceptions(fake: FakeBotAPI) -> None:
    async with running_app(fake) as app:
        bot = app.bot
        fake.fail("sendMessage", 403)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(USER, "x")
        fake.fail("sendMessage", 500)
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(USER, "x")
        fake.fail("sendMessage", 502)  # nginx HTML, not JSON
        with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)"):
            await bot.send_message(USER, "x")
        fake.drop("sendMessage")
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "x")
        fake.drop("sendMessage", after_processing=True)
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "sent but unanswered")
        fake.delay("sendMessage", 0.6)
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "slow", read_timeout=0.2)
        # Telegram carries out a request whose answer the client gave up on.
        await fake.wait_for("sendMessage", plain_text="slow", timeout=3)
        fake.block(USER)
        with pytest.raises(Forbidden):
            await bot.send_chat_action(USER, ChatAction.TYPING)
        fake.unblock(USER)
        await bot.send_chat_action(USER, ChatAction.TYPING)
        assert await bot.do_api_request("setNewsbotTestFlag", api_kwargs={"flag": "新闻"}) is True

    assert fake.texts(USER) == ["sent but unanswered", "slow"]
    unknown = [r for r in fake.sent if r.unknown]
    assert [(r.method, r.params) for r in unknown] == [("setNewsbotTestFlag", {"flag": "新闻"})]
    statuses = [c.status for c in fake.calls if c.method == "sendMessage"]
    assert statuses == [403, 500, 502, 0, 200, 200]


async def test_wrong_token_is_unauthorized(fake: FakeBotAPI) -> None:
    app = (
        ApplicationBuilder()
        .token(fake.token.replace("AA", "BB", 1))
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    with pytest.raises(InvalidToken, match="rejected by the server"):
        await app.initialize()
    await app.shutdown()
    assert [(c.method, c.status, c.error) for c in fake.calls] == [("getMe", 401, "Unauthorized")]


async def test_commands_webhook_members_and_inline_queries(fake: FakeBotAPI) -> None:
    async with running_app(fake) as app:
        bot = app.bot
        me = await bot.get_me()
        assert (me.username, me.is_bot, me.can_join_groups, me.can_read_all_group_messages) == (
            "newsbot_test_bot",
            True,
            True,
            False,
        )
        assert me.supports_inline_queries is True

        commands = [BotCommand("ask", "提问"), BotCommand("digest", "每日摘要")]
        assert await bot.set_my_commands(commands)
        assert await bot.set_my_commands([BotCommand("admin", "x")], scope=BotCommandScopeChat(USER))
        assert list(await bot.get_my_commands()) == commands
        assert fake.commands(scope={"type": "chat", "chat_id": USER}) == [
            {"command": "admin", "description": "x"}
        ]
        with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
            await bot.set_my_commands([BotCommand("Digest", "camel case")])

        info = await bot.get_webhook_info()
        assert info.url == "" and info.pending_update_count == 0
        with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
            await bot.set_webhook("http://insecure.example/hook")

        fake.set_chat_member(GROUP, 7, "administrator", can_pin_messages=False)
        fake.set_chat_member(GROUP, 8, "restricted")
        fake.set_chat_member(GROUP, 9, "kicked")
        admin = await bot.get_chat_member(GROUP, 7)
        assert admin.status == "administrator" and admin.can_pin_messages is False
        assert (await bot.get_chat_member(GROUP, 8)).status == "restricted"
        assert (await bot.get_chat_member(GROUP, 9)).status == "kicked"
        assert (await bot.get_chat_member(GROUP, 10)).status == "member"

        query_id = fake.inline_query(USER, "上海")["inline_query"]["id"]
        too_many = [
            InlineQueryResultArticle(str(i), f"r{i}", InputTextMessageContent(f"text {i}")) for i in range(51)
        ]
        with pytest.raises(BadRequest, match=r"(?i)results_too_much"):
            await bot.answer_inline_query(query_id, too_many)
        assert await bot.answer_inline_query(query_id, too_many[:3])
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_inline_query(query_id, too_many[:3])
        await fake.wait_idle()

        sent = await bot.send_message(GROUP, "to delete")
        assert await bot.delete_message(GROUP, sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await bot.delete_message(GROUP, sent.message_id)


async def test_concurrent_sends_get_unique_increasing_message_ids(fake: FakeBotAPI) -> None:
    async with running_app(fake) as app:
        fake.send_sticker(USER)
        fake.send_photo(USER, caption="a photo")
        await fake.wait_idle()
        messages = await asyncio.gather(*(app.bot.send_message(USER, f"n{i}") for i in range(20)))
    ids = sorted(m.message_id for m in messages)
    assert ids == list(range(3, 23))  # 1 and 2 are the user's sticker and photo
    assert len(fake.messages(USER)) == 20


# --------------------------------------------------------------------------- wire level, no PTB


def _post(url: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_json_bodies_sync_waiting_and_the_get_updates_protocol(fake: FakeBotAPI) -> None:
    api = f"{fake.base_url}{fake.token}"
    results: list[SentRecord] = []
    waiter = threading.Thread(target=lambda: results.append(fake.wait_for_sync("sendMessage", chat_id=5)))
    waiter.start()
    status, body = _post(
        f"{api}/sendMessage", {"chat_id": 5, "text": "<tg-spoiler>秘</tg-spoiler>", "parse_mode": "HTML"}
    )
    waiter.join(5)
    assert status == 200 and body["result"]["entities"] == [{"offset": 0, "length": 1, "type": "spoiler"}]
    assert results[0].plain_text == "秘"

    first = fake.send_text(5, "one")["update_id"]
    fake.send_text(5, "two")
    status, body = _post(f"{api}/getUpdates", {"timeout": 0, "limit": 1})
    assert [u["update_id"] for u in body["result"]] == [first]
    status, body = _post(f"{api}/getUpdates", {"offset": first + 1, "timeout": 0})
    assert [u["message"]["text"] for u in body["result"]] == ["two"]
    assert fake.pending_updates == 1  # "two" is only confirmed by a later offset

    # A second poll terminates the waiting one with 409, as on Telegram.
    answers: list[tuple[int, dict[str, Any]]] = []
    poller = threading.Thread(
        target=lambda: answers.append(_post(f"{api}/getUpdates", {"offset": -1, "timeout": 5}))
    )
    _post(f"{api}/getUpdates", {"offset": first + 2, "timeout": 0})  # confirm everything
    poller.start()
    deadline = time.monotonic() + 5
    while fake.polls_waiting == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    status, body = _post(f"{api}/getUpdates", {"timeout": 0})
    poller.join(5)
    assert status == 200 and body["result"] == []
    assert answers[0][0] == 409 and "terminated by other getUpdates" in answers[0][1]["description"]

    status, body = _post(f"{fake.url}/botWRONG/getMe", {})
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


def test_html_parser_follows_telegram() -> None:
    text, entities = parse_html(
        '<b>bold <i>both</i></b> <a href="https://t.me/x?a=1&amp;b=2">link</a> &lt;&#36;&#x4E2D;&gt; '
        '<pre><code class="language-python">x = 1</code></pre> <blockquote expandable>q</blockquote> '
        '<span class="tg-spoiler">s</span> <tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> 🏟<u>u</u>'
    )
    assert text == "bold both link <$中> x = 1 q s 👍 🏟u"
    assert {e["type"] for e in entities} == {
        "bold",
        "italic",
        "text_link",
        "pre",
        "expandable_blockquote",
        "spoiler",
        "custom_emoji",
        "underline",
    }
    link = next(e for e in entities if e["type"] == "text_link")
    assert link["url"] == "https://t.me/x?a=1&b=2"
    assert next(e for e in entities if e["type"] == "pre")["language"] == "python"
    underline = next(e for e in entities if e["type"] == "underline")
    assert underline["offset"] == utf16_len(text) - 1  # the stadium emoji counts twice

    def error(html: str, strict: bool = True) -> str:
        try:
            parse_html(html, strict=strict)
        except Exception as exc:
            return str(exc).removeprefix("Bad Request: can't parse entities: ")
        raise AssertionError(f"{html!r} was accepted")

    # Messages and UTF-8 byte offsets as in tdlib's own tests.
    assert error("🏟 🏟&lt;<abacaba") == "Unclosed start tag at byte offset 13"
    assert error("🏟 🏟&lt;<abac aba>") == 'Unsupported start tag "abac" at byte offset 13'
    assert error("🏟 🏟&lt;<i   =aba>") == 'Empty attribute name in the tag "i" at byte offset 13'
    assert error("🏟 🏟&lt;<i    aba>") == (
        'Expected equal sign in declaration of an attribute of the tag "i" at byte offset 13'
    )
    assert error("🏟 🏟&lt;<i    aba  =  190azAz-.,") == "Unexpected end of name token at byte offset 27"
    assert error("🏟 🏟&lt;</") == "Unexpected end tag at byte offset 13"
    assert error("🏟 🏟&lt;<i>a</i   ") == "Unclosed end tag at byte offset 17"
    assert (
        error("🏟 🏟&lt;<i>a</em   >") == 'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"'
    )
    assert error("<span>x</span>") == 'Tag "span" must have class "tg-spoiler" at byte offset 0'
    assert error("a < b") == 'Unsupported start tag "" at byte offset 2'
    assert error("&nbsp;").startswith('Unsupported HTML entity "&nbsp;"')
    assert parse_html("&nbsp; AT&T &lt", strict=False) == ("&nbsp; AT&T <", [])
    assert parse_html("<i>a</> <b aba = caba>b</b>") == (
        "a b",
        [
            {"offset": 0, "length": 1, "type": "italic"},
            {"offset": 2, "length": 1, "type": "bold"},
        ],
    )
