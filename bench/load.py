"""Load and soak: the real bot (PTB Application, long polling) against the fake Bot API over real HTTP.

``load``: ``users`` simulated users each send ``per_user`` questions at once (Telegram's outgoing rate
limiter off, as the benchmark asks); every question must be answered exactly once; latency is measured
from the moment the update was queued at the fake to the moment the reply reached it (with the whole burst
queued at once, mostly waiting in line), handling as the bot's own time per question (its query log).

Then the slow neighbour: one line of a million characters is ingested (stored as 2,000-character
paragraphs), one user asks about it, and 30 other users ask theirs meanwhile (one every 5 ms); the
question-to-reply times (p50, p95) of those asked before the heavy answer went out show whether it holds
anyone up.

``soak``: mixed traffic (questions, next-page and full-text buttons, inline queries, /digest, /latest)
for ``minutes``; resident memory is sampled every 15 s, and growth after the first minute of warm-up and
any handler error are reported.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.config import load_settings
from bot.service import NewsService
from bot.telegram import build_application
from corpus import ingest_paths, sample_paths
from fakebot import FakeBotAPI

QUESTIONS = (
    "象州县投入多少钱加强实体平台建设？",
    "大安山乡中心幼儿园的园长是谁？",
    "黑龙江各级工会组建了多少支宣讲队伍？",
    "天津市总工会和哪个部门建立了协同贯通工作机制？",
    "坪山交友活动吸引了多少单身青年参加？",
    "抢险队员晚上睡在哪里？",
    "溪龙乡为数字游民组建了什么工会？",
    "上海地铁的票价是多少？",
)


@asynccontextmanager
async def running_bot(work: Path, fake: FakeBotAPI) -> AsyncIterator[tuple[Any, NewsService]]:
    db = work / "load.db"
    settings = load_settings(
        env={},
        db=str(db),
        token=fake.token,
        bot_api_url=fake.base_url,
        bot_file_url=fake.base_file_url,
        rate_limit_per_minute=10_000,
        telegram_rate_limit=False,
    )
    service = NewsService.open(settings)
    if not service.store.stats()["articles"]:
        ingest_paths(service.store, sample_paths(), now="2023-08-21T00:00:00+00:00")
        service.refresh()
    app = build_application(settings, service)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield app, service
        finally:
            await app.updater.stop()
            await app.stop()
            service.close()


async def _load(users: int, per_user: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, FakeBotAPI.running() as fake:
        async with running_bot(Path(tmp), fake) as (_, service):
            queued: dict[int, list[float]] = {}
            rng = random.Random(5)
            for _ in range(per_user):
                for user in range(users):
                    chat = 10_000 + user
                    fake.send_text(chat, rng.choice(QUESTIONS), user_id=chat)
                    queued.setdefault(chat, []).append(time.monotonic())
            total = users * per_user
            start = time.monotonic()
            replies = await fake.wait_for("sendMessage", timeout=600, count=total)
            elapsed = time.monotonic() - start
            await asyncio.sleep(0.5)  # anything extra would arrive now
            all_replies = [r for r in fake.sent if r.method == "sendMessage"]
            per_chat: dict[int, list[float]] = {}
            for r in all_replies:
                per_chat.setdefault(int(r.chat_id or 0), []).append(r.at)
            latencies = []
            for chat, asked in queued.items():
                # The n-th reply in a chat answers the n-th question there (pairing in time order).
                latencies += [
                    (a - q) * 1000
                    for q, a in zip(sorted(asked), sorted(per_chat.get(chat, [])), strict=False)
                ]
            ordered = sorted(latencies)
            # Handling: the bot's own time per question (search, compose, render), as its query log keeps it.
            handling = sorted(
                row[0] for row in service.store.db.conn.execute("SELECT latency_ms FROM query_log")
            )
            counts = {chat: len(per_chat.get(chat, [])) for chat in queued}
            return {
                "questions": total,
                "answered": sum(min(n, per_user) for n in counts.values()),
                "lost": sum(max(per_user - n, 0) for n in counts.values()),
                "duplicated": sum(max(n - per_user, 0) for n in counts.values()),
                "replies": len(all_replies),
                "seconds": round(elapsed, 2),
                "latency_ms_p50": round(statistics.median(ordered), 1),
                "latency_ms_p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
                "handling_ms_p50": round(statistics.median(handling), 1) if handling else None,
                "handling_ms_p95": round(handling[int(0.95 * (len(handling) - 1))], 1) if handling else None,
                "questions_per_second": round(total / max(elapsed, 1e-9), 1),
                "replied_in_time": len(replies) == total,
                **await _slow_neighbour(Path(tmp), fake, service),
            }


_HUGE_TOPIC = "港口集装箱吞吐量"


async def _slow_neighbour(work: Path, fake: FakeBotAPI, service: NewsService) -> dict[str, Any]:
    """One question about a million-character line while 30 other users ask theirs."""
    rng = random.Random(13)
    parts = [
        f"第{i}号码头{_HUGE_TOPIC}{rng.randint(10, 999)}万标箱，同比增长{rng.randint(1, 30)}%"
        for i in range(40_000)
    ]
    line = "，".join(parts)[:1_000_000] + "。"
    feed = work / "huge.jsonl"
    feed.write_text(
        json.dumps({"id": "huge", "title": "港口统计", "text": line}, ensure_ascii=False) + "\n", "utf-8"
    )
    ingest_paths(service.store, [feed], now="2023-08-21T00:00:00+00:00")
    service.refresh()
    mark = fake.mark()
    heavy_chat = 90_000
    fake.send_text(heavy_chat, f"第1234号码头{_HUGE_TOPIC}是多少万标箱？", user_id=heavy_chat)
    heavy_sent = time.monotonic()
    sent: dict[int, float] = {}
    for n in range(30):
        chat = 91_000 + n
        fake.send_text(chat, rng.choice(QUESTIONS), user_id=chat)
        sent[chat] = time.monotonic()
        await asyncio.sleep(0.005)
    replies = await fake.wait_for("sendMessage", since=mark, timeout=600, count=31)
    at = {int(r.chat_id or 0): r.at for r in replies}
    heavy_done = at.get(heavy_chat, time.monotonic())
    others = sorted((at[c] - t) * 1000 for c, t in sent.items() if c in at and t < heavy_done)
    return {
        "huge_line_characters": len(line),
        "huge_question_ms": round((at.get(heavy_chat, time.monotonic()) - heavy_sent) * 1000, 1),
        "others_during_it_ms_p50": round(statistics.median(others), 1),
        "others_during_it_ms_p95": round(others[int(0.95 * (len(others) - 1))], 1),
        "others_asked_meanwhile": len(others),
    }


def run_load(users: int = 200, per_user: int = 5) -> dict[str, Any]:
    logging.getLogger("telegram").setLevel(logging.WARNING)
    return asyncio.run(_load(users, per_user))


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _soak(minutes: float) -> dict[str, Any]:
    errors: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                cause = f" ({record.exc_info[1]!r})" if record.exc_info else ""
                errors.append(record.getMessage() + cause)

    handler = Catch()
    logging.getLogger().addHandler(handler)
    rng = random.Random(9)
    samples: list[tuple[float, float]] = []
    actions = 0
    with tempfile.TemporaryDirectory() as tmp, FakeBotAPI.running() as fake:
        async with running_bot(Path(tmp), fake):
            start = time.monotonic()
            next_sample = start
            while time.monotonic() - start < minutes * 60:
                chat = 20_000 + rng.randrange(300)
                mark = fake.mark()
                kind = rng.random()
                if kind < 0.6:
                    fake.send_text(chat, rng.choice(QUESTIONS), user_id=chat)
                    reply = await fake.wait_for("sendMessage", since=mark, chat_id=chat, timeout=30)
                    if reply.callback_data and rng.random() < 0.5:
                        data = rng.choice(reply.callback_data)
                        fake.press_button(reply, data, user_id=chat)
                        await fake.wait_for("answerCallbackQuery", since=mark, timeout=30)
                elif kind < 0.75:
                    fake.inline_query(chat, rng.choice(["", *QUESTIONS]))
                    await fake.wait_for("answerInlineQuery", since=mark, timeout=30)
                elif kind < 0.9:
                    fake.send_text(chat, "/latest", user_id=chat)
                    await fake.wait_for("sendMessage", since=mark, chat_id=chat, timeout=30)
                else:
                    fake.send_text(chat, "/digest", user_id=chat)
                    await fake.wait_for("sendMessage", since=mark, chat_id=chat, timeout=30)
                actions += 1
                if actions % 200 == 0:
                    fake.forget()  # the fake's own memory is not the bot's
                if time.monotonic() >= next_sample:
                    gc.collect()
                    samples.append((time.monotonic() - start, _rss_mb()))
                    next_sample += 15
    logging.getLogger().removeHandler(handler)
    warm = next((rss for t, rss in samples if t >= 60), samples[0][1])
    end = samples[-1][1]
    return {
        "minutes": minutes,
        "actions": actions,
        "rss_mb_after_warmup": round(warm, 1),
        "rss_mb_at_end": round(end, 1),
        "growth_after_warmup_percent": round((end - warm) / warm * 100, 1),
        "errors": len(errors),
        "first_errors": errors[:3],
        "rss_mb_samples": [round(rss) for _, rss in samples],
    }


def run_soak(minutes: float = 10.0) -> dict[str, Any]:
    logging.getLogger("telegram").setLevel(logging.WARNING)
    return asyncio.run(_soak(minutes))
