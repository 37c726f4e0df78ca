"""The Telegram front end: the PTB ``Application``, one thin handler per job, one error handler.

Handlers read the update, call the service, render, reply. Buttons carry short callback data that points
to answer sessions kept in SQLite (so they work after a restart):

    p:<token>:<page>    a page of an answer          f:<token>:<+|->   feedback on an answer
    a:<article>:<page>  a page of a whole article    q:<n>             an example question from /start
    s:d:<sub>           end a digest subscription    s:t:<sub>:<HHMM>  move it to another time

Work that touches the disk for long (ingesting an upload, reloading the index) runs in a thread with its
own database connection; the event loop keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import html
import json
import logging
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, MessageEntityType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from corpus import Store, ingest_file
from corpus.state import BotState, Subscriptions
from retrieval.compose import Answer

from . import messages as msg
from .broadcast import Broadcaster, article_buttons
from .charts import trend_png
from .config import Settings
from .limits import RateLimiter
from .render import (
    answer_from_json,
    answer_json,
    article_pages,
    digest_messages,
    headline_of,
    render_telegram,
)
from .service import NewsService, QuestionTooLong, clean_text, parse_day, utc_now

__all__ = ["BotRuntime", "build_application", "run_bot"]

log = logging.getLogger(__name__)

_UPLOAD_SUFFIXES = (".txt", ".md", ".jsonl", ".jsonl.gz")
_CALLBACK = re.compile(
    r"^(?:(p):([\w-]{4,16}):(\d{1,2})|(f):([\w-]{4,16}):([+-])|(a):(\d{1,12}):(\d{1,4})|(q):(\d))$"
)
_INLINE_RESULTS = 10
INLINE_PER_MINUTE = 120  # inline queries per user per minute: one a keystroke, so well above questions
_REFRESH_SECONDS = 60


_NETWORK_RETRIES = 3
# Methods whose repetition changes nothing: retried even after a timeout, when Telegram may have acted.
_IDEMPOTENT = {
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "answerInlineQuery",
    "setMyCommands",
    "getMe",
    "getFile",
    "getChatMember",
    "deleteWebhook",
    "setWebhook",
    "sendChatAction",
}


class ResilientLimiter(AIORateLimiter):
    """PTB's rate limiter, plus retries with back-off for Telegram's transient failures (500/502, dropped
    connections), so a reply is not lost to a hiccup. A timed-out send is not repeated (Telegram may have
    delivered it; a duplicate is worse than a rare loss); getUpdates has the updater's own retries."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        attempt = 0
        while True:
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except TimedOut:
                if endpoint not in _IDEMPOTENT or attempt == _NETWORK_RETRIES:
                    raise
            except BadRequest:
                raise  # a NetworkError subclass in PTB, but Telegram's answer: the same request fails again
            except NetworkError:
                if endpoint == "getUpdates" or attempt == _NETWORK_RETRIES:
                    raise
            attempt += 1
            log.warning("Telegram %s failed (attempt %d); retrying", endpoint, attempt)
            await asyncio.sleep(0.5 * 2 ** (attempt - 1))


@dataclass
class BotRuntime:
    """What handlers share: settings, the service, bot state and the rate limiter."""

    settings: Settings
    service: NewsService
    state: BotState
    limiter: RateLimiter
    inline_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(INLINE_PER_MINUTE))
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    username: str = ""
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    # Broadcasts take turns: each sends every pending digest, so two at once would send some twice.
    digests: asyncio.Lock = field(default_factory=asyncio.Lock)

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admins


def _runtime(context: ContextTypes.DEFAULT_TYPE) -> BotRuntime:
    runtime: BotRuntime = context.application.bot_data["runtime"]
    return runtime


