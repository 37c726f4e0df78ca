"""Per-user question rate limit: a sliding one-minute window, with the clock passed in."""

from __future__ import annotations

from collections import deque

__all__ = ["RateLimiter"]


class RateLimiter:
    """At most ``per_minute`` events per key in any 60 seconds."""

    def __init__(self, per_minute: int, window: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window = window
        self._events: dict[int, deque[float]] = {}

    def allow(self, key: int, now: float) -> bool:
        """Record an event for ``key`` at ``now`` if it is within the limit; say whether it was."""
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.per_minute:
            return False
        events.append(now)
        if len(self._events) > 10_000:  # forget idle users so the table does not grow without bound
            for k in [k for k, q in self._events.items() if not q or q[-1] <= now - self.window]:
                del self._events[k]
        return True
