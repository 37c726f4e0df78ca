"""The Bot API's wire format: limits, error descriptions, records, request parsing, images."""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

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
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None


# --------------------------------------------------------------------------- images


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
