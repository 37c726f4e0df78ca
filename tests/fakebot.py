"""A fake Telegram Bot API server for end-to-end tests of the python-telegram-bot (v22) bot.

Standard library only. The server runs ``http.server.ThreadingHTTPServer`` on 127.0.0.1 in a
background thread and speaks the Bot API's wire format, so the *real* PTB ``Application`` can run
against it over real HTTP::

    with FakeBotAPI() as fake:
        app = (
            ApplicationBuilder()
            .token(fake.token)
            .base_url(fake.base_url)
            .base_file_url(fake.base_file_url)
            .build()
        )
        ...
        fake.send_text(42, "/start")                       # act as a user (queued for getUpdates)
        record = await fake.wait_for("sendMessage", chat_id=42)
        assert record.plain_text == "Welcome!"

What it does:

* requests: JSON bodies, ``application/x-www-form-urlencoded`` (what PTB sends: every value
  JSON-encoded, strings raw), ``multipart/form-data`` uploads and query strings; method names are
  case-insensitive like Telegram's; a wrong token gets 401 Unauthorized;
* realistic results for getMe, getUpdates (long polling with offset/limit/timeout/allowed_updates,
  409 when a second poll terminates the first or a webhook is set), set/get/deleteMyCommands,
  set/delete/getWebhookInfo, sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage,
  answerCallbackQuery, answerInlineQuery, sendChatAction, sendPhoto, sendDocument, getFile + file
  download, getChatMember; anything else is recorded and answered ``{"ok": true, "result": true}``;
* Telegram's validation where it matters: message length (UTF-16 code units, after entity parsing
  and trimming), empty text, caption length, callback_data size, Telegram's HTML subset, "message
  is not modified", unknown callback/inline query ids, bot command names;
* records of everything the bot did (``sent``/``calls``/``messages()``) and waits on them
  (``wait_for`` async, ``wait_for_sync`` for threads) without busy loops;
* user-side helpers that queue updates (text, commands, button presses, documents, photos,
  stickers, inline queries, raw updates);
* fault injection per method (HTTP errors incl. 429 with retry_after, slow responses, dropped
  connections) and a global outage (``down()``/``up()``).

All shared state lives behind one lock; handler threads and test code only touch it while
holding that lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import os
import re
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, overload

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_USER_ID",
    "ApiError",
    "FakeBotAPI",
    "SentRecord",
    "UploadedFile",
    "parse_html",
    "tiny_png",
    "utf16_len",
]

DEFAULT_TOKEN = "7012345678:AAFakeTokenForEndToEndTests-0123456789"
DEFAULT_USER_ID = 1001  # who talks in groups when no user_id is given

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_INLINE_RESULTS = 50
MAX_DOWNLOAD = 20 * 1024 * 1024

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"

_STATUS_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: CONFLICT_POLL,
    500: "Internal Server Error",
    502: "Bad Gateway",
}
# What nginx in front of the Bot API answers on a 502: not JSON (PTB must cope with that).
_BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Update types delivered when allowed_updates was never set or set to [] (Bot API docs).
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_MESSAGE_METHODS = frozenset({"sendMessage", "editMessageText", "sendPhoto"})
_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")

# Form values are strings; these tell how to turn them back into what the bot meant.
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "user_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "message_thread_id",
        "reply_to_message_id",
        "cache_time",
        "max_connections",
        "until_date",
        "duration",
        "width",
        "height",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "disable_web_page_preview",
        "drop_pending_updates",
        "show_alert",
        "is_personal",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "revoke_messages",
        "only_if_banned",
        "show_caption_above_media",
        "allow_paid_broadcast",
        "for_channels",
    }
)
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "url",
        "file_id",
        "action",
        "language_code",
        "next_offset",
        "emoji",
        "business_connection_id",
        "secret_token",
        "ip_address",
        "description",
        "short_description",
        "name",
        "title",
        "photo",
        "document",
        "sticker",
        "animation",
        "video",
        "audio",
        "voice",
        "thumbnail",
        "message_effect_id",
        "custom_title",
        "switch_pm_text",
        "switch_pm_parameter",
    }
)


# --------------------------------------------------------------------------- errors and records


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": status, "description": ...}``."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class _Drop(Exception):
    """Close the connection without answering."""


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart upload, bytes as received."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class SentRecord:
    """One Bot API call made by the bot (see ``FakeBotAPI.sent`` and ``FakeBotAPI.calls``)."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int = 200  # HTTP status answered; 0 = connection dropped without an answer
    ok: bool = True
    error: str | None = None  # the error description when not ok
    result: Any = None  # the "result" answered
    chat_id: int | str | None = None
    text: str | None = None  # raw text (or caption, or callback answer text) as sent
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None  # parsed JSON
    message: dict[str, Any] | None = None  # the Message answered, if any
    plain_text: str | None = None  # text after entity parsing: tags stripped, entities unescaped
    entities: list[dict[str, Any]] = field(default_factory=list)  # entities of plain_text
    unknown: bool = False  # handled by the generic fallback
    at: float = 0.0  # time.monotonic() when received

    @property
    def message_id(self) -> int | None:
        return None if self.message is None else int(self.message["message_id"])

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard buttons of ``reply_markup``, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def __repr__(self) -> str:
        bits = [self.method, f"status={self.status}"]
        if self.chat_id is not None:
            bits.append(f"chat_id={self.chat_id!r}")
        if self.plain_text is not None or self.text is not None:
            shown = self.plain_text if self.plain_text is not None else self.text or ""
            bits.append(f"text={shown[:60]!r}")
        if self.error:
            bits.append(f"error={self.error!r}")
        return f"SentRecord({', '.join(bits)})"


@dataclass
class _Fault:
    kind: str  # "fail" | "delay" | "drop"
    remaining: int
    status: int = 0
    description: str = ""
    retry_after: int | None = None
    seconds: float = 0.0
    after_processing: bool = False


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None


# --------------------------------------------------------------------------- text helpers


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_SIMPLE_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\n\r\f\v"
_STRICT_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]*));")
_LENIENT_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|(lt|gt|amp|quot));?")