class _HideToken(logging.Filter):
    """PTB logs its Bot API URLs, which contain the token, at DEBUG: keep the token out of the logs."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(token in text for token in self.tokens):
            for token in self.tokens:
                text = text.replace(token, "<token>")
            record.msg, record.args = text, None
        return True


_HIDE_TOKEN = _HideToken()


def build_application(
    settings: Settings, service: NewsService, *, polling: bool = True
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB application wired to ``service``. The token comes from ``settings`` (the environment)."""
    if not settings.token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .post_init(_post_init)
        # Updates are handled concurrently: one slow upload or digest must not hold up everyone's answers.
        .concurrent_updates(64)
    )
    # Telegram's flood limits (30/s overall, 20/min per group; a 429 waits retry_after and retries), and
    # retries of transient failures. Load tests switch the limits off, never the retries.
    limits = {} if settings.telegram_rate_limit else {"overall_max_rate": 0, "group_max_rate": 0}
    builder = builder.rate_limiter(ResilientLimiter(max_retries=3, **limits))  # type: ignore[arg-type]
    if settings.bot_api_url:
        builder = builder.base_url(settings.bot_api_url)
        builder = builder.base_file_url(
            settings.bot_file_url or settings.bot_api_url.replace("/bot", "/file/bot", 1)
        )
    if not polling:
        builder = builder.updater(None)
    _HIDE_TOKEN.tokens.add(settings.token)
    for name in ("telegram.Bot", "telegram.ext.ExtBot"):
        if _HIDE_TOKEN not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_HIDE_TOKEN)
    app = builder.build()
    runtime = BotRuntime(
        settings, service, BotState(service.store), RateLimiter(settings.rate_limit_per_minute)
    )
    app.bot_data["runtime"] = runtime
    only_new = filters.UpdateType.MESSAGE  # edits of old questions are not answered again
    app.add_handler(CommandHandler("start", on_start, filters=only_new))
    app.add_handler(CommandHandler("help", on_help, filters=only_new))
    app.add_handler(CommandHandler("ask", on_ask_command, filters=only_new))
    app.add_handler(CommandHandler("latest", on_latest, filters=only_new))
    app.add_handler(CommandHandler("article", on_article_command, filters=only_new))
    app.add_handler(CommandHandler("digest", on_digest, filters=only_new))
    app.add_handler(CommandHandler("subscribe", on_subscribe, filters=only_new))
    app.add_handler(CommandHandler("subscriptions", on_subscriptions, filters=only_new))
    app.add_handler(CommandHandler("unsubscribe", on_unsubscribe, filters=only_new))
    app.add_handler(CommandHandler("trend", on_trend, filters=only_new))
    app.add_handler(CommandHandler("stats", on_stats, filters=only_new))
    app.add_handler(CommandHandler("reload", on_reload, filters=only_new))
    app.add_handler(MessageHandler(only_new & filters.ChatType.PRIVATE & filters.Document.ALL, on_document))
    app.add_handler(
        MessageHandler(only_new & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, on_private_text)
    )
    app.add_handler(
        MessageHandler(only_new & filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND, on_group_text)
    )
    app.add_handler(
        MessageHandler(
            only_new & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.Document.ALL, on_not_text
        )
    )
    # Registered after every command: in a private chat a command nobody handled gets a pointer to /help.
    app.add_handler(MessageHandler(only_new & filters.ChatType.PRIVATE & filters.COMMAND, on_unknown_command))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(InlineQueryHandler(on_inline))
    app.add_error_handler(on_error)
    return app


async def _post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    runtime: BotRuntime = app.bot_data["runtime"]
    runtime.username = app.bot.username or ""
    await app.bot.set_my_commands([BotCommand(c, d) for c, d in msg.COMMANDS])
    _prune(runtime)
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            _refresh_job, interval=_REFRESH_SECONDS, first=_REFRESH_SECONDS, name="refresh"
        )
        app.job_queue.run_daily(_prune_job, dt.time(4, 0, tzinfo=runtime.settings.tz), name="prune")
        # Jobs live in memory: schedule the digests of existing subscriptions again, and finish a
        # broadcast a crash or restart cut short.
        for at in Subscriptions(runtime.service.store).times():
            schedule_digests(app, at)
        app.job_queue.run_once(_resume_job, when=0, name="resume-digests")


