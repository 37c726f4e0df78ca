"""The Bot API methods the fake implements (``_m_*``, looked up by name in server._METHODS)."""

from __future__ import annotations

import copy
import time
import urllib.parse
from typing import Any

from .html import _strip_text, parse_html, utf16_len
from .wire import (
    _BOT_COMMAND_RE,
    _BUTTON_ACTIONS,
    _CHAT_ACTIONS,
    _MEMBER_DEFAULTS,
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_DOWNLOAD,
    MAX_INLINE_RESULTS,
    MAX_TEXT,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    ApiError,
    SentRecord,
    UploadedFile,
    _commands_key,
    _file_object,
    _norm_chat,
    _StoredFile,
)


class _MethodsMixin:
    # A mixin of FakeBotAPI (server.py): the state it uses (self._lock, ...) is set up there.

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
