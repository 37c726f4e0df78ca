"""What every handler shares: the runtime kept in ``bot_data`` and the one way to edit a message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from corpus.botstate import BotState

from .. import messages as msg
from ..config import Settings
from ..limits import RateLimiter
from ..service import NewsService
from .callbacks import CallbackData

__all__ = ["INLINE_PER_MINUTE", "BotRuntime", "edit", "expired", "pressed", "runtime_of"]

B = TypeVar("B", bound=CallbackData)
INLINE_PER_MINUTE = 120  # inline queries per user per minute: one a keystroke, so well above questions


@dataclass
class BotRuntime:
    """Settings, the service (the wall clock too: ``service.now()``) and the rate limiters, which count
    on ``monotonic`` so that a change of the system time cannot lift or stretch a limit."""

    settings: Settings
    service: NewsService
    limiter: RateLimiter
    inline_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(INLINE_PER_MINUTE))
    monotonic: Callable[[], float] = time.monotonic
    username: str = ""
    # Broadcasts take turns: each sends every pending digest, so two at once would send some twice.
    digests: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def state(self) -> BotState:
        return self.service.state

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admins


def runtime_of(context: ContextTypes.DEFAULT_TYPE) -> BotRuntime:
    runtime: BotRuntime = context.application.bot_data["runtime"]
    return runtime


async def edit(message: Message, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Show ``text`` in place of ``message`` (a new message when that one is gone or too old to edit)."""
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


async def expired(query: CallbackQuery) -> None:
    """The answer to a button whose data no handler can use (stale, forged, another chat's; and empty
    data, which PTB routes to the first pattern handler): one alert, nothing else."""
    await query.answer(msg.SESSION_EXPIRED, show_alert=True)


async def pressed(update: Update, kind: type[B]) -> tuple[CallbackQuery, B] | None:
    """The query and the button of ``kind`` that was pressed; None (after the expired alert) when the
    data is not such a button."""
    query = update.callback_query
    if query is None:
        return None
    button = kind.parse(query.data)
    if button is None:
        await expired(query)
        return None
    return query, button
