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

The package: ``server`` (HTTP plumbing and the FakeBotAPI class: lifecycle, request handling,
dispatch, getUpdates), composed of mixins for ``records`` (records and waits), ``faults`` (fault
injection), ``users`` (the user side and the users, chats and files the fake knows) and
``methods`` (the Bot API methods); ``wire`` (limits, error descriptions, records, request
parsing, images) and ``html`` (Telegram's HTML subset, UTF-16 lengths) hold what they share.
"""

from .html import parse_html, utf16_len
from .server import FakeBotAPI
from .wire import DEFAULT_TOKEN, DEFAULT_USER_ID, ApiError, SentRecord, UploadedFile, tiny_png

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
