"""The user side: users, chats, files, and the updates users cause (queued for getUpdates)."""

from __future__ import annotations

import copy
import time
from typing import Any

from .html import _auto_entities
from .wire import (
    _MEMBER_DEFAULTS,
    DEFAULT_USER_ID,
    ApiError,
    SentRecord,
    _chat_instance,
    _file_object,
    _image_size,
    _norm_chat,
    _StoredFile,
    tiny_png,
)


class _UsersMixin:
    # A mixin of FakeBotAPI (server.py): the state it uses (self._lock, ...) is set up there.

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