def _entity_error(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {message}")


def _decode_entity(text: str, i: int, strict: bool) -> tuple[str | None, int]:
    """Decode the HTML entity at text[i] == '&'. Returns (char, next index) or (None, i)."""
    m = (_STRICT_ENTITY_RE if strict else _LENIENT_ENTITY_RE).match(text, i)
    if m is None:
        if strict:
            raise _entity_error(
                f"Character '&' at byte offset {_byte_offset(text, i)} must be escaped as &amp; "
                "(only &lt; &gt; &amp; &quot; and numeric entities are supported)"
            )
        return None, i
    dec, hexa, name = m.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            if strict:
                raise _entity_error(
                    f'Unsupported HTML entity "&{name};" at byte offset {_byte_offset(text, i)}'
                )
            return None, i
        return _NAMED_ENTITIES[name], m.end()
    code = int(dec) if dec is not None else int(hexa, 16)
    if 0xD800 <= code <= 0xDFFF:
        raise _entity_error(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    if code == 0 or code > 0x10FFFF:
        if strict:
            raise _entity_error(f"Invalid numeric HTML entity at byte offset {_byte_offset(text, i)}")
        return None, i
    return chr(code), m.end()


def _decode_attribute(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&":
            ch, j = _decode_entity(value, i, strict=False)
            if ch is not None:
                out.append(ch)
                i = j
                continue
        out.append(value[i])
        i += 1
    return "".join(out)


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML subset into (plain text, Bot API MessageEntity dicts).

    Follows tdlib's parser (tags, attributes, error messages with UTF-8 byte offsets; entity
    offsets in UTF-16 units). Raises ApiError(400, "Bad Request: can't parse entities: ...").
    ``strict=True`` additionally rejects '&' that does not start one of &lt; &gt; &amp; &quot;
    or a numeric entity with ';' (real Telegram leaves such text as it is).
    """
    out: list[str] = []
    pos = 0  # UTF-16 offset in the output
    stack: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            ch, j = _decode_entity(text, i, strict)
            if ch is None:
                ch, j = "&", i + 1
            out.append(ch)
            pos += utf16_len(ch)
            i = j
            continue
        if c != "<":
            out.append(c)
            pos += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        boff = _byte_offset(text, begin)
        i += 1
        if i < n and text[i] == "/":  # end tag
            if not stack:
                raise _entity_error(f"Unexpected end tag at byte offset {boff}")
            i += 1
            j = i
            while i < n and text[i] not in _SPACES and text[i] != ">":
                i += 1
            name = text[j:i].lower()
            while i < n and text[i] in _SPACES:
                i += 1
            if i >= n or text[i] != ">":
                raise _entity_error(f"Unclosed end tag at byte offset {boff}")
            i += 1
            top = stack[-1]
            if name and name != top["tag"]:
                raise _entity_error(
                    f'Unmatched end tag at byte offset {boff}, expected "</{top["tag"]}>", found "</{name}>"'
                )
            stack.pop()
            _close_tag(top, pos, stack, entities)
            continue

        # start tag
        while i < n and text[i] not in _SPACES and text[i] != ">":
            i += 1
        if i >= n:
            raise _entity_error(f"Unclosed start tag at byte offset {boff}")
        tag = text[begin + 1 : i].lower()
        if tag not in _HTML_TAGS:
            raise _entity_error(f'Unsupported start tag "{tag}" at byte offset {boff}')
        attrs: dict[str, str] = {}
        while True:
            while i < n and text[i] in _SPACES:
                i += 1
            if i >= n:
                raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {boff}')
            if text[i] == ">":
                i += 1
                break
            attr_begin = i
            while i < n and text[i] not in _SPACES and text[i] not in "=>":
                i += 1
            attr = text[attr_begin:i].lower()
            if not attr:
                raise _entity_error(f'Empty attribute name in the tag "{tag}" at byte offset {boff}')
            while i < n and text[i] in _SPACES:
                i += 1
            if i >= n:
                raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {boff}')
            if text[i] != "=":
                if tag == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise _entity_error(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {boff}'
                )
            i += 1
            while i < n and text[i] in _SPACES:
                i += 1
            if i >= n:
                raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {boff}')
            if text[i] in "\"'":
                quote = text[i]
                end = text.find(quote, i + 1)
                if end < 0:
                    raise _entity_error(f"Unclosed start tag at byte offset {boff}")
                value = _decode_attribute(text[i + 1 : end])
                i = end + 1
            else:
                j = i
                while i < n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
                    i += 1
                if i >= n:
                    raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {boff}')
                if i == j or (text[i] not in _SPACES and text[i] != ">"):
                    raise _entity_error(
                        f"Unexpected end of name token at byte offset {_byte_offset(text, j)}"
                    )
                value = text[j:i]
            attrs[attr] = value
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise _entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {boff}')
        if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise _entity_error("Invalid custom emoji identifier specified")
        stack.append({"tag": tag, "start": pos, "attrs": attrs, "language": None})
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_tag(
    item: dict[str, Any], end: int, stack: list[dict[str, Any]], entities: list[dict[str, Any]]
) -> None:
    tag, start, attrs = item["tag"], item["start"], item["attrs"]
    length = end - start
    if tag == "code" and stack and stack[-1]["tag"] == "pre":
        # <pre><code class="language-x">: the language belongs to the pre entity.
        cls = attrs.get("class", "")
        if cls.startswith("language-") and len(cls) > len("language-"):
            stack[-1]["language"] = cls[len("language-") :]
        return
    if length <= 0:
        return
    entity: dict[str, Any] = {"offset": start, "length": length}
    if tag in _SIMPLE_ENTITY:
        entity["type"] = _SIMPLE_ENTITY[tag]
    elif tag == "a":
        href = attrs.get("href")
        if not href:
            return
        m = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if m:
            entity["type"] = "text_mention"
            entity["user"] = {"id": int(m.group(1)), "is_bot": False, "first_name": f"User {m.group(1)}"}
        else:
            entity["type"] = "text_link"
            entity["url"] = href
    elif tag == "code":
        entity["type"] = "code"
    elif tag == "pre":
        entity["type"] = "pre"
        if item["language"]:
            entity["language"] = item["language"]
    elif tag == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in attrs else "blockquote"
    elif tag == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = attrs["emoji-id"]
    else:  # pragma: no cover - every allowed tag is handled above
        return
    entities.append(entity)


def _strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading/trailing whitespace from message texts; entities move along."""
    stripped = text.strip(" \t\r\n")
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip(" \t\r\n"))])
    size = utf16_len(stripped)
    moved = []
    for entity in entities:
        start = max(0, int(entity["offset"]) - lead)
        end = min(size, int(entity["offset"]) + int(entity["length"]) - lead)
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return stripped, moved


