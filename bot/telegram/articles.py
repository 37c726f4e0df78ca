"""Whole articles: /latest, /article, the buttons that open one (from answers, digests, /latest) and the
pager of an article longer than one message.

Opening an article always sends a new message (the answer or digest it came from stays as it is);
paging edits the article's own message in place. Which is which is in the button's data
(``OpenArticle`` and ``ArticlePage``), not in what the message looks like.
"""

from __future__ import annotations

import html
from typing import Any

from telegram import Message, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from .. import messages as msg
from ..render.common import headline_of
from ..render.telegram import article_pages
from .callbacks import ArticlePage, OpenArticle
from .keyboards import article_buttons, article_pager
from .runtime import BotRuntime, edit, pressed, runtime_of

__all__ = ["handlers"]

_LATEST = 10


def handlers(only_new: filters.BaseFilter) -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("latest", on_latest, filters=only_new),
        CommandHandler("article", on_article_command, filters=only_new),
        CallbackQueryHandler(on_open_article, pattern=OpenArticle.PATTERN),
        CallbackQueryHandler(on_article_page, pattern=ArticlePage.PATTERN),
    ]


async def on_latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    articles = runtime_of(context).service.latest(_LATEST)
    if not articles:
        await message.reply_text(msg.LATEST_EMPTY)
        return
    lines = [msg.LATEST_HEADER]
    for i, a in enumerate(articles, start=1):
        lines.append(f"{i}. {html.escape(headline_of(a.headline, a.headline_derived))} · {a.day} · #{a.id}")
    labels = [str(i) for i in range(1, len(articles) + 1)]
    await message.reply_text("\n".join(lines), reply_markup=article_buttons([a.id for a in articles], labels))


async def on_article_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    ref = " ".join(context.args or []).strip()
    if not ref:
        await message.reply_text(msg.ARTICLE_USAGE)
        return
    await _send_article(message, runtime_of(context), ref, 0)


async def on_open_article(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if (press := await pressed(update, OpenArticle)) is None:
        return
    query, button = press
    await query.answer()
    if isinstance(query.message, Message):
        await _send_article(query.message, runtime_of(context), str(button.article_id), button.page)


async def on_article_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if (press := await pressed(update, ArticlePage)) is None:
        return
    query, button = press
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    article = runtime_of(context).service.article(str(button.article_id))
    if message is None:
        return
    if article is None:
        await message.reply_text(html.escape(msg.ARTICLE_NOT_FOUND.format(ref=button.article_id)))
        return
    pages = article_pages(article)
    page = min(button.page, len(pages) - 1)
    await edit(message, pages[page], article_pager(article.id, page, len(pages)))


async def _send_article(message: Message, runtime: BotRuntime, ref: str, page: int) -> None:
    article = runtime.service.article(ref)
    if article is None:
        await message.reply_text(html.escape(msg.ARTICLE_NOT_FOUND.format(ref=ref[:40])))
        return
    pages = article_pages(article)
    page = min(page, len(pages) - 1)
    await message.reply_text(pages[page], reply_markup=article_pager(article.id, page, len(pages)))