def _prune(runtime: BotRuntime) -> None:
    now = runtime.now()
    sessions_before = (now - dt.timedelta(hours=runtime.settings.session_ttl_hours)).isoformat(
        timespec="seconds"
    )
    days = runtime.settings.query_log_days
    log_before = (now - dt.timedelta(days=days)).isoformat(timespec="seconds") if days else None
    runtime.state.prune(sessions_before, log_before)


async def _prune_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    _prune(_runtime(context))


async def _refresh_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pick up articles another process (``newsbot ingest``) added since the index was loaded."""
    runtime = _runtime(context)
    await asyncio.to_thread(_refresh_index, runtime.settings, runtime.service)


def _refresh_index(settings: Settings, service: NewsService) -> None:
    with Store(settings.db) as store:
        service.searcher.manager.refresh(store)


# --- digests -----------------------------------------------------------------------------------------


def schedule_digests(app: Application[Any, Any, Any, Any, Any, Any], at: str) -> None:
    """A daily job at local ``at`` (HH:MM) that sends the digests of every subscription due then."""
    if app.job_queue is None:
        return
    name = f"digest-{at}"
    if app.job_queue.get_jobs_by_name(name):
        return
    runtime: BotRuntime = app.bot_data["runtime"]
    hour, minute = (int(x) for x in at.split(":"))
    app.job_queue.run_daily(
        _digest_job, dt.time(hour, minute, tzinfo=runtime.settings.tz), data=at, name=name
    )


def broadcaster(context: ContextTypes.DEFAULT_TYPE) -> Broadcaster:
    runtime = _runtime(context)

    async def send(chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
        await context.bot.send_message(chat_id, text, reply_markup=markup)

    return Broadcaster(
        runtime.service, send, per_second=runtime.settings.broadcast_per_second, now=runtime.now
    )


async def _digest_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    at = str(context.job.data) if context.job else ""
    async with _runtime(context).digests:
        report = await broadcaster(context).run(at)
    log.info(
        "digests at %s: %d sent, %d empty, %d blocked, %d failed",
        at,
        report.sent,
        report.empty,
        report.blocked,
        report.failed,
    )


async def _resume_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    async with _runtime(context).digests:
        report = await broadcaster(context).resume()
    if report.sent or report.failed:
        log.info("resumed digests: %d sent, %d failed", report.sent, report.failed)


async def on_digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = _runtime(context)
    message = update.effective_message
    if message is None:
        return
    text = " ".join(context.args or [])
    day = parse_day(text, runtime.now().astimezone(runtime.settings.tz).date())
    if day is None:
        await message.reply_text(html.escape(msg.DIGEST_BAD_DAY.format(text=text[:20])))
        return
    digest = await asyncio.to_thread(runtime.service.digest_of_day, day)  # tagging a day takes a while
    if digest.empty:
        await message.reply_text(msg.DIGEST_EMPTY.format(day=day.isoformat()))
        return
    for text_part, ids in digest_messages(digest, msg.DIGEST_TITLE.format(day=day.isoformat())):
        await message.reply_text(text_part, reply_markup=article_buttons(ids))


async def _may_manage_subscriptions(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *, reply: bool = True
) -> bool:
    """In groups only the group's administrators (or the bot's admins) manage its subscriptions."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    if chat.type == ChatType.PRIVATE or _runtime(context).is_admin(user.id):
        return True
    member = await context.bot.get_chat_member(chat.id, user.id)
    if member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
        return True
    if reply and update.effective_message:
        await update.effective_message.reply_text(msg.SUBSCRIBE_GROUP_ADMINS)
    return False


_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})$")


