"""HTTP plumbing and the FakeBotAPI class: lifecycle, addresses, request handling, getUpdates."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import os
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .faults import _Fault, _FaultsMixin
from .methods import _MethodsMixin
from .records import _RecordsMixin
from .users import _UsersMixin
from .wire import (
    _BAD_GATEWAY_HTML,
    _NOT_DEFAULT_UPDATES,
    CONFLICT_POLL,
    CONFLICT_WEBHOOK,
    DEFAULT_TOKEN,
    ApiError,
    SentRecord,
    UploadedFile,
    _coerce,
    _Drop,
    _norm_chat,
    _parse_multipart,
    _StoredFile,
)

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


class FakeBotAPI(_RecordsMixin, _FaultsMixin, _UsersMixin, _MethodsMixin):
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

    # ------------------------------------------------------------------ HTTP handling

    def _server_error(self, exc: BaseException | None) -> None:
        if exc is not None:
            with self._lock:
                self._server_errors.append(exc)

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

    # ------------------------------------------------------------------ dispatch and getUpdates

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


# The Bot API methods of methods.py by lower-case name; others get the generic fallback.
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
