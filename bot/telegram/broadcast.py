"""Scheduled digests: plan, send and record, so that none is lost or sent twice.

A run is one subscription's digest at one scheduled time (``run_key`` = local date + HH:MM). Runs are
planned in SQLite before anything is sent; each sent message is recorded, and the run is closed together
with the articles it delivered in one transaction. After a crash or restart, ``resume`` sends what is
still pending, skipping the messages of a long digest that already went out. (A crash in the instant
between Telegram accepting a message and the database recording it can repeat that one message: Telegram
offers no way to ask whether a message was delivered.)

Telegram's limits: the sending pace is capped at ``broadcast_per_second``; a 429 waits ``retry_after`` and
tries the same message again; a 403 (bot blocked, chat gone) ends that subscription; other errors are
retried with back-off, then the run is marked failed and logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from corpus.botstate import Subscription

from .. import messages as msg
from ..render.telegram import digest_messages
from ..service import DigestCache, NewsService, iso
from .keyboards import article_buttons

__all__ = ["BroadcastReport", "Broadcaster", "run_key"]

log = logging.getLogger(__name__)

Send = Callable[[int, str, InlineKeyboardMarkup | None], Awaitable[object]]
_MAX_ATTEMPTS = 3


def run_key(local: dt.datetime, at: str) -> str:
    return f"{local.date().isoformat()}T{at}"


@dataclass
class BroadcastReport:
    sent: int = 0
    empty: int = 0
    blocked: int = 0
    failed: int = 0
    messages: int = 0
    waited_for_429: float = 0.0
    subscriptions: list[int] = field(default_factory=list)


class Broadcaster:
    """Sends the scheduled digests of one database through ``send``."""

    def __init__(
        self,
        service: NewsService,
        send: Send,
        *,
        per_second: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.service = service
        self.send = send
        self.interval = 1.0 / per_second
        self.sleep = sleep
        self.now = service.now  # the service's clock: what "today" and every recorded time come from
        self.subscriptions = service.subscriptions

    async def run(self, at: str) -> BroadcastReport:
        """Plan the digests due at ``at`` today (local time) for every active subscription, then send."""
        local = self.now().astimezone(self.service.settings.tz)
        due = self.subscriptions.active(at)
        self.subscriptions.plan(run_key(local, at), [s.id for s in due], iso(self.now()))
        return await self.resume()

    async def resume(self) -> BroadcastReport:
        """Send every planned digest not yet finished (after a restart too)."""
        report = BroadcastReport()
        cache = DigestCache()
        for subscription_id, key, parts_sent, attempts in self.subscriptions.pending():
            subscription = self.subscriptions.get(subscription_id)
            if subscription is None or not subscription.active:
                continue
            await self._one(subscription, key, parts_sent, attempts, report, cache)
        return report

    async def _one(
        self,
        sub: Subscription,
        key: str,
        parts_sent: int,
        attempts: int,
        report: BroadcastReport,
        cache: DigestCache,
    ) -> None:
        digest, covered = self.service.digest_for(sub, self.now(), cache)
        now = iso(self.now())
        if digest.empty:
            self.subscriptions.finish(sub.id, key, "empty", [], now)  # nothing new: send nothing
            report.empty += 1
            return
        words = f" · {sub.keywords}" if sub.keywords else ""
        title = msg.DIGEST_SCHEDULED_TITLE.format(day=digest.title_day, id=sub.id, keywords=words)
        parts = digest_messages(digest, title)
        part = parts_sent
        while part < len(parts):
            text, ids = parts[part]
            try:
                await self.send(sub.chat_id, text, article_buttons(ids))
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                report.waited_for_429 += wait
                await self.sleep(wait)
                continue  # the same message again
            except Forbidden:
                self.subscriptions.end(sub.id, "blocked")
                self.subscriptions.finish(sub.id, key, "failed", [], iso(self.now()))
                report.blocked += 1
                log.info("subscription %s ended: chat %s blocked the bot or is gone", sub.id, sub.chat_id)
                return
            except (TelegramError, OSError) as exc:
                attempts += 1
                self.subscriptions.attempt(sub.id, key, iso(self.now()))
                if attempts >= _MAX_ATTEMPTS or isinstance(exc, BadRequest):
                    self.subscriptions.finish(sub.id, key, "failed", [], iso(self.now()))
                    report.failed += 1
                    log.error(
                        "digest for subscription %s failed after %d attempts: %s", sub.id, attempts, exc
                    )
                    return
                await self.sleep(2.0**attempts)
                continue
            part += 1
            report.messages += 1
            if part < len(parts):
                self.subscriptions.part_sent(sub.id, key, part, iso(self.now()))
            await self.sleep(self.interval)
        self.subscriptions.finish(sub.id, key, "sent", covered, iso(self.now()))
        report.sent += 1
        report.subscriptions.append(sub.id)


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
