"""Operators' commands, for the ids in ``NEWSBOT_ADMINS`` only: /stats, /reload, and uploading an article
file (.txt/.md/.jsonl/.jsonl.gz) that is ingested and indexed without a restart. Others get one line that
reveals nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler, filters

from corpus import FileResult

from .. import messages as msg
from ..service import iso
from .runtime import BotRuntime, runtime_of

__all__ = ["handlers", "safe_file_name"]

UPLOAD_SUFFIXES = (".txt", ".md", ".jsonl", ".jsonl.gz")


def handlers(only_new: filters.BaseFilter) -> list[BaseHandler[Any, Any, Any]]:
    return [
        CommandHandler("stats", on_stats, filters=only_new),
        CommandHandler("reload", on_reload, filters=only_new),
        MessageHandler(only_new & filters.ChatType.PRIVATE & filters.Document.ALL, on_document),
    ]


async def _admin_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> BotRuntime | None:
    runtime = runtime_of(context)
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
    stats = runtime.service.stats()
    midnight = dt.datetime.combine(runtime.service.today(), dt.time(), tzinfo=runtime.settings.tz)
    today = runtime.state.questions_since(iso(midnight))
    share = f"{today['answered'] / today['questions']:.0%}" if today["questions"] else "—"
    cluster = (
        msg.STATS_CLUSTER.format(
            shards=stats["shards"], searches=stats["sharded_searches"], partial=stats["partial_searches"]
        )
        if "partial_searches" in stats
        else ""
    )
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
        + cluster
    )


async def on_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    runtime = await _admin_only(update, context)
    if runtime is None or update.effective_message is None:
        return
    paragraphs = await asyncio.to_thread(runtime.service.reload)
    await update.effective_message.reply_text(msg.RELOADED.format(paragraphs=paragraphs))


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An admin's upload is downloaded, ingested and indexed without a restart."""
    runtime = await _admin_only(update, context)
    message = update.effective_message
    if runtime is None or message is None or message.document is None:
        return
    document = message.document
    name = safe_file_name(document.file_name or "upload.txt")
    if not name.lower().endswith(UPLOAD_SUFFIXES):
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
    result = await asyncio.to_thread(runtime.service.ingest_upload, target, name)
    await message.reply_text(html.escape(upload_report(result, name)))


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f}" if size < 10_000_000 else f"{size / 1e6:.0f}"


def safe_file_name(name: str) -> str:
    """A file name that stays inside the uploads folder: no folders, no dots in front, tame characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\-]+", "_", base).lstrip(".")
    return base[-120:] or "upload.txt"


def upload_report(result: FileResult, name: str) -> str:
    """What became of an upload, in the admin's words: added/replaced with counts, or why not."""
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
