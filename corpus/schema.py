"""The database schema and its migrations: the only place that says which tables exist.

Each migration brings the schema from version ``n - 1`` to ``n`` and runs in one transaction; the
version is kept in the ``meta`` table. A database written by a newer newsbot is refused rather than
guessed at.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlite_utils

from .errors import StoreError

SCHEMA_VERSION = 5


def _run(db: sqlite_utils.Database, script: str) -> None:
    # Not executescript(): it commits first, which would break the migration's transaction.
    for statement in script.split(";"):
        if statement.strip():
            db.conn.execute(statement)


def _v1(db: sqlite_utils.Database) -> None:
    _run(
        db,
        """
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE files (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            path TEXT NOT NULL UNIQUE,          -- where it came from (a path, or upload:NAME)
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            format TEXT NOT NULL,               -- jsonl, page, front-matter, markdown
            encoding TEXT,
            ingested_at TEXT NOT NULL,
            articles INTEGER NOT NULL DEFAULT 0,
            paragraphs INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX files_sha256 ON files(sha256);
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            file_id INTEGER REFERENCES files(id),
            position INTEGER NOT NULL,          -- order within its file
            external_id TEXT UNIQUE,
            headline TEXT NOT NULL,
            kicker TEXT NOT NULL DEFAULT '',
            subtitle TEXT NOT NULL DEFAULT '',
            byline TEXT NOT NULL DEFAULT '',
            guide_label TEXT NOT NULL DEFAULT '',
            date TEXT,                          -- YYYY-MM-DD, publication day
            source TEXT,
            page TEXT,
            url TEXT,
            author TEXT,
            jumps TEXT NOT NULL DEFAULT '[]',   -- JSON list of jump markers removed from the text
            ingested_at TEXT NOT NULL           -- UTC, ISO 8601
        );
        CREATE INDEX articles_file ON articles(file_id, position);
        CREATE INDEX articles_day ON articles(date, ingested_at);
        CREATE TABLE paragraphs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: the search index refers to it
            article_id INTEGER NOT NULL REFERENCES articles(id),
            ordinal INTEGER NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL
        );
        CREATE INDEX paragraphs_article ON paragraphs(article_id, ordinal);
        -- Paragraphs removed when a changed file replaced its articles, so an index can drop them.
        CREATE TABLE deleted_paragraphs (
            paragraph_id INTEGER PRIMARY KEY,
            generation INTEGER NOT NULL
        );
        """,
    )


def _v2(db: sqlite_utils.Database) -> None:
    """Bot state: answer sessions, the query log, blocked chats, digest subscriptions and deliveries."""
    _run(
        db,
        """
        CREATE TABLE answer_sessions (
            token TEXT PRIMARY KEY,             -- short random id carried in callback data
            chat_id INTEGER NOT NULL,
            query_id INTEGER,
            answer TEXT NOT NULL,               -- the composed answer as JSON
            created_at TEXT NOT NULL
        );
        CREATE INDEX answer_sessions_created ON answer_sessions(created_at);
        -- No user names or ids: what was asked, where (chat type), how it went.
        CREATE TABLE query_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            asked_at TEXT NOT NULL,
            question TEXT NOT NULL,
            chat_type TEXT NOT NULL,
            answered INTEGER NOT NULL,
            latency_ms REAL NOT NULL,
            feedback INTEGER                    -- 1 helpful, -1 not helpful
        );
        CREATE INDEX query_log_asked ON query_log(asked_at);
        CREATE TABLE blocked_chats (
            chat_id INTEGER PRIMARY KEY,
            since TEXT NOT NULL,
            reason TEXT NOT NULL
        );
        -- Daily digests: who gets one, when (local HH:MM), about what (keywords, empty for everything).
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL,
            at TEXT NOT NULL,
            keywords TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            ended_reason TEXT
        );
        CREATE INDEX subscriptions_chat ON subscriptions(chat_id, active);
        -- Articles each subscription has received: a scheduled digest never sends one twice.
        CREATE TABLE deliveries (
            subscription_id INTEGER NOT NULL,
            article_id INTEGER NOT NULL,
            delivered_at TEXT NOT NULL,
            PRIMARY KEY (subscription_id, article_id)
        ) WITHOUT ROWID;
        -- One scheduled digest of one subscription, so a broadcast cut short resumes where it stopped.
        CREATE TABLE digest_runs (
            subscription_id INTEGER NOT NULL,
            run_key TEXT NOT NULL,
            status TEXT NOT NULL,               -- pending, sent, empty, failed
            parts_sent INTEGER NOT NULL DEFAULT 0,  -- messages of a long digest already delivered
            attempts INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (subscription_id, run_key)
        ) WITHOUT ROWID
        """,
    )


def _v3(db: sqlite_utils.Database) -> None:
    """Articles without a title of their own are titled by their first sentence, marked as such."""
    _run(db, "ALTER TABLE articles ADD COLUMN headline_derived INTEGER NOT NULL DEFAULT 0")


def _v4(db: sqlite_utils.Database) -> None:
    """The day each article counts on, decided once when it is written (``Store``: its date, else the
    day it was ingested in the archive's time zone); existing undated ones keep their UTC day."""
    _run(
        db,
        """
        ALTER TABLE articles ADD COLUMN day TEXT;
        UPDATE articles SET day = coalesce(date, substr(ingested_at, 1, 10));
        CREATE INDEX articles_on_day ON articles(day)
        """,
    )


def _v5(db: sqlite_utils.Database) -> None:
    """The archive's abbreviations (``corpus.aliases``): the pairs each article holds, and per pair how many
    articles hold it, kept by triggers so that replacing or deleting an article keeps the counts right.
    The store fills them (and fills them again when the mining rules change: meta ``aliases_miner``)."""
    _run(
        db,
        """
        CREATE TABLE article_aliases (
            article_id INTEGER NOT NULL REFERENCES articles(id),
            short TEXT NOT NULL,
            long TEXT NOT NULL,
            explicit INTEGER NOT NULL,          -- 1: the article says so (以下简称…)
            PRIMARY KEY (article_id, short, long)
        ) WITHOUT ROWID;
        CREATE INDEX article_aliases_pair ON article_aliases(short, long);
        CREATE TABLE aliases (
            short TEXT NOT NULL,
            long TEXT NOT NULL,
            articles INTEGER NOT NULL,          -- articles holding the pair, explicitly or not
            explicit INTEGER NOT NULL,          -- of which state it
            PRIMARY KEY (short, long)
        ) WITHOUT ROWID
        """,
    )
    # Triggers hold semicolons: one statement each, not through _run.
    db.conn.execute(
        """
        CREATE TRIGGER article_aliases_added AFTER INSERT ON article_aliases BEGIN
            INSERT INTO aliases (short, long, articles, explicit) VALUES (NEW.short, NEW.long, 1, NEW.explicit)
            ON CONFLICT (short, long) DO UPDATE SET articles = articles + 1, explicit = explicit + excluded.explicit;
        END
        """
    )
    db.conn.execute(
        """
        CREATE TRIGGER article_aliases_removed AFTER DELETE ON article_aliases BEGIN
            UPDATE aliases SET articles = articles - 1, explicit = explicit - OLD.explicit
            WHERE short = OLD.short AND long = OLD.long;
            DELETE FROM aliases WHERE short = OLD.short AND long = OLD.long AND articles <= 0;
        END
        """
    )
    _set(db, "aliases_miner", "0")  # nothing mined yet: the store mines every article when it opens


MIGRATIONS: dict[int, Callable[[sqlite_utils.Database], None]] = {1: _v1, 2: _v2, 3: _v3, 4: _v4, 5: _v5}


def current_version(db: sqlite_utils.Database) -> int:
    if "meta" not in db.table_names():
        return 0
    rows = list(db.query("SELECT value FROM meta WHERE key = 'schema_version'"))
    return int(rows[0]["value"]) if rows else 0


def migrate(db: sqlite_utils.Database, path: str) -> None:
    """Bring the database to ``SCHEMA_VERSION``.

    Raises:
        StoreError: the database was written by a newer version of newsbot.
    """
    version = current_version(db)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version}, newer than this newsbot ({SCHEMA_VERSION}); upgrade newsbot"
        )
    while version < SCHEMA_VERSION:
        version += 1
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            if current_version(db) < version:  # another process may have migrated meanwhile
                MIGRATIONS[version](db)
                _set(db, "schema_version", str(version))
                if version == 1:
                    _set(db, "store_id", uuid.uuid4().hex)
                    _set(db, "generation", "0")
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise


def _set(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
