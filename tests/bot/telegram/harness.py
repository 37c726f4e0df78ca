"""The running bot the Telegram tests talk to, and the moves a user makes.

``running_bot`` starts the real PTB ``Application`` from ``build_application`` the way ``run_polling`` or
``run_webhook`` starts it, against the fake Bot API (``fakebot``) over real HTTP, with the service's two
seams filled: one shared tokenizer (jieba's dictionaries take half a second to load) and a ``FakeClock``
that tests set to make the bot's "now" any moment they need (a digest at eight, a day later).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot import messages as msg
from bot.config import Settings, load_settings
from bot.service import NewsService
from bot.telegram import BotRuntime, build_application
from corpus import Store, ingest_file
from fakebot import FakeBotAPI, SentRecord, parse_html, utf16_len
from retrieval.tokenize import Tokenizer, default_userdict

ADMIN = 7  # the bot's administrator (settings.admins); private chat id == user id
USER = 42
OTHER = 43
GROUP = -1001234567890  # a supergroup
MEMBER = 8  # an ordinary member of GROUP
WAIT = 5.0  # seconds to wait for something the bot must do; only reached when a test fails

TWO_PAGE_QUESTION = "天津市总工会和哪个部门建立了协同贯通工作机制?"  # s01: six passages, two pages
PORT_ARTICLE = {  # an article tests upload or ingest; newer than the sample page
    "id": "qd-port-1",
    "title": "青岛港开通至东南亚的新集装箱航线",
    "date": "2026-11-20",
    "source": "青岛日报",
    "text": (
        "青岛港新开通一条至东南亚的集装箱航线，每周两班，首航船舶装载集装箱3200标箱。\n"
        "航线挂靠胡志明、曼谷和新加坡三个港口，全程约需12天。"
    ),
}


@functools.cache
def shared_tokenizer() -> Tokenizer:
    """One tokenizer (stateless once loaded) for every service the tests open."""
    return Tokenizer(default_userdict())


@dataclass
class FakeClock:
    """The bot's wall clock: real time until a test sets it."""

    fixed: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.fixed or dt.datetime.now(dt.UTC)

    def set(self, moment: dt.datetime) -> None:
        self.fixed = moment


def open_service(settings: Settings, clock: FakeClock | None = None) -> NewsService:
    return NewsService.open(settings, tokenizer=shared_tokenizer(), clock=clock or FakeClock())


def make_settings(db: Path, fake: FakeBotAPI, **overrides: Any) -> Settings:
    return load_settings(
        env={},
        db=str(db),
        token=fake.token,
        bot_api_url=fake.base_url,
        bot_file_url=fake.base_file_url,
        admins=str(ADMIN),
        **overrides,
    )


