"""What the bot remembers between restarts: answer sessions, the query log, blocked chats, digest
subscriptions and what each has received.

Sessions hold the composed answer behind a message's buttons, so "more" and "full text" keep working
after a restart and show what the user saw, even if the corpus changed since. The query log keeps no
user names or ids. Every write goes through ``_write``: the store's lock, one transaction.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .store import Store, rollback

__all__ = ["BotState", "Session", "Subscription", "Subscriptions"]


@contextmanager
def _write(store: Store) -> Iterator[sqlite3.Connection]:
    """One write: the store's lock (its connection is shared by threads), one transaction."""
    with store.lock:
        conn = store.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise


@dataclass(frozen=True, kw_only=True)
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
        with _write(self.store) as conn:
            cur = conn.execute(
                "INSERT INTO query_log (asked_at, question, chat_type, answered, latency_ms) VALUES (?, ?, ?, ?, ?)",
                (asked_at, question, chat_type, int(answered), latency_ms),
            )
        return int(cur.lastrowid or 0)

    def set_feedback(self, query_id: int, value: int) -> bool:
        with _write(self.store) as conn:
            cur = conn.execute("UPDATE query_log SET feedback = ? WHERE id = ?", (value, query_id))
        return cur.rowcount > 0

    def save_session(self, chat_id: int, query_id: int | None, answer: str, created_at: str) -> str:
        token = secrets.token_urlsafe(6)  # 8 characters: callback data stays far below 64 bytes
        with _write(self.store) as conn:
            conn.execute(
                "INSERT INTO answer_sessions (token, chat_id, query_id, answer, created_at) VALUES (?, ?, ?, ?, ?)",
                (token, chat_id, query_id, answer, created_at),
            )
        return token

    def session(self, token: str) -> Session | None:
        row = self.conn.execute(
            "SELECT token, chat_id, query_id, answer, created_at FROM answer_sessions WHERE token = ?",
            (token,),
        ).fetchone()
        return (
            Session(token=row[0], chat_id=row[1], query_id=row[2], answer=row[3], created_at=row[4])
            if row
            else None
        )

    def latest_session(self, chat_id: int, since: str) -> Session | None:
        """The chat's newest answer session created at ``since`` or later."""
        row = self.conn.execute(
            "SELECT token, chat_id, query_id, answer, created_at FROM answer_sessions "
            "WHERE created_at >= ? AND chat_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (since, chat_id),
        ).fetchone()
        return (
            Session(token=row[0], chat_id=row[1], query_id=row[2], answer=row[3], created_at=row[4])
            if row
            else None
        )

    def prune(self, sessions_before: str, log_before: str | None) -> tuple[int, int]:
        """Delete sessions created before ``sessions_before`` and log rows before ``log_before``."""
        with _write(self.store) as conn:
            s = conn.execute("DELETE FROM answer_sessions WHERE created_at < ?", (sessions_before,)).rowcount
            q = (
                conn.execute("DELETE FROM query_log WHERE asked_at < ?", (log_before,)).rowcount
                if log_before
                else 0
            )
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
        with _write(self.store) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO blocked_chats (chat_id, since, reason) VALUES (?, ?, ?)",
                (chat_id, since, reason),
            )

    def blocked_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM blocked_chats").fetchone()[0])

    def subscriber_count(self) -> int:
        """Chats with at least one active digest subscription."""
        return int(
            self.conn.execute(
                "SELECT count(DISTINCT chat_id) FROM subscriptions WHERE active = 1"
            ).fetchone()[0]
        )


@dataclass(frozen=True, kw_only=True)
class Subscription:
    id: int
    chat_id: int
    at: str  # HH:MM local time
    keywords: str  # space-separated; empty for every topic
    created_at: str
    active: bool


_SUBSCRIPTION = "SELECT id, chat_id, at, keywords, created_at, active FROM subscriptions"


