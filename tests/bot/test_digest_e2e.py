"""End-to-end tests of digests: /digest, subscriptions and their buttons, the scheduled digest job driven
with an injected clock, large broadcasts through the fake Bot API (429s, blocked chats), a broadcast killed
midway and finished after a restart, and /trend charts.

The bot, the fake Telegram and the per-test database come from ``test_telegram_e2e``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import re
import sqlite3
import struct
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import matplotlib.image
import pytest
from telegram import InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot

from bot import messages as msg
from bot.broadcast import Broadcaster
from bot.config import Settings
from bot.service import NewsService
from corpus import ingest_file
from corpus.state import Subscriptions
from tests.bot import test_telegram_e2e as e2e
from tests.bot.test_telegram_e2e import (
    ADMIN,
    GROUP,
    MEMBER,
    OTHER,
    PORT_ARTICLE,
    SAMPLE_HEADLINES,
    USER,
    WAIT,
    Harness,
    assert_html_message,
    buttons_of,
    jsonl,
    running_bot,
)
from tests.fakebot import FakeBotAPI

# The fixtures of test_telegram_e2e, found here by these names.
_tokenizers = e2e._tokenizers
_shared_tokenizer = e2e._shared_tokenizer
template_db = e2e.template_db
seeded_db = e2e.seeded_db
fake = e2e.fake
settings = e2e.settings
tg = e2e.tg

TEA_ARTICLE = {
    "id": "ya-tea-1",
    "title": "雅安藏茶制作技艺入选非遗保护名录",
    "date": "2026-11-21",
    "source": "雅安日报",
    "text": "雅安藏茶制作技艺入选省级非遗保护名录，当地茶农收入增加两成。\n今年藏茶产量达到1.5万吨。",
}


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


# --------------------------------------------------------------------------- /digest


async def test_digest_of_today_yesterday_and_a_date_it_cannot_read(tg: Harness) -> None:
    moment = sample_ingested_at(tg.settings)
    tg.runtime.now = lambda: moment
    today = moment.astimezone(tg.settings.tz).date()

    since = tg.fake.mark()
    tg.fake.send_text(USER, "/digest")
    await tg.next_message(USER, since)
    await tg.settle()
    parts = tg.chat_messages(USER, since)
    text = "\n".join(assert_html_message(p) for p in parts)
    assert text.startswith(msg.DIGEST_TITLE.format(day=today.isoformat()))
    for headline in SAMPLE_HEADLINES:
        assert headline in text
    opens = sorted(data for p in parts for data in buttons_of(p).values())
    assert opens == [f"a:{i}:0" for i in range(1, 7)]

    since = tg.fake.mark()
    await tg.press(parts[0], "a:5:0")
    assert "大安山里的“清淤战”" in (await tg.next_message(USER, since)).plain_text.split("\n")[:3]  # type: ignore[union-attr]

    same = await tg.say(USER, f"/digest {today.isoformat()}")
    assert same.plain_text == parts[0].plain_text
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert (await tg.say(USER, "/digest 昨天")).plain_text == msg.DIGEST_EMPTY.format(day=yesterday)
    assert (await tg.say(USER, "/digest 2023-02-30")).plain_text == msg.DIGEST_BAD_DAY.format(
        text="2023-02-30"
    )
    odd = await tg.say(USER, "/digest <b>明天</b>")
    assert odd.plain_text == msg.DIGEST_BAD_DAY.format(text="<b>明天</b>")


# --------------------------------------------------------------------------- subscriptions


async def test_subscribe_confirms_and_a_sixth_subscription_is_refused(tg: Harness) -> None:
    confirmations = [
        (await tg.say(USER, command)).plain_text
        for command in (
            "/subscribe 08:00 工会",
            "/subscribe",
            "/subscribe 7:30 清淤 工会 清淤",
            "/subscribe 20：15 港口",  # a full-width colon, as Chinese keyboards type it
            "/subscribe 12:00",
        )
    ]
    assert confirmations == [
        msg.SUBSCRIBED.format(id=1, at="08:00", what=msg.SUBSCRIBED_KEYWORDS.format(keywords="工会")),
        msg.SUBSCRIBED.format(id=2, at="08:00", what=msg.SUBSCRIBED_ALL),
        msg.SUBSCRIBED.format(id=3, at="07:30", what=msg.SUBSCRIBED_KEYWORDS.format(keywords="清淤 工会")),
        msg.SUBSCRIBED.format(id=4, at="20:15", what=msg.SUBSCRIBED_KEYWORDS.format(keywords="港口")),
        msg.SUBSCRIBED.format(id=5, at="12:00", what=msg.SUBSCRIBED_ALL),
    ]
    assert (await tg.say(USER, "/subscribe 25:00 工会")).plain_text == msg.SUBSCRIBE_BAD_TIME.format(
        text="25:00"
    )
    assert (await tg.say(USER, "/subscribe 21:00")).plain_text == msg.SUBSCRIBE_LIMIT.format(limit=5)
    assert (await tg.say(OTHER, "/subscribe 21:00")).plain_text == msg.SUBSCRIBED.format(
        id=6, at="21:00", what=msg.SUBSCRIBED_ALL
    )  # the limit is per chat

    assert len(active_subscriptions(tg.settings)) == 6
    queue = tg.app.job_queue
    assert queue is not None
    for at in ("07:30", "08:00", "12:00", "20:15", "21:00"):
        assert len(queue.get_jobs_by_name(f"digest-{at}")) == 1


async def test_subscriptions_list_and_its_delete_and_time_buttons(tg: Harness) -> None:
    await tg.say(USER, "/subscribe 08:00 工会")
    await tg.say(USER, "/subscribe 12:00")
    listing = await tg.say(USER, "/subscriptions")
    assert assert_html_message(listing).split("\n") == [
        "订阅",
        msg.SUBSCRIPTION_LINE.format(id=1, at="08:00", what=msg.SUBSCRIBED_KEYWORDS.format(keywords="工会")),
        msg.SUBSCRIPTION_LINE.format(id=2, at="12:00", what=msg.SUBSCRIBED_ALL),
    ]
    assert buttons_of(listing) == {
        "🗑 #1": "s:d:1",
        "#1 改为 07:00": "s:t:1:0700",
        "#1 改为 12:00": "s:t:1:1200",
        "#1 改为 20:00": "s:t:1:2000",
        "🗑 #2": "s:d:2",
        "#2 改为 07:00": "s:t:2:0700",
        "#2 改为 20:00": "s:t:2:2000",
    }

    since = tg.fake.mark()
    moved = await tg.press(listing, "s:t:1:2000")
    assert moved.text == msg.SUBSCRIPTION_MOVED.format(id=1, at="20:00")
    edit = await tg.fake.wait_for("editMessageText", since=since, timeout=WAIT)
    assert edit.params["message_id"] == listing.message_id
    assert msg.SUBSCRIPTION_LINE.format(
        id=1, at="20:00", what=msg.SUBSCRIBED_KEYWORDS.format(keywords="工会")
    ) in (edit.plain_text or "")
    assert len(tg.app.job_queue.get_jobs_by_name("digest-20:00")) == 1  # type: ignore[union-attr]

    current = tg.fake.message(USER, listing.message_id or 0)
    assert current is not None
    since = tg.fake.mark()
    deleted = await tg.press(current, "s:d:2")
    assert deleted.text == msg.UNSUBSCRIBED.format(ids="#2")
    edit = await tg.fake.wait_for("editMessageText", since=since, timeout=WAIT)
    assert "#2" not in (edit.plain_text or "") and "s:d:2" not in buttons_of(edit).values()
    assert active_subscriptions(tg.settings) == [(1, USER, "20:00", "工会")]

    # Stale, forged and other chats' subscription buttons: the expired alert, and nothing changes.
    await tg.say(OTHER, "/subscribe 07:00")
    theirs = await tg.say(OTHER, "/subscriptions")
    presses = [
        (current, "s:d:2"),  # deleted already
        (current, "s:t:1:9999"),
        (current, "s:t:1:2460"),
        (current, "s:d:²"),
        (current, "s:d:" + "9" * 40),
        (current, "s:x:1"),
        (current, "s:t:1"),
        (theirs, "s:d:1"),  # USER's subscription, pressed in OTHER's chat
        (theirs, "s:t:1:0700"),
    ]
    since = tg.fake.mark()
    for message, data in presses:
        alert = await tg.press(message, data, check=False)
        assert (alert.text, alert.params.get("show_alert")) == (msg.SESSION_EXPIRED, True), data
    await tg.settle()
    assert tg.chat_messages(USER, since) == [] and tg.chat_messages(OTHER, since) == []
    assert active_subscriptions(tg.settings) == [(1, USER, "20:00", "工会"), (3, OTHER, "07:00", "")]


async def test_unsubscribe_by_number_and_all(tg: Harness) -> None:
    for command in ("/subscribe 08:00", "/subscribe 12:00 工会", "/subscribe 20:00"):
        await tg.say(USER, command)
    assert (await tg.say(USER, "/unsubscribe #2")).plain_text == msg.UNSUBSCRIBED.format(ids="#2")
    assert (await tg.say(USER, "/unsubscribe 99")).plain_text == msg.UNSUBSCRIBE_NONE
    assert (await tg.say(USER, "/unsubscribe")).plain_text == msg.UNSUBSCRIBED.format(ids="#1、#3")
    assert (await tg.say(USER, "/unsubscribe")).plain_text == msg.UNSUBSCRIBE_NONE
    none = await tg.say(USER, "/subscriptions")
    assert none.plain_text == msg.SUBSCRIPTIONS_NONE and none.reply_markup is None
    assert active_subscriptions(tg.settings) == []


async def test_in_groups_only_administrators_manage_subscriptions(tg: Harness) -> None:
    group_admin, owner = 9, 10
    tg.fake.set_chat_member(GROUP, group_admin, "administrator")
    tg.fake.set_chat_member(GROUP, owner, "creator")

    refused = await tg.say(GROUP, "/subscribe 08:00", user_id=MEMBER)
    assert refused.plain_text == msg.SUBSCRIBE_GROUP_ADMINS
    assert (
        await tg.say(GROUP, "/subscribe 08:00 工会", user_id=group_admin)
    ).plain_text == msg.SUBSCRIBED.format(
        id=1, at="08:00", what=msg.SUBSCRIBED_KEYWORDS.format(keywords="工会")
    )
    by_owner = await tg.say(GROUP, f"/subscribe@{tg.fake.username} 12:00", user_id=owner)
    assert by_owner.plain_text == msg.SUBSCRIBED.format(id=2, at="12:00", what=msg.SUBSCRIBED_ALL)
    by_bot_admin = await tg.say(GROUP, "/subscribe 20:00", user_id=ADMIN)  # the bot's own admin
    assert by_bot_admin.plain_text == msg.SUBSCRIBED.format(id=3, at="20:00", what=msg.SUBSCRIBED_ALL)
    assert (await tg.say(GROUP, "/unsubscribe", user_id=MEMBER)).plain_text == msg.SUBSCRIBE_GROUP_ADMINS

    # Anyone may look at the list, but its buttons are for administrators too.
    listing = await tg.say(GROUP, "/subscriptions", user_id=MEMBER)
    since = tg.fake.mark()
    for data in ("s:d:1", "s:t:2:0700"):
        alert = await tg.press(listing, data, user_id=MEMBER)
        assert alert.text == msg.SUBSCRIBE_GROUP_ADMINS and alert.params.get("show_alert") is True
    await tg.settle()
    assert [r for r in tg.fake.sent[since:] if r.method == "editMessageText"] == []
    assert [s[2] for s in active_subscriptions(tg.settings)] == ["08:00", "12:00", "20:00"]

    deleted = await tg.press(listing, "s:d:1", user_id=group_admin)
    assert deleted.text == msg.UNSUBSCRIBED.format(ids="#1")
    assert (await tg.say(GROUP, "/unsubscribe 2", user_id=owner)).plain_text == msg.UNSUBSCRIBED.format(
        ids="#2"
    )
    assert [s[0] for s in active_subscriptions(tg.settings)] == [3]


# --------------------------------------------------------------------------- the scheduled digest job


async def test_scheduled_digests_arrive_once_and_new_articles_go_into_the_next_days_digest(
    tg: Harness,
) -> None:
    assert (await tg.say(USER, "/subscribe 08:00")).plain_text.startswith("已订阅 #1")  # type: ignore[union-attr]
    assert (await tg.say(OTHER, "/subscribe 08:00 港口")).plain_text.startswith("已订阅 #2")  # type: ignore[union-attr]
    (job,) = tg.app.job_queue.get_jobs_by_name("digest-08:00")  # type: ignore[union-attr]
    day1 = dt.datetime.now(tg.settings.tz).date()
    clock = [at_eight(tg.settings, day1)]
    tg.runtime.now = lambda: clock[0]

    assert (await tg.upload("port.jsonl", PORT_ARTICLE)).startswith("已导入")
    since = tg.fake.mark()
    await job.run(tg.app)
    mine, theirs = tg.chat_messages(USER, since), tg.chat_messages(OTHER, since)
    assert len(mine) == 1 and len(theirs) == 1
    text = assert_html_message(mine[0])
    assert text.startswith(msg.DIGEST_SCHEDULED_TITLE.format(day=day1.isoformat(), id=1, keywords=""))
    assert PORT_ARTICLE["title"] in text
    # The sample page came in an hour before the subscription: the first digest brings it too, as a
    # reader who subscribes at 09:00 after the 06:00 paper expects.
    assert all(h in text for h in SAMPLE_HEADLINES)
    their_text = assert_html_message(theirs[0])
    assert their_text.startswith(
        msg.DIGEST_SCHEDULED_TITLE.format(day=day1.isoformat(), id=2, keywords=" · 港口")
    )
    assert PORT_ARTICLE["title"] in their_text
    buttons = buttons_of(mine[0])
    assert len(buttons) == 7  # one for each article: the six of the sample page and the port's
    port_id = re.search(re.escape(PORT_ARTICLE["title"]) + r" #(\d+)", text).group(1)  # type: ignore[union-attr]
    open_article = buttons[f"#{port_id}"]
    since_open = tg.fake.mark()
    await tg.press(mine[0], open_article)
    assert PORT_ARTICLE["title"] in (await tg.next_message(USER, since_open)).plain_text  # type: ignore[operator]

    # The same day's run again (a restart, a second trigger): nothing more.
    since = tg.fake.mark()
    await job.run(tg.app)
    assert tg.chat_messages(USER, since) == [] and tg.chat_messages(OTHER, since) == []

    # The next day: only what is new since, and only to whom it matters.
    assert (await tg.upload("tea.jsonl", TEA_ARTICLE)).startswith("已导入")
    clock[0] = at_eight(tg.settings, day1 + dt.timedelta(days=1))
    since = tg.fake.mark()
    await job.run(tg.app)
    (second,) = tg.chat_messages(USER, since)
    text = assert_html_message(second)
    assert text.startswith(
        msg.DIGEST_SCHEDULED_TITLE.format(day=(day1 + dt.timedelta(days=1)).isoformat(), id=1, keywords="")
    )
    assert TEA_ARTICLE["title"] in text and PORT_ARTICLE["title"] not in text
    assert tg.chat_messages(OTHER, since) == []  # nothing about 港口 today

    # A day with nothing new sends nothing.
    clock[0] = at_eight(tg.settings, day1 + dt.timedelta(days=2))
    since = tg.fake.mark()
    await job.run(tg.app)
    assert tg.chat_messages(USER, since) == [] and tg.chat_messages(OTHER, since) == []


async def test_digest_jobs_that_overlap_still_send_each_digest_once(tg: Harness) -> None:
    """A big 08:00 broadcast can still be running when the 08:01 one starts."""
    for n in range(6):
        await tg.say(USER + 100 + n, "/subscribe 08:00")
    await tg.say(OTHER, "/subscribe 08:01")
    await tg.upload("port.jsonl", PORT_ARTICLE)
    day = dt.datetime.now(tg.settings.tz).date()
    tg.runtime.now = lambda: at_eight(tg.settings, day)
    queue = tg.app.job_queue
    assert queue is not None
    (eight,) = queue.get_jobs_by_name("digest-08:00")
    (eight_one,) = queue.get_jobs_by_name("digest-08:01")

    since = tg.fake.mark()
    await asyncio.gather(eight.run(tg.app), eight_one.run(tg.app))
    per_chat = Counter(r.chat_id for r in tg.fake.sent[since:] if r.method == "sendMessage")
    assert per_chat == {**{USER + 100 + n: 1 for n in range(6)}, OTHER: 1}


async def test_subscriptions_are_scheduled_again_after_a_restart(
    fake: FakeBotAPI, settings: Settings
) -> None:
    async with running_bot(fake, settings) as first_run:
        await first_run.say(USER, "/subscribe 07:30")
        await first_run.upload("port.jsonl", PORT_ARTICLE)
    async with running_bot(fake, settings) as second_run:
        jobs = second_run.app.job_queue.get_jobs_by_name("digest-07:30")  # type: ignore[union-attr]
        assert len(jobs) == 1
        day = dt.datetime.now(settings.tz).date()
        second_run.runtime.now = lambda: dt.datetime.combine(day, dt.time(7, 30), tzinfo=settings.tz)
        since = fake.mark()
        await jobs[0].run(second_run.app)
        (digest,) = second_run.chat_messages(USER, since)
        assert PORT_ARTICLE["title"] in (digest.plain_text or "")


# --------------------------------------------------------------------------- broadcasts through the Broadcaster


class Crash(BaseException):
    """The process dies where this is raised: nothing after it runs, no except/finally of the bot's."""


