"""Timelines: /timeline 关键词 — when the archive first and last mentions a topic, how often per month, and
one key passage per active period, in one message with a button to open each quoted article."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, filters

from .. import messages as msg
from ..render.telegram import timeline_message
from ..service import clean_text
from .keyboards import article_buttons
from .runtime import runtime_of

__all__ = ["handlers"]

KEYWORD_CHARS = 50  # a keyword, not a question: longer text is cut (as /trend does)


def handlers(only_new: filters.BaseFilter) -> list[BaseHandler[Any, Any, Any]]:
    return [CommandHandler("timeline", on_timeline, filters=only_new)]


async def on_timeline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = runtime_of(context)
    message, user = update.effective_message, update.effective_user
    if message is None:
        return
    keyword = clean_text(" ".join(context.args or [])).strip()[:KEYWORD_CHARS]
    if not keyword:
        await message.reply_text(msg.TIMELINE_USAGE)
        return
    # One ranking per period (up to eight) and the monthly counts: a question's worth of work, limited alike.
    if user is not None and not runtime.limiter.allow(user.id, runtime.monotonic()):
        await message.reply_text(msg.RATE_LIMITED.format(limit=runtime.settings.rate_limit_per_minute))
        return
    timeline = await asyncio.to_thread(runtime.service.timeline, keyword)
    text, ids = timeline_message(timeline)
    await message.reply_text(text, reply_markup=article_buttons(ids))
