"""Digests and trends: /digest of a day, /trend charts, and the daily jobs that send subscribers their
digests (``broadcast``), scheduled once per time of day that any subscription uses."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, BaseHandler, CommandHandler, ContextTypes, filters

from .. import messages as msg
from ..charts import trend_png
from ..render.telegram import digest_messages
from ..service import parse_day
from .broadcast import Broadcaster
from .keyboards import article_buttons
from .runtime import runtime_of

__all__ = ["handlers", "resume_digests", "schedule_digests"]

log = logging.getLogger(__name__)
TREND_DAYS = (30, 90)


def handlers(only_new: filters.BaseFilter) -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("digest", on_digest, filters=only_new),
        CommandHandler("trend", on_trend, filters=only_new),
    ]


async def on_digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = runtime_of(context)
    message = update.effective_message
    if message is None:
        return
    text = " ".join(context.args or [])
    day = parse_day(text, runtime.service.today())
    if day is None:
        await message.reply_text(html.escape(msg.DIGEST_BAD_DAY.format(text=text[:20])))
        return
    digest = await asyncio.to_thread(runtime.service.digest_of_day, day)  # tagging a day takes a while
    if digest.empty:
        await message.reply_text(msg.DIGEST_EMPTY.format(day=day.isoformat()))
        return
    for text_part, ids in digest_messages(digest, msg.DIGEST_TITLE.format(day=day.isoformat())):
        await message.reply_text(text_part, reply_markup=article_buttons(ids))


async def on_trend(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = runtime_of(context)
    message = update.effective_message
    if message is None:
        return
    args = list(context.args or [])
    days = TREND_DAYS[0]
    if args and args[-1] in map(str, TREND_DAYS):
        days = int(args.pop())
    keyword = " ".join(args).strip()[:50]
    if not keyword:
        await message.reply_text(msg.TREND_USAGE)
        return
    series = await asyncio.to_thread(runtime.service.trend, keyword, days)
    total = sum(c for _, c in series)
    if not total:
        await message.reply_text(html.escape(msg.TREND_NONE.format(days=days, keyword=keyword)))
        return
    png = await asyncio.to_thread(trend_png, series)
    caption = msg.TREND_CAPTION.format(
        keyword=keyword, days=days, first=series[0][0], last=series[-1][0], total=total
    )
    await message.reply_photo(png, caption=html.escape(caption))


# --- scheduled digests -------------------------------------------------------------------------------


def schedule_digests(app: Application[Any, Any, Any, Any, Any, Any], at: dt.time) -> None:
    """A daily job at local ``at`` that sends the digests of every subscription due then (once per time)."""
    if app.job_queue is None:
        return
    hhmm = f"{at:%H:%M}"
    name = f"digest-{hhmm}"
    if app.job_queue.get_jobs_by_name(name):
        return
    tz = app.bot_data["runtime"].settings.tz
    app.job_queue.run_daily(_digest_job, at.replace(tzinfo=tz), data=hhmm, name=name)


def resume_digests(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Finish, right away, a broadcast that a crash or restart cut short."""
    if app.job_queue is not None:
        app.job_queue.run_once(_resume_job, when=0, name="resume-digests")


def _broadcaster(context: ContextTypes.DEFAULT_TYPE) -> Broadcaster:
    runtime = runtime_of(context)

    async def send(chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
        await context.bot.send_message(chat_id, text, reply_markup=markup)

    return Broadcaster(runtime.service, send, per_second=runtime.settings.broadcast_per_second)


async def _digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    at = str(context.job.data) if context.job else ""
    async with runtime_of(context).digests:
        report = await _broadcaster(context).run(at)
    log.info(
        "digests at %s: %d sent, %d empty, %d blocked, %d failed",
        at,
        report.sent,
        report.empty,
        report.blocked,
        report.failed,
    )


async def _resume_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    async with runtime_of(context).digests:
        report = await _broadcaster(context).resume()
    if report.sent or report.failed:
        log.info("resumed digests: %d sent, %d failed", report.sent, report.failed)