Send = Callable[[int, str, InlineKeyboardMarkup | None], Awaitable[None]]


@contextlib.asynccontextmanager
async def telegram_send(fake: FakeBotAPI) -> AsyncIterator[Send]:
    """A send function over a real PTB bot pointed at the fake (the bot's defaults, no flood limiter:
    the Broadcaster paces itself)."""
    defaults = Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
    async with ExtBot(
        fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url, defaults=defaults
    ) as bot:

        async def send(chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
            await bot.send_message(chat_id, text, reply_markup=markup)

        yield send


def subscribe_and_publish(service: NewsService, chats: list[int], *articles: dict[str, Any]) -> None:
    """``chats`` subscribe to everything at 08:00; then ``articles`` are ingested (and indexed)."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    subscriptions = Subscriptions(service.store)
    for chat in chats:
        subscriptions.add(chat, "08:00", "", now)
    path = service.settings.db.parent / "news.jsonl"
    path.write_bytes(jsonl(*articles))
    assert ingest_file(service.store, path, now=now, key="news.jsonl", name="news.jsonl").status == "added"
    service.refresh()


async def test_broadcast_to_a_thousand_subscribers_through_429s_and_blocked_chats(
    fake: FakeBotAPI, settings: Settings
) -> None:
    chats = list(range(700_001, 701_001))
    blocked = set(chats[5::150])  # seven users blocked the bot
    for chat in blocked:
        fake.block(chat)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the Broadcaster's pauses, recorded instead of waited
        waits.append(seconds)
        await asyncio.sleep(0)

    service = NewsService.open(settings)
    try:
        subscribe_and_publish(service, chats, PORT_ARTICLE)
        moment = at_eight(settings, dt.datetime.now(settings.tz).date())
        async with telegram_send(fake) as send:
            calls = 0

            async def flooded(chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
                nonlocal calls
                calls += 1
                if calls in (100, 400, 700):  # Telegram says "too many requests, retry after 1 s"
                    fake.fail("sendMessage", 429, retry_after=1)
                await send(chat_id, text, markup)

            broadcaster = Broadcaster(service, flooded, per_second=1000, sleep=sleep, now=lambda: moment)
            report = await broadcaster.run("08:00")
            again = await broadcaster.run("08:00")
        ended = {
            s.chat_id: s.active
            for s in map(Subscriptions(service.store).get, range(1, 1001))
            if s is not None
        }
    finally:
        service.close()

    per_chat = Counter(r.chat_id for r in fake.messages())
    assert per_chat == {chat: 1 for chat in chats if chat not in blocked}  # each exactly once
    assert (report.sent, report.blocked, report.failed, report.empty) == (993, 7, 0, 0)
    assert [c.status for c in fake.calls if c.method == "sendMessage" and c.status != 200].count(429) == 3
    assert waits.count(1.0) == 3 and report.waited_for_429 == 3.0  # it waited as told, each time
    assert {chat for chat, active in ended.items() if not active} == blocked
    assert (again.sent, again.messages) == (0, 0) and len(fake.messages()) == 993
    text = fake.messages()[0].plain_text or ""
    assert text.startswith(
        msg.DIGEST_SCHEDULED_TITLE.format(day=moment.date().isoformat(), id=1, keywords="")
    )
    assert PORT_ARTICLE["title"] in text


async def test_a_broadcast_killed_midway_is_finished_by_resume_after_a_restart(
    fake: FakeBotAPI, settings: Settings
) -> None:
    chats = list(range(800_001, 800_041))
    moment = at_eight(settings, dt.datetime.now(settings.tz).date())

    async def no_pause(seconds: float) -> None:
        await asyncio.sleep(0)

    first = NewsService.open(settings)
    try:
        subscribe_and_publish(first, chats, PORT_ARTICLE)
        async with telegram_send(fake) as send:
            sent = 0

            async def dies_after_15(chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
                nonlocal sent
                if sent == 15:
                    raise Crash
                await send(chat_id, text, markup)
                sent += 1

            with pytest.raises(Crash):
                await Broadcaster(
                    first, dies_after_15, per_second=1000, sleep=no_pause, now=lambda: moment
                ).run("08:00")
    finally:
        first.close()
    assert len(fake.messages()) == 15

    second = NewsService.open(settings)  # the process starts again: a new connection, a new Broadcaster
    try:
        async with telegram_send(fake) as send:
            resumed = await Broadcaster(
                second, send, per_second=1000, sleep=no_pause, now=lambda: moment
            ).resume()
            again = await Broadcaster(second, send, per_second=1000, sleep=no_pause, now=lambda: moment).run(
                "08:00"
            )
    finally:
        second.close()

    assert (resumed.sent, resumed.failed) == (25, 0) and again.messages == 0
    assert Counter(r.chat_id for r in fake.messages()) == {chat: 1 for chat in chats}


async def test_the_bot_finishes_a_broadcast_cut_short_when_it_starts_again(
    fake: FakeBotAPI, settings: Settings
) -> None:
    chats = list(range(900_001, 900_021))
    moment = at_eight(settings, dt.datetime.now(settings.tz).date())
    service = NewsService.open(settings)
    try:
        subscribe_and_publish(service, chats, PORT_ARTICLE)
        async with telegram_send(fake) as send:
            sent = 0

            async def dies_after_8(chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
                nonlocal sent
                if sent == 8:
                    raise Crash
                await send(chat_id, text, markup)
                sent += 1

            with pytest.raises(Crash):
                await Broadcaster(service, dies_after_8, per_second=1000, now=lambda: moment).run("08:00")
    finally:
        service.close()

    async with running_bot(fake, settings) as tg:
        tg.runtime.now = lambda: moment
        await fake.wait_for(
            lambda r: r.method == "sendMessage" and r.chat_id in chats, count=20, timeout=WAIT
        )
    # The bot has stopped (its jobs finished): each subscriber got the digest exactly once.
    assert Counter(r.chat_id for r in fake.messages()) == {chat: 1 for chat in chats}


# --------------------------------------------------------------------------- /trend


async def test_trend_sends_a_png_chart_with_a_caption(tg: Harness) -> None:
    moment = sample_ingested_at(tg.settings)
    tg.runtime.now = lambda: moment
    # The chart ends today, or on the newest day with articles (the sample's day, as /latest shows it).
    newest = dt.date.fromisoformat(tg.service.latest(1)[0].day)
    last = min(moment.astimezone(tg.settings.tz).date(), newest)

    since = tg.fake.mark()
    tg.fake.send_text(USER, "/trend 工会")
    photo = await tg.next_message(USER, since, method="sendPhoto")
    data = photo.files["photo"].data
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert pixels.shape[:2] == (height, width) and width > height > 100
    first = (last - dt.timedelta(days=29)).isoformat()
    caption = photo.plain_text or ""
    total = int(caption.split("共 ")[1].split(" 篇")[0])
    assert caption == msg.TREND_CAPTION.format(
        keyword="工会", days=30, first=first, last=last.isoformat(), total=total
    )
    assert 1 <= total <= len(SAMPLE_HEADLINES)

    since = tg.fake.mark()
    tg.fake.send_text(USER, "/trend 工会 90")
    ninety = await tg.next_message(USER, since, method="sendPhoto")
    assert (ninety.plain_text or "").startswith("「工会」近 90 天")

    assert (await tg.say(USER, "/trend")).plain_text == msg.TREND_USAGE
    nothing = await tg.say(USER, "/trend 火星移民")
    assert nothing.plain_text == msg.TREND_NONE.format(days=30, keyword="火星移民")
