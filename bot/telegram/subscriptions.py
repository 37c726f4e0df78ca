"""Digest subscriptions: /subscribe [HH:MM] [keywords], /subscriptions (with delete and move buttons),
/unsubscribe. In groups only the group's administrators (or the bot's admins) manage them."""

from __future__ import annotations

import html
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from .. import messages as msg
from ..config import parse_hhmm
from ..service import SubscriptionLimit, clean_text
from .callbacks import EndSubscription, MoveSubscription
from .digests import schedule_digests
from .keyboards import subscriptions_keyboard
from .runtime import BotRuntime, edit, expired, runtime_of

__all__ = ["handlers"]


def handlers(only_new: filters.BaseFilter) -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("subscribe", on_subscribe, filters=only_new),
        CommandHandler("subscriptions", on_subscriptions, filters=only_new),
        CommandHandler("unsubscribe", on_unsubscribe, filters=only_new),
        CallbackQueryHandler(on_subscription_button, pattern=EndSubscription.PATTERN),
        CallbackQueryHandler(on_subscription_button, pattern=MoveSubscription.PATTERN),
    ]


async def may_manage(update: Update, context: ContextTypes.DEFAULT_TYPE, *, reply: bool = True) -> bool:
    """In groups only the group's administrators (or the bot's admins) manage its subscriptions."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    if chat.type == ChatType.PRIVATE or runtime_of(context).is_admin(user.id):
        return True
    member = await context.bot.get_chat_member(chat.id, user.id)
    if member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
        return True
    if reply and update.effective_message:
        await update.effective_message.reply_text(msg.SUBSCRIBE_GROUP_ADMINS)
    return False


async def on_subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = runtime_of(context)
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or not await may_manage(update, context):
        return
    args = list(context.args or [])
    at = parse_hhmm(runtime.settings.digest_default_time)
    if args and args[0][:1].isdigit():  # a time first (keywords do not start with a digit)
        at = parse_hhmm(args.pop(0))
        if at is None:
            await message.reply_text(
                html.escape(msg.SUBSCRIBE_BAD_TIME.format(text=(context.args or [""])[0][:10]))
            )
            return
    assert at is not None  # the default time is checked when the settings are loaded
    keywords = clean_text(" ".join(dict.fromkeys(a.strip()[:30] for a in args if a.strip()))[:200])
    try:
        sub = runtime.service.subscribe(chat.id, f"{at:%H:%M}", keywords)
    except SubscriptionLimit as exc:
        await message.reply_text(msg.SUBSCRIBE_LIMIT.format(limit=exc.limit))
        return
    schedule_digests(context.application, at)
    what = msg.SUBSCRIBED_KEYWORDS.format(keywords=keywords) if keywords else msg.SUBSCRIBED_ALL
    await message.reply_text(html.escape(msg.SUBSCRIBED.format(id=sub.id, at=sub.at, what=what)))


async def on_subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    text, markup = _listing(runtime_of(context), chat.id)
    await message.reply_text(text, reply_markup=markup)


async def on_unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or not await may_manage(update, context):
        return
    ended = runtime_of(context).service.unsubscribe(chat.id, list(context.args or []))
    if not ended:
        await message.reply_text(msg.UNSUBSCRIBE_NONE)
        return
    await message.reply_text(msg.UNSUBSCRIBED.format(ids="、".join(f"#{s.id}" for s in ended)))


async def on_subscription_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    button = EndSubscription.parse(query.data) or MoveSubscription.parse(query.data)
    message = query.message if isinstance(query.message, Message) else None
    runtime = runtime_of(context)
    sub = runtime.service.subscriptions.get(button.subscription_id) if button else None
    if button is None or message is None or sub is None or not sub.active or sub.chat_id != message.chat.id:
        await expired(query)  # stale, forged, or another chat's
        return
    if not await may_manage(update, context, reply=False):
        await query.answer(msg.SUBSCRIBE_GROUP_ADMINS, show_alert=True)
        return
    if isinstance(button, EndSubscription):
        runtime.service.unsubscribe(message.chat.id, [str(sub.id)])
        await query.answer(msg.UNSUBSCRIBED.format(ids=f"#{sub.id}"))
    else:
        at = f"{button.at:%H:%M}"
        runtime.service.subscriptions.set_time(sub.id, at)
        schedule_digests(context.application, button.at)
        await query.answer(msg.SUBSCRIPTION_MOVED.format(id=sub.id, at=at))
    text, markup = _listing(runtime, message.chat.id)
    await edit(message, text, markup)


def _listing(runtime: BotRuntime, chat_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    subs = runtime.service.subscriptions.of_chat(chat_id)
    if not subs:
        return html.escape(msg.SUBSCRIPTIONS_NONE), None
    lines = [msg.SUBSCRIPTIONS_HEADER]
    for sub in subs:
        what = msg.SUBSCRIBED_KEYWORDS.format(keywords=sub.keywords) if sub.keywords else msg.SUBSCRIBED_ALL
        lines.append(html.escape(msg.SUBSCRIPTION_LINE.format(id=sub.id, at=sub.at, what=what)))
    return "\n".join(lines), subscriptions_keyboard(subs)
