"""Inline mode (``@bot question`` in any chat): an empty query lists the latest articles; a question lists
the passages that answer it, each ready to send as a quoted answer with its source."""

from __future__ import annotations

import asyncio
import dataclasses
import html
from typing import Any

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, ContextTypes, InlineQueryHandler

from .. import messages as msg
from ..render.common import headline_of
from ..render.telegram import render_telegram
from .runtime import BotRuntime, runtime_of

__all__ = ["handlers"]

_RESULTS = 10


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [InlineQueryHandler(on_inline)]


async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    if query is None:
        return
    runtime = runtime_of(context)
    text = query.query.strip()
    if not text:
        await query.answer(_latest(runtime), cache_time=30, is_personal=False)
        return
    # Telegram sends an inline query per keystroke: they have their own allowance, so typing one inline
    # question does not use up the user's questions in private chats.
    if not runtime.inline_limiter.allow(query.from_user.id, runtime.monotonic()):
        await query.answer([], cache_time=5, is_personal=True)
        return
    answer = await asyncio.to_thread(runtime.service.ask, text[: runtime.settings.max_question_chars])
    results = []
    for i, p in enumerate(answer.passages[:_RESULTS] if answer.answered else ()):
        single = dataclasses.replace(answer, passages=(p,), per_page=1)
        results.append(
            InlineQueryResultArticle(
                id=f"{p.source.paragraph_id}-{i}",
                title=headline_of(p.source.headline, p.source.headline_derived),
                description=p.quote[:120],
                input_message_content=InputTextMessageContent(
                    render_telegram(single), parse_mode=ParseMode.HTML
                ),
            )
        )
    await query.answer(results, cache_time=30, is_personal=False)


def _latest(runtime: BotRuntime) -> list[InlineQueryResultArticle]:
    results = []
    for a in runtime.service.latest(_RESULTS):
        whole = runtime.service.article(str(a.id)) or a
        first = next((p.text for p in whole.paragraphs if p.kind == "body"), "")
        shown = headline_of(a.headline, a.headline_derived)
        body = f"<b>{html.escape(shown)}</b>\n{html.escape(first[:300])}\n\n{a.day} · #{a.id}"
        results.append(
            InlineQueryResultArticle(
                id=f"latest-{a.id}",
                title=msg.INLINE_LATEST.format(headline=shown),
                description=first[:100],
                input_message_content=InputTextMessageContent(body, parse_mode=ParseMode.HTML),
            )
        )
    return results