def _auto_entities(text: str) -> list[dict[str, Any]]:
    """The entities a Telegram client would attach: bot commands and @mentions."""
    found = []
    for m in re.finditer(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?", text):
        found.append(("bot_command", m))
    for m in re.finditer(r"(?<![\w@/])@[A-Za-z0-9_]{4,32}", text):
        found.append(("mention", m))
    entities: list[dict[str, Any]] = [
        {"type": kind, "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for kind, m in found
    ]
    entities.sort(key=lambda e: e["offset"])
    return entities


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG of the given size (grey), for photo uploads in tests."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG/JPEG/GIF/WebP/BMP image, or None when it is not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data.startswith(b"BM") and len(data) >= 26:
        w, h = struct.unpack("<ii", data[18:26])
        return abs(int(w)), abs(int(h))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return 512, 512
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (seg,) = struct.unpack(">H", data[i + 2 : i + 4])
            i += 2 + seg
        return 640, 480
    return None


# --------------------------------------------------------------------------- request parsing


def _coerce(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _INT_PARAMS:
        if re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        if key == "timeout" and re.fullmatch(r"\d+(\.\d*)?", value.strip()):
            return float(value)
        return value
    if key in _BOOL_PARAMS:
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0", ""):
            return False
        return value
    if key in _STRING_PARAMS:
        return value
    stripped = value.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from exc
    return value


def _disposition_param(header: str, name: str) -> str | None:
    m = re.search(r"(?:^|;)\s*" + re.escape(name) + r'="((?:[^"\\]|\\.)*)"', header)
    if m is None:
        m = re.search(r"(?:^|;)\s*" + re.escape(name) + r"=([^;\s]+)", header)
        if m is None:
            return None
    value = m.group(1)
    # httpx (HTML5 form encoding) escapes '"' as %22, control characters as %XX and '\' as '\\'.
    value = re.sub(r"%(22|[01][0-9A-Fa-f])", lambda mm: chr(int(mm.group(1), 16)), value)
    return value.replace("\\\\", "\\")


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if m is None:
        raise ApiError(400, "Bad Request: multipart boundary is missing")
    delimiter = b"--" + m.group(1).encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        if part.startswith(b"\r\n"):
            part = part[2:]
        if part.endswith(b"\r\n"):
            part = part[:-2]
        head, _, content = part.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _disposition_param(disposition, "name")
        if name is None:
            continue
        filename = _disposition_param(disposition, "filename")
        if filename is not None:
            files[name] = UploadedFile(
                name, filename, headers.get("content-type", "application/octet-stream"), content
            )
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields, files


# --------------------------------------------------------------------------- HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: nothing idles in a keep-alive read
    timeout = 30  # socket timeout for reading a request from a client that went quiet

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        try:
            self.server.fake._handle_http(self)
        except (OSError, _Drop):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 resets bursts of concurrent requests

    def __init__(self, fake: FakeBotAPI, address: tuple[str, int]):
        self.fake = fake
        self.handlers: dict[threading.Thread, socket.socket] = {}
        self.handlers_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn(), a reverse DNS lookup: skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.fake._stopping:
            self.shutdown_request(request)
            return
        thread = threading.Thread(
            target=self._tracked, args=(request, client_address), name="fakebot-handler", daemon=True
        )
        with self.handlers_lock:
            self.handlers[thread] = request
        thread.start()

    def _tracked(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.handlers_lock:
                self.handlers.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return
        self.fake._server_error(exc)


# --------------------------------------------------------------------------- the fake


class FakeBotAPI:
    """The fake Bot API server. Use as a context manager or call start()/stop()."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        username: str = "newsbot_test_bot",
        first_name: str = "NewsBot Test",
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
        supports_inline_queries: bool = True,
        strict_html: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        bot_id, sep, _ = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.strict_html = strict_html
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": can_join_groups,
            "can_read_all_group_messages": can_read_all_group_messages,
            "supports_inline_queries": supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._host = host
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stop_event = threading.Event()
        self._stopping = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

        self._calls: list[SentRecord] = []
        self._sent: list[SentRecord] = []
        self._server_errors: list[BaseException] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._down_until: float | None = None

        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 100_000_001
        self._last_confirmed = 0
        self._poll_generation = 0
        self._polls_waiting = 0
        self._allowed_updates: list[str] | None = None
        self._webhook: dict[str, Any] = {}

        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._message_counters: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._file_paths: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._query_counter = itertools.count(4_382_001_000_000_000_001)
        self._open_callback_queries: set[str] = set()
        self._open_inline_queries: set[str] = set()
        self._members: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._blocked: set[int | str] = set()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeBotAPI:
        """Bind 127.0.0.1:0 and serve in a background thread. Returns self."""
        if self._server is not None:
            raise RuntimeError("FakeBotAPI already started")
        self._server = _Server(self, (self._host, 0))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fakebot-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; waiting long polls answer at once. Idempotent, never hangs."""
        server = self._server
        if server is None:
            return
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            self._stop_event.set()
            self._notify()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        deadline = time.monotonic() + 1.0
        for forced in (False, True):
            with server.handlers_lock:
                handlers = list(server.handlers.items())
            for thread, sock in handlers:
                if forced:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                thread.join(timeout=max(0.05, deadline - time.monotonic()) if not forced else 1.0)

    @classmethod
    @contextlib.contextmanager
    def running(cls, **kwargs: Any) -> Iterator[FakeBotAPI]:
        """Pytest fixture helper: a started fake plus what PTB tests need, restored afterwards:

        * ``PTB_TIMEDELTA=1``: PTB >= 22.2 issues a PTBDeprecationWarning whenever
          ``RetryAfter.retry_after`` is read - already inside ``RetryAfter.__init__`` - so under
          ``filterwarnings = error`` every 429 would surface as that warning instead;
        * the ``httpx`` logger at WARNING (its INFO lines contain URLs with the token).

        Raises AssertionError on exit if the fake itself failed (``server_errors``)::

            @pytest.fixture
            def fake():
                with FakeBotAPI.running() as server:
                    yield server
        """
        old_env = os.environ.get("PTB_TIMEDELTA")
        httpx_logger = logging.getLogger("httpx")
        old_level = httpx_logger.level
        os.environ["PTB_TIMEDELTA"] = "1"
        httpx_logger.setLevel(max(old_level, logging.WARNING))
        try:
            with cls(**kwargs) as fake:
                yield fake
                if fake.server_errors:
                    raise AssertionError(f"the fake Bot API server failed: {fake.server_errors!r}")
        finally:
            httpx_logger.setLevel(old_level)
            if old_env is None:
                os.environ.pop("PTB_TIMEDELTA", None)
            else:
                os.environ["PTB_TIMEDELTA"] = old_env

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses and identity

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder().base_url(): PTB appends '<token>/<method>'."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ApplicationBuilder().base_file_url(): PTB appends '<token>/<file_path>'."""
        return f"{self.url}/file/bot"

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    @property
    def username(self) -> str:
        return str(self.bot_user["username"])

    # ------------------------------------------------------------------ records

    @property
    def sent(self) -> list[SentRecord]:
        """Successful calls of the bot (all methods but getUpdates), in order; a copy."""
        with self._lock:
            return list(self._sent)

    @property
    def calls(self) -> list[SentRecord]:
        """Every request, including getUpdates, rejected ones and dropped ones; a copy."""
        with self._lock:
            return list(self._calls)

    @property
    def server_errors(self) -> list[BaseException]:
        """Exceptions raised inside the fake itself (answered with 500). Should stay empty."""
        with self._lock:
            return list(self._server_errors)

    def messages(self, chat_id: int | str | None = None) -> list[SentRecord]:
        """Successful sendMessage/editMessageText/sendPhoto records, optionally for one chat."""
        with self._lock:
            return [
                r
                for r in self._sent
                if r.method in _MESSAGE_METHODS and (chat_id is None or r.chat_id == _norm_chat(chat_id))
            ]

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        """plain_text of messages(chat_id)."""
        return [r.plain_text or "" for r in self.messages(chat_id)]

    def mark(self) -> int:
        """Position in ``sent`` now: pass as ``since=`` to wait only for later records."""
        with self._lock:
            return len(self._sent)

    def forget(self) -> None:
        """Drop every record and stored message (long soak runs: the fake's memory is not the bot's).
        Take a new ``mark()`` afterwards."""
        with self._lock:
            self._sent.clear()
            self._calls.clear()
            self._messages.clear()

    def user_deletes(self, chat_id: int | str, message_id: int) -> None:
        """The user deletes a message from the chat (Telegram tells the bot nothing)."""
        with self._lock:
            self._messages.pop((_norm_chat(chat_id), int(message_id)), None)

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """Current state of a stored message (after edits), or None if unknown/deleted."""
        with self._lock:
            msg = self._messages.get((_norm_chat(chat_id), int(message_id)))
            return copy.deepcopy(msg)

    def file_bytes(self, file_id: str) -> bytes:
        """Bytes behind a file_id (uploaded by the bot or registered by a user helper)."""
        with self._lock:
            return self._files[file_id].data

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        """Commands stored by setMyCommands for a scope/language."""
        with self._lock:
            return copy.deepcopy(self._commands.get(_commands_key(scope, language_code), []))

    @property
    def webhook_url(self) -> str:
        with self._lock:
            return str(self._webhook.get("url", ""))

    @property
    def pending_updates(self) -> int:
        """Queued updates not yet confirmed by a later offset."""
        with self._lock:
            return len(self._updates)

    @property
    def polls_waiting(self) -> int:
        """getUpdates requests currently waiting for updates."""
        with self._lock:
            return self._polls_waiting

    # ------------------------------------------------------------------ waiting

    def _matcher(
        self,
        predicate: str | Callable[[SentRecord], bool] | None,
        fields: dict[str, Any],
    ) -> Callable[[SentRecord], bool]:
        if "chat_id" in fields:
            fields = {**fields, "chat_id": _norm_chat(fields["chat_id"])}

        def match(record: SentRecord) -> bool:
            if isinstance(predicate, str) and record.method.lower() != predicate.lower():
                return False
            if callable(predicate) and not predicate(record):
                return False
            return all(getattr(record, key) == value for key, value in fields.items())

        return match

    def _find(self, match: Callable[[SentRecord], bool], since: int, count: int | None) -> Any:
        found = [r for r in self._sent[since:] if match(r)]
        need = 1 if count is None else count
        if len(found) < need:
            return None
        return found[0] if count is None else found[:count]

    def _timeout_message(self, what: str, since: int) -> str:
        tail = self._sent[since:][-10:]
        return f"timed out waiting for {what}; last records: {tail!r}"

    @overload
    async def wait_for(
        self,
        predicate: str | Callable[[SentRecord], bool] | None = ...,
        /,
        timeout: float = ...,
        *,
        count: None = ...,
        since: int = ...,
        **fields: Any,
    ) -> SentRecord: ...

    @overload
    async def wait_for(
        self,
        predicate: str | Callable[[SentRecord], bool] | None = ...,
        /,
        timeout: float = ...,
        *,
        count: int,
        since: int = ...,
        **fields: Any,
    ) -> list[SentRecord]: ...

    async def wait_for(
        self,
        predicate: str | Callable[[SentRecord], bool] | None = None,
        /,
        timeout: float = 10.0,
        *,
        count: int | None = None,
        since: int = 0,
        **fields: Any,
    ) -> SentRecord | list[SentRecord]:
        """Wait until a record of ``sent[since:]`` matches and return it (``count=N``: a list of
        the first N matches). ``predicate`` is a method name or a callable; ``fields`` compare
        record attributes for equality (e.g. ``chat_id=42``). Raises TimeoutError."""
        match = self._matcher(predicate, fields)
        result = await self._await(lambda: self._find(match, since, count), timeout)
        if result is None:
            with self._lock:
                raise TimeoutError(self._timeout_message(repr(predicate or fields), since))
        return result  # type: ignore[no-any-return]

    def wait_for_sync(
        self,
        predicate: str | Callable[[SentRecord], bool] | None = None,
        /,
        timeout: float = 10.0,
        *,
        count: int | None = None,
        since: int = 0,
        **fields: Any,
    ) -> Any:
        """Blocking variant of wait_for() for threads (uses the shared threading.Condition)."""
        match = self._matcher(predicate, fields)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = self._find(match, since, count)
                if result is not None:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(repr(predicate or fields), since))
                self._cond.wait(remaining)

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every queued update is confirmed and the bot is long-polling again,
        i.e. the bot has fetched everything (handlers may still be running)."""

        def idle() -> bool | None:
            return (not self._updates and self._polls_waiting > 0) or None

        if await self._await(idle, timeout) is None:
            raise TimeoutError(
                f"bot not idle: {len(self._updates)} pending updates, {self._polls_waiting} polls waiting"
            )

    async def _await(self, check: Callable[[], Any], timeout: float) -> Any:
        """Evaluate check() under the lock whenever state changes until it is not None."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        token = (loop, event)
        deadline = loop.time() + timeout
        with self._lock:
            self._async_waiters.add(token)
        try:
            while True:
                event.clear()
                with self._lock:
                    result = check()
                if result is not None:
                    return result
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with self._lock:
                self._async_waiters.discard(token)

    def _notify(self) -> None:
        """Wake sync and async waiters. Call with the lock held."""
        self._cond.notify_all()
        for loop, event in list(self._async_waiters):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # loop closed
                self._async_waiters.discard((loop, event))

    # ------------------------------------------------------------------ fault injection

    def fail(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" = any) with an HTTP error.
        429 carries parameters.retry_after; 403 says the bot was blocked; 502 answers nginx HTML."""
        if status == 429:
            text = description or f"Too Many Requests: retry after {retry_after}"
        else:
            text = description or _STATUS_DESCRIPTIONS.get(status, f"Error {status}")
        self._add_fault(
            method,
            _Fault(
                "fail",
                times,
                status=status,
                description=text,
                retry_after=retry_after if status == 429 else None,
            ),
        )

    def delay(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` only after ``seconds``. The request is
        still carried out afterwards (as Telegram would), even if the client gave up."""
        self._add_fault(method, _Fault("delay", times, seconds=seconds))

    def drop(self, method: str, *, times: int = 1, after_processing: bool = False) -> None:
        """Close the connection of the next ``times`` calls of ``method`` without answering.
        ``after_processing=True`` carries the request out first (the bot cannot know it did)."""
        self._add_fault(method, _Fault("drop", times, after_processing=after_processing))

    def down(self, seconds: float | None = None) -> None:
        """Drop every request (API and downloads, incl. waiting long polls) for ``seconds``
        (None: until up())."""
        with self._lock:
            self._down_until = float("inf") if seconds is None else time.monotonic() + seconds
            self._notify()

    def up(self) -> None:
        """End an outage started by down()."""
        with self._lock:
            self._down_until = None
            self._notify()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._down_until = None

    def _add_fault(self, method: str, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.setdefault(method.lower(), []).append(fault)

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.pop(0)
                return fault
        return None

    def _is_down(self) -> bool:
        if self._down_until is None:
            return False
        if time.monotonic() < self._down_until:
            return True
        self._down_until = None
        return False

    # ------------------------------------------------------------------ configuration

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> dict[str, Any]:
        """Register (or replace) a user; unknown user ids get a default profile."""
        user: dict[str, Any] = {
            "id": int(user_id),
            "is_bot": False,
            "first_name": first_name or f"Tester{user_id}",
        }
        if last_name:
            user["last_name"] = last_name
        user["username"] = username if username is not None else f"tester{user_id}"
        if not user["username"]:
            del user["username"]
        if language_code:
            user["language_code"] = language_code
        with self._lock:
            self._users[int(user_id)] = user
            return dict(user)

    def add_chat(
        self, chat_id: int, chat_type: str, *, title: str | None = None, username: str | None = None
    ) -> dict[str, Any]:
        """Register a group/supergroup/channel chat (private chats come from add_user)."""
        if chat_type not in ("group", "supergroup", "channel", "private"):
            raise ValueError(f"unknown chat type {chat_type!r}")
        with self._lock:
            if chat_type == "private":
                chat = self._private_chat(int(chat_id))
            else:
                chat = {
                    "id": int(chat_id),
                    "type": chat_type,
                    "title": title or f"Test {chat_type} {chat_id}",
                }
                if username:
                    chat["username"] = username
            self._chats[int(chat_id)] = chat
            return dict(chat)

    def set_chat_member(
        self, chat_id: int | str, user_id: int, status: str = "member", **fields: Any
    ) -> None:
        """What getChatMember answers for (chat_id, user_id): status creator/administrator/
        member/restricted/left/kicked plus overrides of the default fields."""
        if status not in _MEMBER_DEFAULTS:
            raise ValueError(f"unknown chat member status {status!r}")
        with self._lock:
            self._members[(_norm_chat(chat_id), int(user_id))] = {"status": status, **fields}

    def block(self, chat_id: int | str) -> None:
        """The user blocked the bot: sends to this chat get 403 until unblock()."""
        with self._lock:
            self._blocked.add(_norm_chat(chat_id))

    def unblock(self, chat_id: int | str) -> None:
        with self._lock:
            self._blocked.discard(_norm_chat(chat_id))

    def add_file(
        self,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        kind: str = "documents",
    ) -> dict[str, Any]:
        """Register bytes as a Telegram file; returns {file_id, file_unique_id, file_size, file_path}."""
        with self._lock:
            stored = self._store_file(data, file_name=file_name, mime_type=mime_type, kind=kind)
            return _file_object(stored)

    # ------------------------------------------------------------------ acting as users

    def enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (update_id is assigned if missing). Messages, callback query ids and
        inline query ids in it become known to the fake. Returns the queued update (a copy)."""
        update = copy.deepcopy(update)
        with self._lock:
            if "update_id" in update:
                self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
            else:
                update["update_id"] = self._next_update_id
                self._next_update_id += 1
            for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
                msg = update.get(key)
                if isinstance(msg, dict) and "chat" in msg and "message_id" in msg:
                    chat_id = _norm_chat(msg["chat"]["id"])
                    self._chats.setdefault(chat_id, copy.deepcopy(msg["chat"]))
                    self._messages[(chat_id, int(msg["message_id"]))] = copy.deepcopy(msg)
                    counter = self._message_counters.get(chat_id, 0)
                    self._message_counters[chat_id] = max(counter, int(msg["message_id"]))
            if isinstance(update.get("callback_query"), dict):
                self._open_callback_queries.add(str(update["callback_query"]["id"]))
            if isinstance(update.get("inline_query"), dict):
                self._open_inline_queries.add(str(update["inline_query"]["id"]))
            self._updates.append(update)
            self._notify()
            return copy.deepcopy(update)

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        reply_to_message: dict[str, Any] | SentRecord | int | None = None,
        entities: list[dict[str, Any]] | None = None,
        forward_origin: dict[str, Any] | None = None,
        edited: bool = False,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        """A user writes ``text`` in a chat. Bot commands (also /cmd@botname) and @mentions get
        their entities unless ``entities`` is given. ``edited=True`` edits ``message_id`` (default:
        the user's last message there) and queues an edited_message. Returns the update."""
        if entities is None:
            entities = _auto_entities(text)
        fields: dict[str, Any] = {"text": text}
        if entities:
            fields["entities"] = entities
        return self._user_message(
            chat_id,
            fields,
            user_id=user_id,
            chat_type=chat_type,
            reply_to_message=reply_to_message,
            forward_origin=forward_origin,
            edited=edited,
            message_id=message_id,
        )

    def send_document(
        self,
        chat_id: int,
        user_id: int | None = None,
        file_name: str = "document.bin",
        data: bytes = b"",
        mime_type: str = "application/octet-stream",
        *,
        caption: str | None = None,
        chat_type: str | None = None,
    ) -> dict[str, Any]:
        """A user sends a file; getFile + download of its file_id return ``data``."""
        with self._lock:
            stored = self._store_file(data, file_name=file_name, mime_type=mime_type, kind="documents")
        document = {
            "file_name": file_name,
            "mime_type": mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
        }
        fields: dict[str, Any] = {"document": document}
        if caption:
            fields["caption"] = caption
        return self._user_message(chat_id, fields, user_id=user_id, chat_type=chat_type)

    def send_photo(
        self,
        chat_id: int,
        user_id: int | None = None,
        data: bytes | None = None,
        *,
        caption: str | None = None,
        chat_type: str | None = None,
    ) -> dict[str, Any]:
        """A user sends a photo (a message without text); default data is a tiny PNG."""
        data = tiny_png(64, 48) if data is None else data
        with self._lock:
            sizes = self._photo_sizes(data)
        fields: dict[str, Any] = {"photo": sizes}
        if caption:
            fields["caption"] = caption
        return self._user_message(chat_id, fields, user_id=user_id, chat_type=chat_type)

    def send_sticker(
        self, chat_id: int, user_id: int | None = None, *, emoji: str = "👍", chat_type: str | None = None
    ) -> dict[str, Any]:
        """A user sends a sticker (a message without text)."""
        with self._lock:
            stored = self._store_file(
                b"RIFF\x00\x00\x00\x00WEBPVP8 ", file_name="sticker.webp", kind="stickers"
            )
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "FakeBotStickers",
            "file_size": len(stored.data),
        }
        return self._user_message(chat_id, {"sticker": sticker}, user_id=user_id, chat_type=chat_type)

    def press_button(
        self,
        message: SentRecord | dict[str, Any],
        callback_data: str,
        *,
        user_id: int | None = None,
        chat_id: int | None = None,
        check: bool = True,
    ) -> dict[str, Any]:
        """A user presses an inline button of a bot message (a record or Message dict). The
        callback_query carries id, from, chat_instance, the message as it is now, and data.
        ``check`` insists that the message currently has a button with this callback_data."""
        msg = message.message if isinstance(message, SentRecord) else message
        if not msg:
            raise ValueError("the record has no message to press a button on")
        chat = _norm_chat(chat_id if chat_id is not None else msg["chat"]["id"])
        with self._lock:
            current = self._messages.get((chat, int(msg["message_id"])))
            if current is None:
                raise ValueError(f"message {msg['message_id']} in chat {chat} does not exist (deleted?)")
            if check:
                rows = (current.get("reply_markup") or {}).get("inline_keyboard") or []
                datas = [b.get("callback_data") for row in rows for b in row]
                if callback_data not in datas:
                    raise ValueError(f"no button with callback_data {callback_data!r}; buttons: {datas}")
            user = self._user(self._default_user_id(chat, user_id))
            query = {
                "id": str(next(self._query_counter)),
                "from": user,
                "message": copy.deepcopy(current),
                "chat_instance": _chat_instance(chat),
                "data": callback_data,
            }
        return self.enqueue({"callback_query": query})

    def inline_query(
        self, user_id: int, query: str, *, offset: str = "", chat_type: str | None = "sender"
    ) -> dict[str, Any]:
        """A user types ``@botname query``. Returns the update (inline_query.id to answer)."""
        with self._lock:
            inline: dict[str, Any] = {
                "id": str(next(self._query_counter)),
                "from": self._user(user_id),
                "query": query,
                "offset": offset,
            }
        if chat_type:
            inline["chat_type"] = chat_type
        return self.enqueue({"inline_query": inline})

    def _default_user_id(self, chat_id: int | str, user_id: int | None) -> int:
        if user_id is not None:
            return int(user_id)
        if isinstance(chat_id, int) and chat_id > 0:
            return chat_id
        return DEFAULT_USER_ID

    def _user_message(
        self,
        chat_id: int,
        fields: dict[str, Any],
        *,
        user_id: int | None,
        chat_type: str | None,
        reply_to_message: dict[str, Any] | SentRecord | int | None = None,
        forward_origin: dict[str, Any] | None = None,
        edited: bool = False,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        chat_id = int(chat_id)
        with self._lock:
            chat = self._chat_for_user_message(chat_id, chat_type)
            if chat["type"] == "private" and user_id is not None and int(user_id) != chat_id:
                raise ValueError("in a private chat, chat_id is the user's id")
            uid = self._default_user_id(chat_id, user_id)
            now = int(time.time())
            if edited:
                if message_id is None:
                    mine = [
                        mid
                        for (cid, mid), m in self._messages.items()
                        if cid == chat_id and (m.get("from") or {}).get("id") == uid
                    ]
                    if not mine:
                        raise ValueError("edited=True but the user has no message in this chat")
                    message_id = max(mine)
                old = self._messages.get((chat_id, int(message_id)))
                if old is None:
                    raise ValueError(f"no message {message_id} in chat {chat_id}")
                msg = {
                    k: v
                    for k, v in old.items()
                    if k not in ("text", "entities", "caption", "caption_entities")
                }
                msg.update(fields)
                msg["edit_date"] = now
            else:
                msg = {"message_id": self._next_message_id(chat_id)}
                if chat["type"] == "channel":
                    msg["sender_chat"] = copy.deepcopy(chat)
                else:
                    msg["from"] = self._user(uid)
                msg["chat"] = copy.deepcopy(chat)
                msg["date"] = now
                if forward_origin is not None:
                    msg["forward_origin"] = {"date": now - 60, **forward_origin}
                if reply_to_message is not None:
                    msg["reply_to_message"] = self._reply_target(chat_id, reply_to_message)
                msg.update(fields)
            self._messages[(chat_id, int(msg["message_id"]))] = copy.deepcopy(msg)
        if chat["type"] == "channel":
            key = "edited_channel_post" if edited else "channel_post"
        else:
            key = "edited_message" if edited else "message"
        return self.enqueue({key: msg})

    def _reply_target(self, chat_id: int, target: dict[str, Any] | SentRecord | int) -> dict[str, Any]:
        if isinstance(target, SentRecord):
            target = target.message or {}
        message_id = int(target) if isinstance(target, int) else int(target["message_id"])
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            if isinstance(target, dict):
                stored = target
            else:
                raise ValueError(f"no message {message_id} in chat {chat_id} to reply to")
        stored = copy.deepcopy(stored)
        stored.pop("reply_to_message", None)
        return stored

    # ------------------------------------------------------------------ state helpers (lock held)

    def _user(self, user_id: int) -> dict[str, Any]:
        user = self._users.get(int(user_id))
        if user is None:
            user = {
                "id": int(user_id),
                "is_bot": False,
                "first_name": f"Tester{user_id}",
                "username": f"tester{user_id}",
                "language_code": "en",
            }
            self._users[int(user_id)] = user
        return dict(user)

    def _private_chat(self, user_id: int) -> dict[str, Any]:
        user = self._user(user_id)
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def _chat_for_user_message(self, chat_id: int, chat_type: str | None) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is not None and (chat_type is None or chat["type"] == chat_type):
            return chat
        if chat_type is None:
            chat_type = (
                "private" if chat_id > 0 else ("supergroup" if str(chat_id).startswith("-100") else "group")
            )
        if chat_type == "private":
            chat = self._private_chat(chat_id)
        else:
            chat = {"id": chat_id, "type": chat_type, "title": f"Test {chat_type} {chat_id}"}
        self._chats[chat_id] = chat
        return chat

    def _chat_for_bot(self, chat_id: int | str) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is not None:
            return chat
        if isinstance(chat_id, str):
            for known in self._chats.values():
                if known.get("username") and f"@{known['username']}".lower() == chat_id.lower():
                    return known
            raise ApiError(400, "Bad Request: chat not found")
        return self._chat_for_user_message(chat_id, None)

    def _next_message_id(self, chat_id: int | str) -> int:
        value = self._message_counters.get(chat_id, 0) + 1
        self._message_counters[chat_id] = value
        return value

    def _bot_public(self) -> dict[str, Any]:
        return {key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")}

    def _store_file(
        self,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        kind: str = "documents",
    ) -> _StoredFile:
        n = next(self._file_counter)
        prefix = {
            "documents": "BQACAgIAAxkBAAI",
            "photos": "AgACAgIAAxkBAAI",
            "stickers": "CAACAgIAAxkBAAI",
        }.get(kind, "BQACAgIAAxkBAAI")
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1].lower()[:8]
        elif kind == "photos":
            ext = ".jpg"
        stored = _StoredFile(
            file_id=f"{prefix}{n:06d}FakeFileId{n * 7919:08d}",
            file_unique_id=f"AgAD{n:06d}",
            file_path=f"{kind}/file_{n}{ext}",
            data=bytes(data),
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

    def _photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        size = _image_size(data)
        if size is None:
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        width, height = size
        sizes = []
        for limit in (90, 1280):
            scale = min(1.0, limit / max(width, height, 1))
            stored = self._store_file(data, kind="photos")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(data),
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                }
            )
        return sizes

    def _server_error(self, exc: BaseException | None) -> None:
        if exc is not None:
            with self._lock:
                self._server_errors.append(exc)

    # ------------------------------------------------------------------ HTTP handling

    def _handle_http(self, handler: _Handler) -> None:
        split = urllib.parse.urlsplit(handler.path)
        path = urllib.parse.unquote(split.path)
        body = self._read_body(handler)
        if path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot") :].partition("/")
            self._handle_download(handler, token, file_path)
            return
        if not path.startswith("/bot"):
            self._respond_error(handler, 404, "Not Found")
            return
        token, _, method = path[len("/bot") :].partition("/")
        method = method.strip("/")
        record = SentRecord(method=method, params={}, at=time.monotonic())

        with self._lock:
            down = self._is_down()
        if down:
            self._finish(record, 0, error="connection dropped (down)")
            raise _Drop
        if token != self.token:
            self._finish(record, 401, error="Unauthorized")
            self._respond_error(handler, 401, "Unauthorized")
            return
        try:
            params, files = self._parse_params(handler, split.query, body)
        except ApiError as exc:
            self._finish(record, exc.status, error=exc.description)
            self._respond_error(handler, exc.status, exc.description)
            return
        record.params, record.files = params, files
        record.chat_id = _norm_chat(params["chat_id"]) if "chat_id" in params else None
        record.text = params.get("text", params.get("caption"))
        record.parse_mode = params.get("parse_mode")
        markup = params.get("reply_markup")
        record.reply_markup = markup if isinstance(markup, dict) else None

        with self._lock:
            fault = self._take_fault(method)
        if fault is not None and fault.kind == "fail":
            self._finish(record, fault.status, error=fault.description)
            if fault.status == 502:
                self._respond_raw(handler, 502, _BAD_GATEWAY_HTML, "text/html")
            else:
                parameters = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
                self._respond_error(handler, fault.status, fault.description, parameters)
            return
        if fault is not None and fault.kind == "drop" and not fault.after_processing:
            self._finish(record, 0, error="connection dropped")
            raise _Drop
        if fault is not None and fault.kind == "delay" and self._stop_event.wait(fault.seconds):
            self._finish(record, 0, error="server stopped during delay")
            raise _Drop

        try:
            result = self._dispatch(method, params, files, record)
        except _Drop:
            self._finish(record, 0, error="connection dropped (down)")
            raise
        except ApiError as exc:
            self._finish(record, exc.status, error=exc.description)
            self._respond_error(handler, exc.status, exc.description, exc.parameters)
            return
        except Exception as exc:  # a bug in the fake: make it visible
            self._server_error(exc)
            self._finish(record, 500, error=f"fake server error: {exc!r}")
            self._respond_error(handler, 500, f"Internal Server Error: fake server error: {exc!r}")
            return
        record.result = result
        if fault is not None and fault.kind == "drop":  # after_processing
            self._finish(record, 200)
            raise _Drop
        payload = json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode("utf-8")
        self._finish(record, 200)
        self._respond_raw(handler, 200, payload, "application/json")

    def _finish(self, record: SentRecord, status: int, *, error: str | None = None) -> None:
        record.status = status
        record.ok = status == 200
        record.error = error
        with self._lock:
            self._calls.append(record)
            if record.ok and record.method.lower() != "getupdates":
                self._sent.append(record)
            self._notify()

    @staticmethod
    def _read_body(handler: _Handler) -> bytes:
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = handler.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    handler.rfile.readline()
                    break
                chunks.append(handler.rfile.read(size))
                handler.rfile.readline()
            return b"".join(chunks)
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length > 0 else b""

    def _parse_params(
        self, handler: _Handler, query: str, body: bytes
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        files: dict[str, UploadedFile] = {}
        content_type = handler.headers.get("Content-Type", "")
        mime = content_type.split(";")[0].strip().lower()
        if body:
            if mime == "application/json":
                try:
                    decoded = json.loads(body.decode("utf-8"))
                except ValueError as exc:
                    raise ApiError(400, "Bad Request: can't parse JSON object") from exc
                if not isinstance(decoded, dict):
                    raise ApiError(400, "Bad Request: can't parse JSON object")
                raw.update(decoded)
            elif mime == "multipart/form-data":
                fields, files = _parse_multipart(body, content_type)
                raw.update(fields)
            else:  # application/x-www-form-urlencoded (PTB without files)
                raw.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        params = {key: _coerce(key, value) for key, value in raw.items()}
        for name, upload in files.items():  # uploaded parts appear in params as their bytes
            params.setdefault(name, upload.data)
        return params, files

    def _handle_download(self, handler: _Handler, token: str, file_path: str) -> None:
        record = SentRecord(method="download", params={"file_path": file_path}, at=time.monotonic())
        with self._lock:
            down = self._is_down()
            fault = None if down else self._take_fault("download")
        if down or (fault is not None and fault.kind == "drop"):
            self._finish(record, 0, error="connection dropped")
            raise _Drop
        if token != self.token:
            self._finish(record, 401, error="Unauthorized")
            self._respond_error(handler, 401, "Unauthorized")
            return
        if fault is not None and fault.kind == "fail":
            self._finish(record, fault.status, error=fault.description)
            self._respond_error(handler, fault.status, fault.description)
            return
        if fault is not None and fault.kind == "delay" and self._stop_event.wait(fault.seconds):
            self._finish(record, 0, error="server stopped during delay")
            raise _Drop
        with self._lock:
            stored = self._file_paths.get(file_path)
        if stored is None:
            self._finish(record, 404, error="Not Found")
            self._respond_error(handler, 404, "Not Found")
            return
        record.result = len(stored.data)
        # Downloads are not API calls: they go to calls, not sent.
        with self._lock:
            record.status, record.ok = 200, True
            self._calls.append(record)
            self._notify()
        self._respond_raw(handler, 200, stored.data, stored.mime_type or "application/octet-stream")

    @staticmethod
    def _respond_raw(handler: _Handler, status: int, payload: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(payload)

    def _respond_error(
        self, handler: _Handler, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self._respond_raw(handler, status, json.dumps(body).encode("utf-8"), "application/json")

    # ------------------------------------------------------------------ API methods

    def _dispatch(
        self, method: str, params: dict[str, Any], files: dict[str, UploadedFile], record: SentRecord
    ) -> Any:
        name = method.lower()
        if name == "getupdates":
            return self._get_updates(params)
        handler = _METHODS.get(name)
        with self._lock:
            if handler is None:
                record.unknown = True
                return True
            return handler(self, params, files, record)

    def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        limit = max(1, min(100, int(p.get("limit") or 100)))
        timeout = max(0.0, float(p.get("timeout") or 0))
        with self._cond:
            if self._webhook.get("url"):
                raise ApiError(409, CONFLICT_WEBHOOK)
            if "allowed_updates" in p:
                allowed = p["allowed_updates"]
                self._allowed_updates = list(allowed) if allowed else None
            offset = p.get("offset")
            if offset is not None:
                offset = int(offset)
                if offset < 0:
                    self._updates = self._updates[offset:]
                else:
                    confirmed = [u for u in self._updates if u["update_id"] < offset]
                    if confirmed:
                        self._last_confirmed = max(u["update_id"] for u in confirmed)
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._poll_generation += 1
            generation = self._poll_generation
            self._polls_waiting += 1
            self._notify()
            deadline = time.monotonic() + timeout
            try:
                while True:
                    if self._stopping:
                        return []
                    if self._is_down():
                        raise _Drop
                    if generation != self._poll_generation:
                        raise ApiError(409, CONFLICT_POLL)
                    self._updates = [u for u in self._updates if self._update_allowed(u)]
                    if self._updates:
                        return copy.deepcopy(self._updates[:limit])
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return []
                    self._cond.wait(remaining)
            finally:
                self._polls_waiting -= 1
                self._notify()

    def _update_allowed(self, update: dict[str, Any]) -> bool:
        kinds = [key for key in update if key != "update_id"]
        if not kinds:
            return True
        kind = kinds[0]
        if self._allowed_updates is None:
            return kind not in _NOT_DEFAULT_UPDATES
        return kind in self._allowed_updates

    def _m_get_me(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        return dict(self.bot_user)

    def _m_set_webhook(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        url = str(p.get("url") or "")
        if url and not url.lower().startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if url:
            self._webhook = {
                "url": url,
                "max_connections": int(p.get("max_connections") or 40),
                "allowed_updates": p.get("allowed_updates"),
                "has_custom_certificate": "certificate" in files,
            }
            if p.get("drop_pending_updates"):
                self._updates.clear()
        else:
            self._webhook = {}
        self._notify()
        return True

    def _m_delete_webhook(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        self._webhook = {}
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self._notify()
        return True

    def _m_get_webhook_info(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        info: dict[str, Any] = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": bool(self._webhook.get("has_custom_certificate", False)),
            "pending_update_count": len(self._updates),
        }
        if self._webhook.get("url"):
            info["max_connections"] = self._webhook["max_connections"]
            if self._webhook.get("allowed_updates"):
                info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    def _m_set_my_commands(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        commands = p.get("commands") or []
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(
                400,
                "Bad Request: BOT_COMMANDS_TOO_MUCH"
                if isinstance(commands, list)
                else "Bad Request: can't parse commands JSON object",
            )
        clean = []
        for command in commands:
            if not isinstance(command, dict) or "command" not in command:
                raise ApiError(400, "Bad Request: can't parse BotCommand: Can't find field \"command\"")
            if "description" not in command:
                raise ApiError(400, "Bad Request: can't parse BotCommand: Can't find field \"description\"")
            if not _BOT_COMMAND_RE.fullmatch(str(command["command"])):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = str(command["description"])
            if not description.strip():
                raise ApiError(400, "Bad Request: command description must be non-empty")
            if len(description) > 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": str(command["command"]), "description": description})
        self._commands[_commands_key(p.get("scope"), p.get("language_code") or "")] = clean
        return True

    def _m_get_my_commands(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        return copy.deepcopy(
            self._commands.get(_commands_key(p.get("scope"), p.get("language_code") or ""), [])
        )

    def _m_delete_my_commands(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        self._commands.pop(_commands_key(p.get("scope"), p.get("language_code") or ""), None)
        return True

    def _check_sendable(self, chat_id: Any) -> dict[str, Any]:
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = _norm_chat(chat_id)
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return self._chat_for_bot(chat_id)

    def _render(
        self, text: Any, parse_mode: Any, entities: Any, *, caption: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        text = "" if text is None else str(text)
        if parse_mode:
            mode = str(parse_mode).lower()
            if mode == "html":
                plain, ents = parse_html(text, strict=self.strict_html)
            elif mode in ("markdown", "markdownv2"):
                plain, ents = text, []  # not parsed by this fake
            else:
                raise ApiError(400, "Bad Request: unsupported parse_mode")
        else:
            plain, ents = text, [dict(e) for e in entities] if isinstance(entities, list) else []
        plain, ents = _strip_text(plain, ents)
        size = utf16_len(plain)
        if caption:
            if size > MAX_CAPTION:
                raise ApiError(400, "Bad Request: message caption is too long")
        else:
            if size == 0:
                raise ApiError(400, "Bad Request: message text is empty")
            if size > MAX_TEXT:
                raise ApiError(400, "Bad Request: message is too long")
        return plain, ents

    @staticmethod
    def _check_markup(markup: Any) -> dict[str, Any] | None:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None  # reply keyboards / remove / force_reply are not part of the Message
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: InlineKeyboardMarkup must be an Array of Arrays",
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or "text" not in button:
                    raise ApiError(
                        400, "Bad Request: can't parse inline keyboard button: Can't find field \"text\""
                    )
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode("utf-8"))
                    if not 1 <= size <= MAX_CALLBACK_DATA:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not _BUTTON_ACTIONS.intersection(button):
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                    )
                if "url" in button and not str(button["url"]).strip():
                    raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        return copy.deepcopy(markup)

    def _reply_to(self, chat_id: int | str, p: dict[str, Any]) -> dict[str, Any] | None:
        params = p.get("reply_parameters")
        if isinstance(params, dict):
            message_id = params.get("message_id")
            allow = bool(params.get("allow_sending_without_reply"))
            target_chat = _norm_chat(params.get("chat_id", chat_id))
        elif p.get("reply_to_message_id") is not None:
            message_id = p["reply_to_message_id"]
            allow = bool(p.get("allow_sending_without_reply"))
            target_chat = chat_id
        else:
            return None
        if message_id is None or not str(message_id).lstrip("-").isdigit():
            raise ApiError(400, "Bad Request: can't parse reply parameters JSON object")
        stored = self._messages.get((target_chat, int(message_id)))
        if stored is None:
            if allow:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        stored = copy.deepcopy(stored)
        stored.pop("reply_to_message", None)
        return stored

    def _new_bot_message(
        self, chat: dict[str, Any], p: dict[str, Any], content: dict[str, Any]
    ) -> dict[str, Any]:
        chat_id = _norm_chat(chat["id"])
        reply = self._reply_to(chat_id, p)
        msg: dict[str, Any] = {"message_id": self._next_message_id(chat_id)}
        if chat["type"] == "channel":
            msg["sender_chat"] = copy.deepcopy(chat)
        else:
            msg["from"] = self._bot_public()
        msg["chat"] = copy.deepcopy(chat)
        msg["date"] = int(time.time())
        if reply is not None:
            msg["reply_to_message"] = reply
        if p.get("message_thread_id") is not None:
            msg["message_thread_id"] = int(p["message_thread_id"])
        msg.update(content)
        self._messages[(chat_id, msg["message_id"])] = copy.deepcopy(msg)
        return msg

    def _m_send_message(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        chat = self._check_sendable(p.get("chat_id"))
        plain, entities = self._render(p.get("text"), p.get("parse_mode"), p.get("entities"), caption=False)
        markup = self._check_markup(p.get("reply_markup"))
        content: dict[str, Any] = {"text": plain}
        if entities:
            content["entities"] = entities
        if markup is not None:
            content["reply_markup"] = markup
        msg = self._new_bot_message(chat, p, content)
        r.plain_text, r.entities, r.message = plain, entities, msg
        return msg

    def _edit_target(self, p: dict[str, Any]) -> tuple[tuple[int | str, int], dict[str, Any]] | None:
        if p.get("inline_message_id"):
            return None
        if p.get("chat_id") is None or p.get("message_id") is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        key = (_norm_chat(p["chat_id"]), int(p["message_id"]))
        current = self._messages.get(key)
        if current is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if (current.get("from") or {}).get("id") != self.bot_id and "sender_chat" not in current:
            raise ApiError(400, "Bad Request: message can't be edited")
        return key, current

    def _m_edit_message_text(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        plain, entities = self._render(p.get("text"), p.get("parse_mode"), p.get("entities"), caption=False)
        markup = self._check_markup(p.get("reply_markup"))
        r.plain_text, r.entities = plain, entities
        target = self._edit_target(p)
        if target is None:  # inline message: Telegram answers True
            return True
        key, current = target
        if "text" not in current:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if (
            current.get("text") == plain
            and current.get("entities", []) == entities
            and current.get("reply_markup") == markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        msg = {k: v for k, v in current.items() if k not in ("text", "entities", "reply_markup")}
        msg["text"] = plain
        if entities:
            msg["entities"] = entities
        if markup is not None:
            msg["reply_markup"] = markup
        msg["edit_date"] = int(time.time())
        self._messages[key] = copy.deepcopy(msg)
        r.message = msg
        return msg

    def _m_edit_message_reply_markup(
        self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord
    ) -> Any:
        markup = self._check_markup(p.get("reply_markup"))
        target = self._edit_target(p)
        if target is None:
            return True
        key, current = target
        if current.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        msg = {k: v for k, v in current.items() if k != "reply_markup"}
        if markup is not None:
            msg["reply_markup"] = markup
        msg["edit_date"] = int(time.time())
        self._messages[key] = copy.deepcopy(msg)
        r.message = msg
        return msg

    def _m_delete_message(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        if p.get("chat_id") is None or p.get("message_id") is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        key = (_norm_chat(p["chat_id"]), int(p["message_id"]))
        if self._messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    def _m_answer_callback_query(
        self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord
    ) -> Any:
        query_id = str(p.get("callback_query_id") or "")
        if query_id not in self._open_callback_queries:
            raise ApiError(400, QUERY_TOO_OLD)
        self._open_callback_queries.discard(query_id)
        return True

    def _m_answer_inline_query(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        query_id = str(p.get("inline_query_id") or "")
        results = p.get("results") or []
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: can't parse results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [str(res.get("id")) for res in results if isinstance(res, dict)]
        if len(set(ids)) != len(ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        for res in results:
            content = res.get("input_message_content") if isinstance(res, dict) else None
            if isinstance(content, dict) and "message_text" in content:
                self._render(
                    content["message_text"], content.get("parse_mode"), content.get("entities"), caption=False
                )
            if isinstance(res, dict) and "reply_markup" in res:
                self._check_markup(res["reply_markup"])
        if query_id not in self._open_inline_queries:
            raise ApiError(400, QUERY_TOO_OLD)
        self._open_inline_queries.discard(query_id)
        return True

    def _m_send_chat_action(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        self._check_sendable(p.get("chat_id"))
        if p.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _input_file(
        self, p: dict[str, Any], files: dict[str, UploadedFile], key: str
    ) -> tuple[bytes, str | None, str | None] | _StoredFile:
        value = p.get(key)
        upload = files.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
        if upload is not None:
            if not upload.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            return upload.data, upload.filename, upload.content_type
        if isinstance(value, str) and value:
            if value in self._files:
                return self._files[value]
            if value.startswith(("http://", "https://")):
                name = urllib.parse.urlsplit(value).path.rsplit("/", 1)[-1] or "file"
                return f"downloaded from {value}".encode(), name, None
        if value is None:
            raise ApiError(400, f"Bad Request: there is no {key} in the request")
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _caption_content(self, p: dict[str, Any], r: SentRecord) -> dict[str, Any]:
        content: dict[str, Any] = {}
        if p.get("caption") is not None:
            plain, entities = self._render(
                p.get("caption"), p.get("parse_mode"), p.get("caption_entities"), caption=True
            )
            r.plain_text, r.entities = plain, entities
            if plain:
                content["caption"] = plain
            if entities:
                content["caption_entities"] = entities
        markup = self._check_markup(p.get("reply_markup"))
        if markup is not None:
            content["reply_markup"] = markup
        return content

    def _m_send_photo(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        chat = self._check_sendable(p.get("chat_id"))
        source = self._input_file(p, files, "photo")
        content = self._caption_content(p, r)
        data = source.data if isinstance(source, _StoredFile) else source[0]
        content["photo"] = self._photo_sizes(data)
        if p.get("has_spoiler"):
            content["has_media_spoiler"] = True
        msg = self._new_bot_message(chat, p, content)
        r.message = msg
        return msg

    def _m_send_document(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        chat = self._check_sendable(p.get("chat_id"))
        source = self._input_file(p, files, "document")
        content = self._caption_content(p, r)
        if isinstance(source, _StoredFile):
            stored = source
        else:
            data, name, mime = source
            stored = self._store_file(data, file_name=name, mime_type=mime, kind="documents")
        document: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        document["file_size"] = len(stored.data)
        content["document"] = document
        msg = self._new_bot_message(chat, p, content)
        r.message = msg
        return msg

    def _m_get_file(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        stored = self._files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD:
            raise ApiError(400, "Bad Request: file is too big")
        return _file_object(stored)

    def _m_get_chat_member(self, p: dict[str, Any], files: dict[str, UploadedFile], r: SentRecord) -> Any:
        if p.get("chat_id") is None or p.get("user_id") is None:
            raise ApiError(
                400,
                "Bad Request: chat_id is empty"
                if p.get("chat_id") is None
                else "Bad Request: user_id is empty",
            )
        chat_id, user_id = _norm_chat(p["chat_id"]), int(p["user_id"])
        chat = self._chat_for_bot(chat_id)
        config = dict(self._members.get((chat_id, user_id), {"status": "member"}))
        status = config.pop("status")
        user = self._bot_public() if user_id == self.bot_id else self._user(user_id)
        if chat["type"] == "private" and user_id not in (chat["id"], self.bot_id):
            raise ApiError(400, "Bad Request: user not found")
        member: dict[str, Any] = {"status": status, "user": user, **copy.deepcopy(_MEMBER_DEFAULTS[status])}
        member.update(config)
        return member


# --------------------------------------------------------------------------- module helpers


def _norm_chat(chat_id: Any) -> int | str:
    if isinstance(chat_id, bool):
        return int(chat_id)
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id).strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def _chat_instance(chat_id: int | str) -> str:
    seed = chat_id if isinstance(chat_id, int) else zlib.crc32(str(chat_id).encode())
    return str((seed * 2_654_435_761 + 97) % (2**63) - 2**62)


def _commands_key(scope: Any, language_code: str) -> tuple[str, str]:
    scope = scope or {"type": "default"}
    return json.dumps(scope, sort_keys=True), language_code or ""


def _file_object(stored: _StoredFile) -> dict[str, Any]:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


_MEMBER_DEFAULTS: dict[str, dict[str, Any]] = {
    "creator": {"is_anonymous": False},
    "administrator": {
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": True,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": True,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
        "can_pin_messages": True,
    },
    "member": {},
    "restricted": {
        "is_member": True,
        "can_send_messages": False,
        "can_send_audios": False,
        "can_send_documents": False,
        "can_send_photos": False,
        "can_send_videos": False,
        "can_send_video_notes": False,
        "can_send_voice_notes": False,
        "can_send_polls": False,
        "can_send_other_messages": False,
        "can_add_web_page_previews": False,
        "can_react_to_messages": False,
        "can_change_info": False,
        "can_invite_users": False,
        "can_pin_messages": False,
        "can_manage_topics": False,
        "can_edit_tag": False,
        "until_date": 0,
    },
    "left": {},
    "kicked": {"until_date": 0},
}

_METHODS: dict[str, Callable[[FakeBotAPI, dict[str, Any], dict[str, UploadedFile], SentRecord], Any]] = {
    "getme": FakeBotAPI._m_get_me,
    "setwebhook": FakeBotAPI._m_set_webhook,
    "deletewebhook": FakeBotAPI._m_delete_webhook,
    "getwebhookinfo": FakeBotAPI._m_get_webhook_info,
    "setmycommands": FakeBotAPI._m_set_my_commands,
    "getmycommands": FakeBotAPI._m_get_my_commands,
    "deletemycommands": FakeBotAPI._m_delete_my_commands,
    "sendmessage": FakeBotAPI._m_send_message,
    "editmessagetext": FakeBotAPI._m_edit_message_text,
    "editmessagereplymarkup": FakeBotAPI._m_edit_message_reply_markup,
    "deletemessage": FakeBotAPI._m_delete_message,
    "answercallbackquery": FakeBotAPI._m_answer_callback_query,
    "answerinlinequery": FakeBotAPI._m_answer_inline_query,
    "sendchataction": FakeBotAPI._m_send_chat_action,
    "sendphoto": FakeBotAPI._m_send_photo,
    "senddocument": FakeBotAPI._m_send_document,
    "getfile": FakeBotAPI._m_get_file,
    "getchatmember": FakeBotAPI._m_get_chat_member,
}
