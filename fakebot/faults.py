"""Fault injection: HTTP errors per method, slow answers, dropped connections, outages."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .wire import _STATUS_DESCRIPTIONS


@dataclass
class _Fault:
    kind: str  # "fail" | "delay" | "drop"
    remaining: int
    status: int = 0
    description: str = ""
    retry_after: int | None = None
    seconds: float = 0.0
    after_processing: bool = False


class _FaultsMixin:
    # A mixin of FakeBotAPI (server.py): the state it uses (self._lock, ...) is set up there.

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