async def on_subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = _runtime(context)
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or not await _may_manage_subscriptions(update, context):
        return
    args = list(context.args or [])
    at = runtime.settings.digest_default_time
    if args and (_TIME.match(args[0]) or args[0][:1].isdigit()):
        m = _TIME.match(args.pop(0))
        if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            await message.reply_text(
                html.escape(msg.SUBSCRIBE_BAD_TIME.format(text=(context.args or [""])[0][:10]))
            )
            return
        at = f"{int(m.group(1)):02d}:{m.group(2)}"
    keywords = clean_text(" ".join(dict.fromkeys(a.strip()[:30] for a in args if a.strip()))[:200])
    subs = Subscriptions(runtime.service.store)
    if len(subs.of_chat(chat.id)) >= runtime.settings.max_subscriptions_per_chat:
        await message.reply_text(
            msg.SUBSCRIBE_LIMIT.format(limit=runtime.settings.max_subscriptions_per_chat)
        )
        return
    sub = subs.add(chat.id, at, keywords, utc_now())
    schedule_digests(context.application, at)
    what = msg.SUBSCRIBED_KEYWORDS.format(keywords=keywords) if keywords else msg.SUBSCRIBED_ALL
    await message.reply_text(html.escape(msg.SUBSCRIBED.format(id=sub.id, at=at, what=what)))


async def on_subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = _runtime(context)
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    text, markup = _subscriptions_view(runtime, chat.id)
    await message.reply_text(text, reply_markup=markup)


