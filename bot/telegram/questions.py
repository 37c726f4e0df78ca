"""Questions: plain messages in private chats, /ask, mentions and replies in groups, /start's examples;
the answer's page and feedback buttons; /start and /help.

An answer is kept as a session in SQLite (``bot.sessions``), so its buttons work after a restart; the query
log keeps the question, the kind of chat and the answer's fate, never who asked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import time
from typing import Any

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType, MessageEntityType
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from corpus.botstate import Session
from retrieval.compose import Answer

from .. import messages as msg
from .. import sessions
from ..render.telegram import render_telegram
from ..service import QuestionTooLong, clean_text, iso
from .callbacks import AnswerPage, Example, Feedback
from .keyboards import answer_keyboard, examples_keyboard
from .runtime import BotRuntime, edit, expired, pressed, runtime_of

__all__ = ["answer_question", "handlers"]


def handlers(only_new: filters.BaseFilter) -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("start", on_start, filters=only_new),
        CommandHandler("help", on_help, filters=only_new),
        CommandHandler("ask", on_ask_command, filters=only_new),
        MessageHandler(
            only_new & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, on_private_text
        ),
        MessageHandler(only_new & filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND, on_group_text),
        CallbackQueryHandler(on_answer_page, pattern=AnswerPage.PATTERN),
        CallbackQueryHandler(on_feedback, pattern=Feedback.PATTERN),
        CallbackQueryHandler(on_example, pattern=Example.PATTERN),
    ]


async def answer_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, question: str, *, follows: bool = True
) -> None:
    """Answer ``question`` in the chat of ``update``: rate limit, length check, compose, reply with buttons.

    With ``follows``, a question that leans on the answer it replies to (or, in a private chat, on the
    chat's last answer of the past ``follow_up_minutes``) is completed from it: 那去年呢？ 他是哪里人？"""
    runtime = runtime_of(context)
    question = clean_text(question)
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None:
        return
    if user is not None and not runtime.limiter.allow(user.id, runtime.monotonic()):
        await message.reply_text(msg.RATE_LIMITED.format(limit=runtime.settings.rate_limit_per_minute))
        return
    after = _previous_answer(runtime, message, private=chat.type == ChatType.PRIVATE) if follows else None

    def ask() -> tuple[Answer, float]:  # timed in its thread: the bot's own time, not the queue's
        started = time.perf_counter()
        answer = runtime.service.ask(question, after=after)
        return answer, (time.perf_counter() - started) * 1000

    try:
        # Off the event loop: composing takes milliseconds, but no one's /start should wait for them.
        answer, latency = await asyncio.to_thread(ask)
    except QuestionTooLong as exc:
        await message.reply_text(msg.QUESTION_TOO_LONG.format(length=exc.length, limit=exc.limit))
        return
    now = iso(runtime.service.now())
    query_id = runtime.state.log_question(now, question.strip(), chat.type, answer.answered, latency)
    token = runtime.state.save_session(chat.id, query_id, sessions.encode(answer), now)
    await message.reply_text(render_telegram(answer, 0), reply_markup=answer_keyboard(answer, token, 0))


def _previous_answer(runtime: BotRuntime, message: Message, *, private: bool) -> Answer | None:
    """The answer a question may follow up: the bot's answer it replies to (its buttons name the session),
    else in a private chat the chat's last answer of the past few minutes."""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.is_bot:
        markup = replied.reply_markup
        data = [b.callback_data for row in (markup.inline_keyboard if markup else ()) for b in row]
        token = next((f.token for d in data if isinstance(d, str) and (f := Feedback.parse(d))), None)
        session = runtime.state.session(token) if token else None
        if session is not None and session.chat_id == message.chat.id:
            return sessions.decode(session.answer)
        if not private:
            return None
    minutes = runtime.settings.follow_up_minutes
    if not private or not minutes:
        return None
    since = iso(runtime.service.now() - dt.timedelta(minutes=minutes))
    session = runtime.state.latest_session(message.chat.id, since)
    return sessions.decode(session.answer) if session else None


async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message and message.text:
        await answer_question(update, context, message.text)


async def on_ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    question = " ".join(context.args or [])
    message = update.effective_message
    if message is None:
        return
    if not question.strip():
        await message.reply_text(html.escape(msg.ASK_USAGE.format(example=msg.EXAMPLE_QUESTION)))
        return
    await answer_question(update, context, question)


async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only messages that mention the bot or reply to it; ignore other chatter."""
    message = update.effective_message
    if message is None or not message.text:
        return
    bot = context.bot
    mention = f"@{bot.username}".lower() if bot.username else None
    mentioned = False
    question = message.text
    for entity in message.entities:
        if entity.type == MessageEntityType.MENTION and mention:
            text = message.parse_entity(entity)
            if text.lower() == mention:
                mentioned = True
                question = question.replace(text, " ")
    replied = message.reply_to_message is not None and (
        message.reply_to_message.from_user is not None and message.reply_to_message.from_user.id == bot.id
    )
    if mentioned or replied:
        await answer_question(update, context, question)


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is None:
        return
    articles = runtime_of(context).service.stats()["articles"]
    await update.effective_message.reply_text(
        html.escape(msg.START.format(articles=articles)), reply_markup=examples_keyboard(msg.EXAMPLES)
    )


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(
            msg.HELP.format(username=html.escape(context.bot.username or "bot"))
        )


# --- buttons -----------------------------------------------------------------------------------------


async def on_example(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if (press := await pressed(update, Example)) is None:
        return
    query, button = press
    await query.answer()
    if button.index < len(msg.EXAMPLES):
        await answer_question(update, context, msg.EXAMPLES[button.index], follows=False)


async def on_feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if (press := await pressed(update, Feedback)) is None:
        return
    query, button = press
    if (session := await _session(context, query, button.token)) is None:
        return
    if session.query_id is not None:
        runtime_of(context).state.set_feedback(session.query_id, 1 if button.helpful else -1)
    await query.answer(msg.THANKS_FEEDBACK)


async def on_answer_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if (press := await pressed(update, AnswerPage)) is None:
        return
    query, button = press
    if (session := await _session(context, query, button.token)) is None:
        return
    answer = sessions.decode(session.answer)
    if answer is None or not isinstance(query.message, Message):
        await expired(query)
        return
    await query.answer()
    if button.page < answer.pages:
        keyboard = answer_keyboard(answer, button.token, button.page)
        await edit(query.message, render_telegram(answer, button.page), keyboard)


async def _session(context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, token: str) -> Session | None:
    """The answer session a button points to; None (after the expired alert) when it is unknown, pruned
    or another chat's."""
    session = runtime_of(context).state.session(token)
    message = query.message
    if session is None or not isinstance(message, Message) or message.chat.id != session.chat_id:
        await expired(query)
        return None
    return session
