"""What the bot remembers between restarts: answer sessions, the query log, blocked chats.

Sessions hold the composed answer behind a message's buttons, so "more" and "full text" keep working
after a restart and show what the user saw, even if the corpus changed since. The query log keeps no
user names or ids.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from .store import Store

__all__ = ["BotState", "Session"]


@dataclass(frozen=True)
class Session:
    token: str
    chat_id: int
    query_id: int | None
    answer: str
    created_at: str


class BotState:
    """Bot tables of a store (same connection: use it from the thread that owns the store)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.db.conn

    def log_question(
        self, asked_at: str, question: str, chat_type: str, answered: bool, latency_ms: float
    ) -> int:
        with self.store.lock:
            cur = self.conn.execute(
                "INSERT INTO query_log (asked_at, question, chat_type, answered, latency_ms) VALUES (?, ?, ?, ?, ?)",
                (asked_at, question, chat_type, int(answered), latency_ms),
            )
            self.conn.commit()
        return int(cur.lastrowid or 0)

    def set_feedback(self, query_id: int, value: int) -> bool:
        with self.store.lock:
            cur = self.conn.execute("UPDATE query_log SET feedback = ? WHERE id = ?", (value, query_id))
            self.conn.commit()
        return cur.rowcount > 0

    def save_session(self, chat_id: int, query_id: int | None, answer: str, created_at: str) -> str:
        token = secrets.token_urlsafe(6)  # 8 characters: callback data stays far below 64 bytes
        with self.store.lock:
            self.conn.execute(
                "INSERT INTO answer_sessions (token, chat_id, query_id, answer, created_at) VALUES (?, ?, ?, ?, ?)",
                (token, chat_id, query_id, answer, created_at),
            )
            self.conn.commit()
        return token

    def session(self, token: str) -> Session | None:
        row = self.conn.execute(
            "SELECT token, chat_id, query_id, answer, created_at FROM answer_sessions WHERE token = ?",
            (token,),
        ).fetchone()
        return Session(*row) if row else None

    def prune(self, sessions_before: str, log_before: str | None) -> tuple[int, int]:
        """Delete sessions created before ``sessions_before`` and log rows before ``log_before``."""
        with self.store.lock:
            s = self.conn.execute(
                "DELETE FROM answer_sessions WHERE created_at < ?", (sessions_before,)
            ).rowcount
            q = (
                self.conn.execute("DELETE FROM query_log WHERE asked_at < ?", (log_before,)).rowcount
                if log_before
                else 0
            )
            self.conn.commit()
        return s, q

    def questions_since(self, since: str) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT count(*), coalesce(sum(answered), 0), coalesce(sum(feedback = 1), 0), "
            "coalesce(sum(feedback = -1), 0) FROM query_log WHERE asked_at >= ?",
            (since,),
        ).fetchone()
        asked, answered, up, down = row
        return {"questions": asked, "answered": answered, "helpful": up, "not_helpful": down}

    def mark_blocked(self, chat_id: int, since: str, reason: str) -> None:
        with self.store.lock:
            self.conn.execute(
                "INSERT OR REPLACE INTO blocked_chats (chat_id, since, reason) VALUES (?, ?, ?)",
                (chat_id, since, reason),
            )
            self.conn.commit()

    def blocked_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM blocked_chats").fetchone()[0])

    def subscriber_count(self) -> int:
        """Chats with at least one active digest subscription."""
        return int(
            self.conn.execute(
                "SELECT count(DISTINCT chat_id) FROM subscriptions WHERE active = 1"
            ).fetchone()[0]
        )