class Subscriptions:
    """Digest subscriptions and their delivery state (same connection rules as ``BotState``)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.db.conn

    def add(self, chat_id: int, at: str, keywords: str, now: str) -> Subscription:
        with _write(self.store) as conn:
            cur = conn.execute(
                "INSERT INTO subscriptions (chat_id, at, keywords, created_at) VALUES (?, ?, ?, ?)",
                (chat_id, at, keywords, now),
            )
        return Subscription(
            id=int(cur.lastrowid or 0), chat_id=chat_id, at=at, keywords=keywords, created_at=now, active=True
        )

    def get(self, subscription_id: int) -> Subscription | None:
        row = self.conn.execute(f"{_SUBSCRIPTION} WHERE id = ?", (subscription_id,)).fetchone()
        return _subscription(row) if row else None

    def of_chat(self, chat_id: int) -> list[Subscription]:
        rows = self.conn.execute(f"{_SUBSCRIPTION} WHERE chat_id = ? AND active = 1 ORDER BY id", (chat_id,))
        return [_subscription(r) for r in rows]

    def active(self, at: str | None = None) -> list[Subscription]:
        if at is None:
            rows = self.conn.execute(f"{_SUBSCRIPTION} WHERE active = 1 ORDER BY id")
        else:
            rows = self.conn.execute(f"{_SUBSCRIPTION} WHERE active = 1 AND at = ? ORDER BY id", (at,))
        return [_subscription(r) for r in rows]

    def times(self) -> list[str]:
        """The distinct HH:MM of active subscriptions."""
        return [
            r[0]
            for r in self.conn.execute("SELECT DISTINCT at FROM subscriptions WHERE active = 1 ORDER BY at")
        ]

    def end(self, subscription_id: int, reason: str) -> None:
        with _write(self.store) as conn:
            conn.execute(
                "UPDATE subscriptions SET active = 0, ended_reason = ? WHERE id = ?",
                (reason, subscription_id),
            )

    def set_time(self, subscription_id: int, at: str) -> None:
        with _write(self.store) as conn:
            conn.execute("UPDATE subscriptions SET at = ? WHERE id = ?", (at, subscription_id))

    # --- scheduled runs -------------------------------------------------------------------------------

    def plan(self, run_key: str, subscription_ids: list[int], now: str) -> None:
        """Record a scheduled digest for each subscription (once: planning twice changes nothing)."""
        with _write(self.store) as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO digest_runs (subscription_id, run_key, status, updated_at) "
                "VALUES (?, ?, 'pending', ?)",
                [(sid, run_key, now) for sid in subscription_ids],
            )

    def pending(self) -> list[tuple[int, str, int, int]]:
        """(subscription, run key, parts sent, attempts) of every digest planned but not finished, oldest first."""
        rows = self.conn.execute(
            "SELECT r.subscription_id, r.run_key, r.parts_sent, r.attempts FROM digest_runs r "
            "JOIN subscriptions s ON s.id = r.subscription_id "
            "WHERE r.status = 'pending' AND s.active = 1 ORDER BY r.run_key, r.subscription_id"
        )
        return [(int(a), str(b), int(c), int(d)) for a, b, c, d in rows]

    def part_sent(self, subscription_id: int, run_key: str, parts: int, now: str) -> None:
        """Record that the first ``parts`` messages of a digest went out (a resumed run skips them)."""
        with _write(self.store) as conn:
            conn.execute(
                "UPDATE digest_runs SET parts_sent = ?, updated_at = ? WHERE subscription_id = ? AND run_key = ?",
                (parts, now, subscription_id, run_key),
            )

    def attempt(self, subscription_id: int, run_key: str, now: str) -> None:
        with _write(self.store) as conn:
            conn.execute(
                "UPDATE digest_runs SET attempts = attempts + 1, updated_at = ? WHERE subscription_id = ? AND run_key = ?",
                (now, subscription_id, run_key),
            )

    def finish(
        self, subscription_id: int, run_key: str, status: str, article_ids: list[int], now: str
    ) -> None:
        """Mark a run done and its articles delivered, in one transaction: never half of it."""
        with _write(self.store) as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO deliveries (subscription_id, article_id, delivered_at) VALUES (?, ?, ?)",
                [(subscription_id, a, now) for a in article_ids],
            )
            conn.execute(
                "UPDATE digest_runs SET status = ?, updated_at = ? WHERE subscription_id = ? AND run_key = ?",
                (status, now, subscription_id, run_key),
            )

    def status(self, subscription_id: int, run_key: str) -> str | None:
        row = self.conn.execute(
            "SELECT status FROM digest_runs WHERE subscription_id = ? AND run_key = ?",
            (subscription_id, run_key),
        ).fetchone()
        return str(row[0]) if row else None

    def undelivered(self, subscription_id: int, ingested_since: str) -> list[int]:
        """Articles ingested since ``ingested_since`` (UTC) that this subscription has not received."""
        rows = self.conn.execute(
            "SELECT a.id FROM articles a WHERE a.ingested_at >= ? AND NOT EXISTS "
            "(SELECT 1 FROM deliveries d WHERE d.subscription_id = ? AND d.article_id = a.id) ORDER BY a.id",
            (ingested_since, subscription_id),
        )
        return [int(r[0]) for r in rows]

    def delivered(self, subscription_id: int) -> set[int]:
        rows = self.conn.execute(
            "SELECT article_id FROM deliveries WHERE subscription_id = ?", (subscription_id,)
        )
        return {int(r[0]) for r in rows}


def _subscription(row: tuple[Any, ...]) -> Subscription:
    return Subscription(
        id=int(row[0]),
        chat_id=int(row[1]),
        at=str(row[2]),
        keywords=str(row[3]),
        created_at=str(row[4]),
        active=bool(row[5]),
    )
