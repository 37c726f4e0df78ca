"""What the bot did (records of its calls, the messages it left) and waiting for it."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import Callable
from typing import Any, overload

from .wire import _MESSAGE_METHODS, SentRecord, _commands_key, _norm_chat


class _RecordsMixin:
    # A mixin of FakeBotAPI (server.py): the state it uses (self._lock, ...) is set up there.

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
