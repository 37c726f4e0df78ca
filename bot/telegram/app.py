"""The Telegram front end's application: built once, wired to the service, run by polling or webhook.

One module per feature exports its handlers (``questions``, ``articles``, ``digests``, ``timelines``,
``subscriptions``, ``admin``, ``inline``); this one adds what is everyone's: Telegram's rate limits with
retries of transient failures, the filter that keeps the token out of the logs, the index refresh and
prune jobs, the replies to what no feature handles, and the error handler.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from .. import messages as msg
from ..config import Settings, parse_hhmm
from ..limits import RateLimiter
from ..service import NewsService, iso
from . import admin, articles, digests, inline, questions, subscriptions, timelines
from .runtime import BotRuntime, expired, runtime_of

__all__ = ["build_application", "run_bot"]

log = logging.getLogger(__name__)
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
    app.bot_data["runtime"] = BotRuntime(settings, service, RateLimiter(settings.rate_limit_per_minute))
    only_new = filters.UpdateType.MESSAGE  # edits of old questions are not answered again
    for handler in [
        *questions.handlers(only_new),
        *articles.handlers(only_new),
        *digests.handlers(only_new),
        *timelines.handlers(only_new),
        *subscriptions.handlers(only_new),
        *admin.handlers(only_new),
        *inline.handlers(),
        # After every feature: what none of them handles.
        MessageHandler(only_new & filters.ChatType.PRIVATE & filters.COMMAND, on_unknown_command),
        MessageHandler(
            only_new & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.Document.ALL, on_not_text
        ),
        CallbackQueryHandler(on_stale_button),
    ]:
        app.add_handler(handler)
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
        for at in runtime.service.subscriptions.times():
            time_of_day = parse_hhmm(at)
            if time_of_day is not None:
                digests.schedule_digests(app, time_of_day)
        digests.resume_digests(app)


def _prune(runtime: BotRuntime) -> None:
    now = runtime.service.now()
    sessions_before = iso(now - dt.timedelta(hours=runtime.settings.session_ttl_hours))
    days = runtime.settings.query_log_days
    runtime.state.prune(sessions_before, iso(now - dt.timedelta(days=days)) if days else None)


async def _prune_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    _prune(runtime_of(context))


async def _refresh_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pick up articles another process (``newsbot ingest``) added since the index was loaded."""
    await asyncio.to_thread(runtime_of(context).service.refresh)


# --- what no feature handles -------------------------------------------------------------------------


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message and message.text:
        command = message.text.split()[0].split("@")[0][:32]
        await message.reply_text(html.escape(msg.UNKNOWN_COMMAND.format(command=command)))


async def on_not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(msg.NOT_TEXT)


async def on_stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Button data no feature reads (forged, or from an older bot): the same alert as an expired answer."""
    if update.callback_query is not None:
        await expired(update.callback_query)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the traceback; tell the user something short; record chats that blocked the bot."""
    error = context.error
    chat_id = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
    if isinstance(error, Forbidden):
        if chat_id is not None:
            runtime_of(context).state.mark_blocked(
                chat_id, iso(runtime_of(context).service.now()), "forbidden"
            )
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