def _subscriptions_view(runtime: BotRuntime, chat_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    subs = Subscriptions(runtime.service.store).of_chat(chat_id)
    if not subs:
        return html.escape(msg.SUBSCRIPTIONS_NONE), None
    lines = [msg.SUBSCRIPTIONS_HEADER]
    rows = []
    for sub in subs:
        what = msg.SUBSCRIBED_KEYWORDS.format(keywords=sub.keywords) if sub.keywords else msg.SUBSCRIBED_ALL
        lines.append(html.escape(msg.SUBSCRIPTION_LINE.format(id=sub.id, at=sub.at, what=what)))
        row = [InlineKeyboardButton(msg.SUBSCRIPTION_DELETE.format(id=sub.id), callback_data=f"s:d:{sub.id}")]
        for at in ("07:00", "12:00", "20:00"):
            if at != sub.at:
                row.append(
                    InlineKeyboardButton(
                        msg.SUBSCRIPTION_TIME.format(id=sub.id, at=at),
                        callback_data=f"s:t:{sub.id}:{at.replace(':', '')}",
                    )
                )
        rows.append(row)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def on_unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = _runtime(context)
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or not await _may_manage_subscriptions(update, context):
        return
    subs = Subscriptions(runtime.service.store)
    mine = subs.of_chat(chat.id)
    wanted = [a.lstrip("#") for a in (context.args or [])]
    chosen = mine if not wanted or wanted == ["all"] else [s for s in mine if str(s.id) in wanted]
    if not chosen:
        await message.reply_text(msg.UNSUBSCRIBE_NONE)
        return
    for sub in chosen:
        subs.end(sub.id, "unsubscribed")
    await message.reply_text(msg.UNSUBSCRIBED.format(ids="、".join(f"#{s.id}" for s in chosen)))


async def on_trend(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = _runtime(context)
    message = update.effective_message
    if message is None:
        return
    args = list(context.args or [])
    days = 30
    if args and args[-1] in ("30", "90"):
        days = int(args.pop())
    keyword = " ".join(args).strip()[:50]
    if not keyword:
        await message.reply_text(msg.TREND_USAGE)
        return
    today = runtime.now().astimezone(runtime.settings.tz).date()
    series = await asyncio.to_thread(runtime.service.trend, keyword, days, today)
    total = sum(c for _, c in series)
    if not total:
        await message.reply_text(html.escape(msg.TREND_NONE.format(days=days, keyword=keyword)))
        return
    png = await asyncio.to_thread(trend_png, series)
    caption = msg.TREND_CAPTION.format(
        keyword=keyword, days=days, first=series[0][0], last=series[-1][0], total=total
    )
    await message.reply_photo(png, caption=html.escape(caption))


_SUBSCRIPTION_BUTTON = re.compile(r"s:(?:d:(\d{1,12})|t:(\d{1,12}):((?:[01]\d|2[0-3])[0-5]\d))", re.ASCII)


async def _subscription_button(
    update: Update, query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, data: str
) -> None:
    runtime = _runtime(context)
    message = query.message if isinstance(query.message, Message) else None
    match = _SUBSCRIPTION_BUTTON.fullmatch(data)  # anything else is stale or forged
    subs = Subscriptions(runtime.service.store)
    sub = subs.get(int(match.group(1) or match.group(2))) if match else None
    if match is None or message is None or sub is None or not sub.active or sub.chat_id != message.chat.id:
        await query.answer(msg.SESSION_EXPIRED, show_alert=True)
        return
    if not await _may_manage_subscriptions(update, context, reply=False):
        await query.answer(msg.SUBSCRIBE_GROUP_ADMINS, show_alert=True)
        return
    if match.group(1):
        subs.end(sub.id, "unsubscribed")
        await query.answer(msg.UNSUBSCRIBED.format(ids=f"#{sub.id}"))
    else:
        at = f"{match.group(3)[:2]}:{match.group(3)[2:]}"
        subs.set_time(sub.id, at)
        schedule_digests(context.application, at)
        await query.answer(msg.SUBSCRIPTION_MOVED.format(id=sub.id, at=at))
    text, markup = _subscriptions_view(runtime, message.chat.id)
    await _edit(message, text, markup)


# --- questions ---------------------------------------------------------------------------------------


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Answer ``question`` in the chat of ``update``: rate limit, length check, compose, reply with buttons."""
    runtime = _runtime(context)
    question = clean_text(question)
    message = update.effective_message
    chat = update.effective_chat
    user = update.effective_user
    if message is None or chat is None:
        return
    if user is not None and not runtime.limiter.allow(user.id, runtime.clock()):
        await message.reply_text(msg.RATE_LIMITED.format(limit=runtime.settings.rate_limit_per_minute))
        return
    started = time.perf_counter()
    try:
        # Off the event loop: composing takes milliseconds, but no one's /start should wait for them.
        answer = await asyncio.to_thread(runtime.service.ask, question)
    except QuestionTooLong as exc:
        await message.reply_text(msg.QUESTION_TOO_LONG.format(length=exc.length, limit=exc.limit))
        return
    latency = (time.perf_counter() - started) * 1000
    now = utc_now()
    query_id = runtime.state.log_question(now, question.strip(), chat.type, answer.answered, latency)
    token = runtime.state.save_session(
        chat.id, query_id, json.dumps(answer_json(answer), ensure_ascii=False), now
    )
    await message.reply_text(render_telegram(answer, 0), reply_markup=answer_keyboard(answer, token, 0))


def answer_keyboard(answer: Answer, token: str, page: int) -> InlineKeyboardMarkup | None:
    if not answer.answered:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    passages = answer.page(page)
    if passages:
        rows.append(
            [
                InlineKeyboardButton(
                    msg.FULL_TEXT_N.format(n=i + 1) if len(passages) > 1 else msg.FULL_TEXT,
                    callback_data=f"a:{p.source.article_id}:0",
                )
                for i, p in enumerate(passages)
            ]
        )
    nav = [
        InlineKeyboardButton("👍", callback_data=f"f:{token}:+"),
        InlineKeyboardButton("👎", callback_data=f"f:{token}:-"),
    ]
    if page > 0:
        nav.append(InlineKeyboardButton(msg.PREVIOUS, callback_data=f"p:{token}:{page - 1}"))
    if page + 1 < answer.pages:
        nav.append(InlineKeyboardButton(msg.MORE, callback_data=f"p:{token}:{page + 1}"))
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


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


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message and message.text:
        command = message.text.split()[0].split("@")[0][:32]
        await message.reply_text(html.escape(msg.UNKNOWN_COMMAND.format(command=command)))


async def on_not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(msg.NOT_TEXT)


# --- commands ----------------------------------------------------------------------------------------


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = _runtime(context)
    if update.effective_message is None:
        return
    articles = runtime.service.store.stats()["articles"]
    buttons = [[InlineKeyboardButton(q, callback_data=f"q:{i}")] for i, q in enumerate(msg.EXAMPLES)]
    await update.effective_message.reply_text(
        html.escape(msg.START.format(articles=articles)), reply_markup=InlineKeyboardMarkup(buttons)
    )


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(
            msg.HELP.format(username=html.escape(context.bot.username or "bot"))
        )


async def on_latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = _runtime(context)
    if update.effective_message is None:
        return
    articles = runtime.service.latest(10)
    if not articles:
        await update.effective_message.reply_text(msg.LATEST_EMPTY)
        return
    lines = [msg.LATEST_HEADER]
    for i, a in enumerate(articles, start=1):
        lines.append(f"{i}. {html.escape(headline_of(a.headline, a.headline_derived))} · {a.day} · #{a.id}")
    buttons = [
        InlineKeyboardButton(str(i), callback_data=f"a:{a.id}:0") for i, a in enumerate(articles, start=1)
    ]
    keyboard = InlineKeyboardMarkup([buttons[i : i + 5] for i in range(0, len(buttons), 5)])
    await update.effective_message.reply_text("\n".join(lines), reply_markup=keyboard)


async def on_article_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    ref = " ".join(context.args or []).strip()
    if not ref:
        await message.reply_text(msg.ARTICLE_USAGE)
        return
    await _send_article(message, _runtime(context), ref)


async def _send_article(message: Message, runtime: BotRuntime, ref: str) -> None:
    article = runtime.service.article(ref)
    if article is None:
        await message.reply_text(html.escape(msg.ARTICLE_NOT_FOUND.format(ref=ref[:40])))
        return
    pages = article_pages(article)
    await message.reply_text(pages[0], reply_markup=_article_keyboard(article.id, 0, len(pages)))


def _article_keyboard(article_id: int, page: int, pages: int) -> InlineKeyboardMarkup | None:
    if pages <= 1:
        return None
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(msg.PREVIOUS, callback_data=f"a:{article_id}:{page - 1}"))
    nav.append(InlineKeyboardButton(f"{page + 1}/{pages}", callback_data=f"a:{article_id}:{page}"))
    if page + 1 < pages:
        nav.append(InlineKeyboardButton(msg.NEXT, callback_data=f"a:{article_id}:{page + 1}"))
    return InlineKeyboardMarkup([nav])


async def _admin_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> BotRuntime | None:
    runtime = _runtime(context)
    user = update.effective_user
    if runtime.is_admin(user.id if user else None):
        return runtime
    if update.effective_message:
        await update.effective_message.reply_text(msg.ADMIN_ONLY)
    return None


async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = await _admin_only(update, context)
    if runtime is None or update.effective_message is None:
        return
    stats = runtime.service.store.stats()
    midnight = (
        runtime.now().astimezone(runtime.settings.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    today = runtime.state.questions_since(midnight.astimezone(dt.UTC).isoformat(timespec="seconds"))
    share = f"{today['answered'] / today['questions']:.0%}" if today["questions"] else "—"
    await update.effective_message.reply_text(
        msg.STATS.format(
            articles=stats["articles"],
            paragraphs=stats["paragraphs"],
            questions=today["questions"],
            answered_share=share,
            helpful=today["helpful"],
            not_helpful=today["not_helpful"],
            subscribers=runtime.state.subscriber_count(),
            blocked=runtime.state.blocked_count(),
        )
    )


async def on_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = await _admin_only(update, context)
    if runtime is None or update.effective_message is None:
        return

    def reload() -> int:
        with Store(runtime.settings.db) as store:
            return runtime.service.searcher.manager.reload(store).n_paragraphs

    paragraphs = await asyncio.to_thread(reload)
    await update.effective_message.reply_text(msg.RELOADED.format(paragraphs=paragraphs))


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin's .txt/.md/.jsonl upload is downloaded, ingested and indexed without a restart."""
    runtime = await _admin_only(update, context)
    message = update.effective_message
    if runtime is None or message is None or message.document is None:
        return
    document = message.document
    name = safe_file_name(document.file_name or "upload.txt")
    if not name.lower().endswith(_UPLOAD_SUFFIXES):
        await message.reply_text(msg.UPLOAD_TYPE)
        return
    limit = runtime.settings.max_upload_bytes
    if document.file_size and document.file_size > limit:
        await message.reply_text(
            msg.UPLOAD_TOO_BIG.format(size=_megabytes(document.file_size), limit=_megabytes(limit))
        )
        return
    await message.reply_text(msg.UPLOAD_RECEIVED)
    folder = runtime.settings.uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    file = await document.get_file()
    data = await file.download_as_bytearray()
    if len(data) > limit:
        await message.reply_text(
            msg.UPLOAD_TOO_BIG.format(size=_megabytes(len(data)), limit=_megabytes(limit))
        )
        return
    target.write_bytes(bytes(data))
    reply = await asyncio.to_thread(_ingest_upload, runtime, target, name)
    await message.reply_text(html.escape(reply))


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f}" if size < 10_000_000 else f"{size / 1e6:.0f}"


def safe_file_name(name: str) -> str:
    """A file name that stays inside the uploads folder: no folders, no dots in front, tame characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\-]+", "_", base).lstrip(".")
    return base[-120:] or "upload.txt"


def _ingest_upload(runtime: BotRuntime, path: Path, name: str) -> str:
    with Store(runtime.settings.db) as store:
        result = ingest_file(store, path, now=utc_now(), key=f"upload:{name}", name=name)
        if result.status in ("added", "replaced"):
            runtime.service.searcher.manager.refresh(store)
    if result.status == "unchanged":
        return msg.UPLOAD_UNCHANGED.format(name=name)
    if result.status in ("skipped", "failed"):
        reason = result.problems[0].message if result.problems else result.status
        return msg.UPLOAD_FAILED.format(name=name, reason=reason)
    lines = [
        msg.UPLOAD_DONE.format(
            name=name,
            articles=result.articles,
            paragraphs=result.paragraphs,
            status=msg.STATUS_NAMES[result.status],
        )
    ]
    if result.problems:
        lines.append(msg.UPLOAD_PROBLEMS.format(count=len(result.problems)))
        lines += [f"• {(p.line and f'第{p.line}行：') or ''}{p.message}" for p in result.problems[:5]]
    return "\n".join(lines)


# --- buttons -----------------------------------------------------------------------------------------


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    runtime = _runtime(context)
    if (query.data or "").startswith("s:"):
        await _subscription_button(update, query, context, query.data or "")
        return
    match = _CALLBACK.match(query.data or "")
    message = query.message if isinstance(query.message, Message) else None
    if match is None or message is None:
        await query.answer(msg.SESSION_EXPIRED, show_alert=True)
        return
    kind = next(g for g in (match.group(1), match.group(4), match.group(7), match.group(10)) if g)
    if kind == "a":
        await query.answer()
        await _article_page(message, runtime, int(match.group(8)), int(match.group(9)))
        return
    if kind == "q":
        await query.answer()
        index = int(match.group(11))
        if index < len(msg.EXAMPLES):
            await answer_question(update, context, msg.EXAMPLES[index])
        return
    token = match.group(2) or match.group(5)
    session = runtime.state.session(token)
    if session is None or session.chat_id != message.chat.id:  # unknown, pruned, or from another chat
        await query.answer(msg.SESSION_EXPIRED, show_alert=True)
        return
    if kind == "f":
        if session.query_id is not None:
            runtime.state.set_feedback(session.query_id, 1 if match.group(6) == "+" else -1)
        await query.answer(msg.THANKS_FEEDBACK)
        return
    answer = answer_from_json(json.loads(session.answer))
    page = int(match.group(3))
    await query.answer()
    if page >= answer.pages:
        return
    await _edit(message, render_telegram(answer, page), answer_keyboard(answer, token, page))


async def _article_page(message: Message, runtime: BotRuntime, article_id: int, page: int) -> None:
    article = runtime.service.article(str(article_id))
    if article is None:
        await message.reply_text(html.escape(msg.ARTICLE_NOT_FOUND.format(ref=article_id)))
        return
    pages = article_pages(article)
    page = min(page, len(pages) - 1)
    keyboard = _article_keyboard(article_id, page, len(pages))
    if _is_article_message(message, article_id):
        await _edit(message, pages[page], keyboard)
    else:
        await message.reply_text(pages[page], reply_markup=keyboard)


def _is_article_message(message: Message, article_id: int) -> bool:
    """Whether ``message`` is a page of this article (a pager: page counter, all buttons page it), so paging
    edits it in place. A digest or /latest listing this one article is not: it must stay as it is."""
    buttons = [b for row in message.reply_markup.inline_keyboard for b in row] if message.reply_markup else []
    return any(re.fullmatch(r"\d+/\d+", b.text) for b in buttons) and all(
        str(b.callback_data).startswith(f"a:{article_id}:") for b in buttons
    )


async def _edit(message: Message, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_text(text, reply_markup=keyboard)
    except BadRequest as exc:
        reason = str(exc).lower()
        if "not modified" in reason:  # pressing the same button twice changes nothing
            return
        if "message to edit not found" in reason or "can't be edited" in reason:
            # The user deleted the message (or it can no longer be edited): what they asked for comes new.
            await message.get_bot().send_message(message.chat_id, text, reply_markup=keyboard)
            return
        raise


# --- inline mode -------------------------------------------------------------------------------------


async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.inline_query
    if query is None:
        return
    runtime = _runtime(context)
    text = query.query.strip()
    results: list[InlineQueryResultArticle] = []
    if not text:
        for a in runtime.service.latest(_INLINE_RESULTS):
            first = next(
                (p.text for p in (runtime.service.article(str(a.id)) or a).paragraphs if p.kind == "body"), ""
            )
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
    else:
        user = query.from_user
        # Telegram sends an inline query per keystroke: they have their own allowance, so typing one
        # inline question does not use up the user's questions in private chats.
        if not runtime.inline_limiter.allow(user.id, runtime.clock()):
            await query.answer([], cache_time=5, is_personal=True)
            return
        answer = await asyncio.to_thread(runtime.service.ask, text[: runtime.settings.max_question_chars])
        for i, p in enumerate(answer.passages[:_INLINE_RESULTS] if answer.answered else ()):
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


# --- errors ------------------------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the traceback; tell the user something short; record chats that blocked the bot."""
    error = context.error
    chat_id = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
    if isinstance(error, Forbidden):
        if chat_id is not None:
            _runtime(context).state.mark_blocked(chat_id, utc_now(), "forbidden")
        log.warning("chat %s blocked the bot or is gone", chat_id)
        return
    log.error("error while handling an update", exc_info=error)
    if isinstance(error, RetryAfter | TelegramError) and not isinstance(error, BadRequest):
        return  # the network or Telegram itself: an apology would fail the same way
    if chat_id is not None:
        try:
            await context.bot.send_message(chat_id, msg.APOLOGY)
        except TelegramError:
            log.warning("could not send the apology to chat %s", chat_id)


# --- running -----------------------------------------------------------------------------------------


def run_bot(settings: Settings, service: NewsService) -> None:
    """Run until interrupted: long polling, or a webhook when ``settings.webhook_url`` is set."""
    app = build_application(settings, service)
    if settings.webhook_url:
        if not settings.webhook_secret:
            raise ValueError("webhook mode needs NEWSBOT_WEBHOOK_SECRET (a secret Telegram sends back to us)")
        url_path = "telegram"
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=url_path,
            webhook_url=settings.webhook_url.rstrip("/") + "/" + url_path,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
