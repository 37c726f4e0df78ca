"""Digests over Telegram (``bot/telegram/digests.py``, ``broadcast.py``): /digest, the scheduled digest job
driven by the harness' clock, large broadcasts (429s, blocked chats), a broadcast killed midway and
finished after a restart, and /trend charts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import re
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
from bot.config import Settings
from bot.service import NewsService
from bot.telegram.broadcast import Broadcaster
from corpus import ingest_file
from fakebot import FakeBotAPI
from tests.conftest import SAMPLE_HEADLINES

from .harness import (
    OTHER,
    PORT_ARTICLE,
    USER,
    WAIT,
    FakeClock,
    Harness,
    assert_html_message,
    at_eight,
    buttons_of,
    jsonl,
    open_service,
    running_bot,
    sample_ingested_at,
)

TEA_ARTICLE = {
    "id": "ya-tea-1",
    "title": "雅安藏茶制作技艺入选非遗保护名录",
    "date": "2026-11-21",
    "source": "雅安日报",
    "text": "雅安藏茶制作技艺入选省级非遗保护名录，当地茶农收入增加两成。\n今年藏茶产量达到1.5万吨。",
}


async def test_digest_of_today_yesterday_and_a_date_it_cannot_read(tg: Harness) -> None:
    moment = sample_ingested_at(tg.settings)
    tg.clock.set(moment)
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


async def test_scheduled_digests_arrive_once_and_new_articles_go_into_the_next_days_digest(
    tg: Harness,
) -> None:
    assert (await tg.say(USER, "/subscribe 08:00")).plain_text.startswith("已订阅 #1")  # type: ignore[union-attr]
    assert (await tg.say(OTHER, "/subscribe 08:00 港口")).plain_text.startswith("已订阅 #2")  # type: ignore[union-attr]
    (job,) = tg.app.job_queue.get_jobs_by_name("digest-08:00")  # type: ignore[union-attr]
    day1 = dt.datetime.now(tg.settings.tz).date()
    tg.clock.set(at_eight(tg.settings, day1))

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
    tg.clock.set(at_eight(tg.settings, day1 + dt.timedelta(days=1)))
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
    tg.clock.set(at_eight(tg.settings, day1 + dt.timedelta(days=2)))
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
    tg.clock.set(at_eight(tg.settings, day))
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
        second_run.clock.set(dt.datetime.combine(day, dt.time(7, 30), tzinfo=settings.tz))
        since = fake.mark()
        await jobs[0].run(second_run.app)
        (digest,) = second_run.chat_messages(USER, since)
        assert PORT_ARTICLE["title"] in (digest.plain_text or "")


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
    subscriptions = service.subscriptions
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

    moment = at_eight(settings, dt.datetime.now(settings.tz).date())
    service = open_service(settings, FakeClock(moment))
    try:
        subscribe_and_publish(service, chats, PORT_ARTICLE)
        async with telegram_send(fake) as send:
            calls = 0

            async def flooded(chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
                nonlocal calls
                calls += 1
                if calls in (100, 400, 700):  # Telegram says "too many requests, retry after 1 s"
                    fake.fail("sendMessage", 429, retry_after=1)
                await send(chat_id, text, markup)

            broadcaster = Broadcaster(service, flooded, per_second=1000, sleep=sleep)
            report = await broadcaster.run("08:00")
            again = await broadcaster.run("08:00")
        ended = {s.chat_id: s.active for s in map(service.subscriptions.get, range(1, 1001)) if s is not None}
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


async def broadcast_that_dies(
    fake: FakeBotAPI, settings: Settings, chats: list[int], moment: dt.datetime, after: int
) -> None:
    """``chats`` subscribe and an article comes in; the digest broadcast at ``moment`` dies (as a killed
    process would) after sending ``after`` messages."""
    service = open_service(settings, FakeClock(moment))
    try:
        subscribe_and_publish(service, chats, PORT_ARTICLE)
        async with telegram_send(fake) as send:
            sent = 0

            async def dies(chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
                nonlocal sent
                if sent == after:
                    raise Crash
                await send(chat_id, text, markup)
                sent += 1

            with pytest.raises(Crash):
                await Broadcaster(service, dies, per_second=1000, sleep=no_pause).run("08:00")
    finally:
        service.close()
    assert len(fake.messages()) == after


async def no_pause(seconds: float) -> None:
    await asyncio.sleep(0)


async def test_a_broadcast_killed_midway_is_finished_by_resume_after_a_restart(
    fake: FakeBotAPI, settings: Settings
) -> None:
    chats = list(range(800_001, 800_041))
    moment = at_eight(settings, dt.datetime.now(settings.tz).date())
    await broadcast_that_dies(fake, settings, chats, moment, after=15)

    second = open_service(settings, FakeClock(moment))  # the process starts again: a new connection
    try:
        async with telegram_send(fake) as send:
            resumed = await Broadcaster(second, send, per_second=1000, sleep=no_pause).resume()
            again = await Broadcaster(second, send, per_second=1000, sleep=no_pause).run("08:00")
    finally:
        second.close()

    assert (resumed.sent, resumed.failed) == (25, 0) and again.messages == 0
    assert Counter(r.chat_id for r in fake.messages()) == {chat: 1 for chat in chats}


async def test_the_bot_finishes_a_broadcast_cut_short_when_it_starts_again(
    fake: FakeBotAPI, settings: Settings
) -> None:
    chats = list(range(900_001, 900_021))
    moment = at_eight(settings, dt.datetime.now(settings.tz).date())
    await broadcast_that_dies(fake, settings, chats, moment, after=8)

    async with running_bot(fake, settings, clock=FakeClock(moment)):
        await fake.wait_for(
            lambda r: r.method == "sendMessage" and r.chat_id in chats, count=20, timeout=WAIT
        )
    # The bot has stopped (its jobs finished): each subscriber got the digest exactly once.
    assert Counter(r.chat_id for r in fake.messages()) == {chat: 1 for chat in chats}


async def test_trend_sends_a_png_chart_with_a_caption(tg: Harness) -> None:
    moment = sample_ingested_at(tg.settings)
    tg.clock.set(moment)
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