@dataclass
class Harness:
    """A running bot and the fake Telegram it talks to, with the moves a user makes."""

    fake: FakeBotAPI
    app: Application[Any, Any, Any, Any, Any, Any]
    settings: Settings
    service: NewsService
    clock: FakeClock = field(default_factory=FakeClock)
    expect_errors: bool = False  # set by tests that make the bot fail on purpose

    @property
    def runtime(self) -> BotRuntime:
        runtime: BotRuntime = self.app.bot_data["runtime"]
        return runtime

    async def say(self, chat_id: int, text: str, **kwargs: Any) -> SentRecord:
        """A user writes ``text``; returns the bot's next message in that chat."""
        since = self.fake.mark()
        self.fake.send_text(chat_id, text, **kwargs)
        return await self.next_message(chat_id, since)

    async def next_message(self, chat_id: int, since: int, method: str = "sendMessage") -> SentRecord:
        return await self.fake.wait_for(method, chat_id=chat_id, since=since, timeout=WAIT)

    async def press(
        self,
        record: SentRecord | dict[str, Any],
        data: str,
        *,
        user_id: int | None = None,
        check: bool = True,
    ) -> SentRecord:
        """A user presses a button; returns the bot's answerCallbackQuery for that press."""
        since = self.fake.mark()
        query_id = self.fake.press_button(record, data, user_id=user_id, check=check)["callback_query"]["id"]
        return await self.fake.wait_for(
            lambda r: r.method == "answerCallbackQuery" and r.params.get("callback_query_id") == query_id,
            since=since,
            timeout=WAIT,
        )

    async def upload(self, name: str, *articles: dict[str, Any]) -> str:
        """The admin sends a JSONL file of articles; returns the bot's last reply (after "received")."""
        since = self.fake.mark()
        self.fake.send_document(ADMIN, ADMIN, name, jsonl(*articles), "application/jsonl")
        records = await self.fake.wait_for("sendMessage", chat_id=ADMIN, since=since, count=2, timeout=WAIT)
        assert records[0].plain_text == msg.UPLOAD_RECEIVED
        return records[1].plain_text or ""

    async def settle(self) -> None:
        """Wait until the bot has fetched every update sent so far and finished handling them."""
        if self.app.updater is not None and self.app.updater.running and self.fake.webhook_url == "":
            await self.fake.wait_idle(timeout=WAIT)
        await asyncio.wait_for(self.app.update_queue.join(), WAIT)

    def chat_messages(self, chat_id: int, since: int = 0) -> list[SentRecord]:
        return [
            r
            for r in self.fake.sent[since:]
            if r.method in ("sendMessage", "sendPhoto") and r.chat_id == chat_id
        ]

    def db(self) -> contextlib.closing[sqlite3.Connection]:
        return contextlib.closing(sqlite3.connect(self.settings.db))


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeBotAPI,
    settings: Settings,
    *,
    webhook: dict[str, Any] | None = None,
    clock: FakeClock | None = None,
) -> AsyncIterator[Harness]:
    """``build_application`` started the way ``run_polling``/``run_webhook`` start it: initialize,
    post_init, the updater, then the application; stopped in reverse order."""
    clock = clock or FakeClock()
    service = open_service(settings, clock)
    try:
        app = build_application(settings, service)
        async with app:
            assert app.post_init is not None and app.updater is not None
            await app.post_init(app)
            harness = Harness(fake, app, settings, service, clock)
            try:
                if webhook is None:
                    await app.updater.start_polling(poll_interval=0, timeout=1)
                else:
                    await app.updater.start_webhook(**webhook)
                await app.start()
                yield harness
            finally:
                if app.updater.running:
                    await app.updater.stop()
                if app.running:
                    await app.stop()
            if not harness.expect_errors:
                assert_no_trouble(fake)
    finally:
        service.close()


def assert_no_trouble(fake: FakeBotAPI) -> None:
    """Nothing the bot sent was rejected (bad HTML, too long, ...) and no apology went out."""
    rejected = [c for c in fake.calls if c.status == 400 and "message is not modified" not in (c.error or "")]
    assert rejected == []
    assert [r for r in fake.messages() if r.plain_text == msg.APOLOGY] == []


def assert_html_message(record: SentRecord) -> str:
    """The record is Telegram HTML that parses and fits one message; returns what the reader sees."""
    assert record.ok and record.parse_mode == "HTML"
    plain, _ = parse_html(record.text or "")
    assert 0 < utf16_len(plain) <= 4096
    return plain


def ingest_articles(settings: Settings, name: str, *articles: dict[str, Any]) -> None:
    """Add articles to the database before the bot starts (as ``newsbot ingest`` would)."""
    path = settings.db.parent / name
    path.write_bytes(jsonl(*articles))
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with Store(settings.db, tz=settings.tz) as store:
        assert ingest_file(store, path, now=now, key=name, name=name).status == "added"


def jsonl(*articles: dict[str, Any]) -> bytes:
    return "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles).encode()


def buttons_of(record: SentRecord | dict[str, Any]) -> dict[str, str]:
    """Button text -> callback data of a record (as sent) or a stored message (as it is now)."""
    markup = record.reply_markup if isinstance(record, SentRecord) else record.get("reply_markup")
    rows = (markup or {}).get("inline_keyboard") or []
    return {b["text"]: b.get("callback_data", "") for row in rows for b in row}


def sample_ingested_at(settings: Settings) -> dt.datetime:
    """When the sample page went in: "today" for /digest and /trend is that moment's local day."""
    with contextlib.closing(sqlite3.connect(settings.db)) as db:
        (value,) = db.execute("SELECT min(ingested_at) FROM articles").fetchone()
    return dt.datetime.fromisoformat(value)


def at_eight(settings: Settings, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(8, 0), tzinfo=settings.tz)


def active_subscriptions(settings: Settings) -> list[tuple[int, int, str, str]]:
    with contextlib.closing(sqlite3.connect(settings.db)) as db:
        rows = db.execute("SELECT id, chat_id, at, keywords FROM subscriptions WHERE active = 1 ORDER BY id")
        return [tuple(r) for r in rows]
