"""The SQLite store of articles and paragraphs (sqlite-utils, WAL mode).

Writes happen one file per transaction (``BEGIN IMMEDIATE``), so a crash never leaves half a file and a
second process can keep reading while one writes. Every write that changes paragraphs bumps the
``generation`` counter, which the search index compares with its own to know whether it is current.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from .aliases import MINER_VERSION, AliasCount, MinedAlias, mine_each, mining_text
from .errors import StoreError
from .models import DEFAULT_TZ, Article, Paragraph, ParsedArticle, article_day
from .schema import migrate

__all__ = ["FileRecord", "IndexRow", "Store", "StoreState", "rollback"]

_ARTICLE_COLUMNS = (
    "id, headline, kicker, subtitle, byline, guide_label, external_id, date, source, page, url, author, "
    "jumps, file_id, ingested_at, day, headline_derived"
)
_ARTICLE_FIELDS = tuple(c.strip() for c in _ARTICLE_COLUMNS.split(","))


@dataclass(frozen=True, kw_only=True)
class StoreState:
    """What an index needs to know to tell whether it matches this database."""

    store_id: str
    generation: int
    paragraphs: int
    max_paragraph_id: int


@dataclass(frozen=True)
class FileRecord:
    id: int
    path: str
    sha256: str
    size: int
    format: str
    ingested_at: str
    articles: int
    paragraphs: int


@dataclass(frozen=True, kw_only=True)
class IndexRow:
    """One paragraph with the article fields the index needs."""

    paragraph_id: int
    article_id: int
    text: str
    headline: str
    kicker: str
    subtitle: str
    date: str | None
    source: str | None
    day: str  # the day its article counts on (corpus.models.article_day)


@dataclass(frozen=True)
class WriteResult:
    status: str  # "added", "replaced", or "unchanged" (another process stored the same content first)
    articles: int
    paragraphs: int
    replaced_articles: int


class Store:
    """A connection to the newsbot database. Open one per thread; writes are serialised by SQLite."""

    def __init__(self, path: str | Path, *, timeout: float = 30.0, tz: dt.tzinfo = DEFAULT_TZ) -> None:
        self.path = str(path)
        self.tz = tz  # what "the day it was ingested" means for an undated article
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, timeout=timeout, check_same_thread=False)
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a crash loses no committed file
            self.db.execute("PRAGMA cache_size = -8192")  # 8 MB: bounded, so a long-running bot stays flat
            if self.path != ":memory:":
                self.db.enable_wal()
            migrate(self.db, self.path)
            self.lock = threading.RLock()  # serialises this connection's writes across threads
            self._mine_stale_aliases()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- state --------------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        rows = list(self.db.query("SELECT value FROM meta WHERE key = ?", [key]))
        return rows[0]["value"] if rows else None

    def state(self) -> StoreState:
        row = next(
            self.db.query(
                "SELECT (SELECT value FROM meta WHERE key = 'store_id') AS store_id, "
                "(SELECT value FROM meta WHERE key = 'generation') AS generation, "
                "(SELECT count(*) FROM paragraphs) AS paragraphs, "
                "(SELECT coalesce(max(id), 0) FROM paragraphs) AS max_id"
            )
        )
        return StoreState(
            store_id=row["store_id"],
            generation=int(row["generation"]),
            paragraphs=row["paragraphs"],
            max_paragraph_id=row["max_id"],
        )

    # --- files --------------------------------------------------------------------------------------

    def file_by_hash(self, sha256: str) -> FileRecord | None:
        return self._file("sha256 = ?", sha256)

    def file_by_path(self, path: str) -> FileRecord | None:
        return self._file("path = ?", path)

    def _file(self, where: str, value: str) -> FileRecord | None:
        rows = list(
            self.db.query(
                "SELECT id, path, sha256, size, format, ingested_at, articles, paragraphs "
                f"FROM files WHERE {where} LIMIT 1",
                [value],
            )
        )
        return FileRecord(**rows[0]) if rows else None

    def write_file(
        self,
        path: str,
        sha256: str,
        size: int,
        fmt: str,
        encoding: str | None,
        articles: Iterable[ParsedArticle],
        now: str,
    ) -> WriteResult:
        """Store a file's articles in one transaction, replacing what an earlier version of it held.

        An article whose external id is already stored (from another file) replaces that article.
        ``articles`` may be a generator: it is consumed inside the transaction, so a JSON Lines file of
        any size is stored without being held in memory. If it raises, nothing of the file is kept.
        """
        with self.lock, self._transaction():
            conn = self.db.conn
            same = self.file_by_hash(sha256)
            if same is not None:  # another process stored this content while this one was reading it
                return WriteResult("unchanged", same.articles, same.paragraphs, 0)
            old = self.file_by_path(path)
            replaced = 0
            if old is not None:
                replaced += self._delete_articles("file_id = ?", [old.id])
                conn.execute(
                    "UPDATE files SET sha256 = ?, size = ?, format = ?, encoding = ?, ingested_at = ? WHERE id = ?",
                    (sha256, size, fmt, encoding, now, old.id),
                )
                file_id = old.id
            else:
                cur = conn.execute(
                    "INSERT INTO files (path, sha256, size, format, encoding, ingested_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (path, sha256, size, fmt, encoding, now),
                )
                file_id = int(cur.lastrowid or 0)
            n_articles, n_paragraphs, replaced_elsewhere = self._insert_articles(file_id, articles, now)
            conn.execute(
                "UPDATE files SET articles = ?, paragraphs = ? WHERE id = ?",
                (n_articles, n_paragraphs, file_id),
            )
            self._bump_generation()
        status = "replaced" if old is not None else "added"
        return WriteResult(status, n_articles, n_paragraphs, replaced + replaced_elsewhere)

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db.conn)

    def _insert_articles(
        self, file_id: int, articles: Iterable[ParsedArticle], now: str
    ) -> tuple[int, int, int]:
        conn = self.db.conn
        next_article = self._next_id("articles")
        next_paragraph = self._next_id("paragraphs")
        article_rows: list[tuple[Any, ...]] = []
        paragraph_rows: list[tuple[Any, ...]] = []
        alias_rows: list[tuple[Any, ...]] = []
        batch_ids: set[str] = set()
        n_articles = n_paragraphs = replaced = 0

        def flush() -> int:
            # An article whose external id is already stored replaces it; checked per batch, not per row.
            removed = 0
            for chunk in _chunks(sorted(batch_ids), 500):
                removed += self._delete_articles(f"external_id IN ({_marks(len(chunk))})", chunk)
            conn.executemany(
                f"INSERT INTO articles (id, file_id, position, external_id, headline, kicker, subtitle, byline, "
                f"guide_label, date, source, page, url, author, jumps, ingested_at, day, headline_derived) "
                f"VALUES ({_marks(18)})",
                article_rows,
            )
            conn.executemany(
                "INSERT INTO paragraphs (id, article_id, ordinal, kind, text) VALUES (?, ?, ?, ?, ?)",
                paragraph_rows,
            )
            conn.executemany(_INSERT_ALIAS, alias_rows)  # the triggers of schema v5 count them per pair
            article_rows.clear()
            paragraph_rows.clear()
            alias_rows.clear()
            batch_ids.clear()
            return removed

        # Abbreviations are mined ahead (in worker processes for a long file) while the rows are stored.
        mined = mine_each(
            articles, lambda a: mining_text(a.kicker, a.headline, a.subtitle, (p.text for p in a.paragraphs))
        )
        for position, (a, pairs) in enumerate(mined):
            if a.external_id is not None:
                if a.external_id in batch_ids:
                    replaced += flush()  # the later record of an id wins, also within one file
                batch_ids.add(a.external_id)
            article_rows.append(
                (
                    next_article,
                    file_id,
                    position,
                    a.external_id,
                    a.headline,
                    a.kicker,
                    a.subtitle,
                    a.byline,
                    a.guide_label,
                    a.date,
                    a.source,
                    a.page,
                    a.url,
                    a.author,
                    json.dumps(list(a.jumps), ensure_ascii=False) if a.jumps else "[]",
                    now,
                    article_day(a.date, now, self.tz),
                    int(a.headline_derived),
                )
            )
            for ordinal, p in enumerate(a.paragraphs, start=1):
                paragraph_rows.append((next_paragraph, next_article, ordinal, p.kind, p.text))
                next_paragraph += 1
            alias_rows += _alias_rows(next_article, pairs)
            n_articles += 1
            n_paragraphs += len(a.paragraphs)
            next_article += 1
            if len(paragraph_rows) >= 20000:
                replaced += flush()
        replaced += flush()
        self._reserve_id("articles", next_article - 1)
        self._reserve_id("paragraphs", next_paragraph - 1)
        return n_articles, n_paragraphs, replaced

    def _next_id(self, table: str) -> int:
        row = self.db.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        return (int(row[0]) if row else 0) + 1

    def _reserve_id(self, table: str, last: int) -> None:
        # Explicit ids bypass AUTOINCREMENT's bookkeeping only when smaller; keep the sequence at the top
        # so deleted ids are never handed out again (the index refers to paragraphs by id).
        conn = self.db.conn
        if conn.execute("SELECT 1 FROM sqlite_sequence WHERE name = ?", (table,)).fetchone():
            conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (last, table))
        else:
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, last))

    def _delete_articles(self, where: str, params: list[Any]) -> int:
        conn = self.db.conn
        ids = [r[0] for r in conn.execute(f"SELECT id FROM articles WHERE {where}", params)]
        if not ids:
            return 0
        generation = int(self.meta("generation") or 0) + 1
        for chunk in _chunks(ids, 500):
            marks = _marks(len(chunk))
            conn.execute(
                f"INSERT OR REPLACE INTO deleted_paragraphs (paragraph_id, generation) "
                f"SELECT id, ? FROM paragraphs WHERE article_id IN ({marks})",
                [generation, *chunk],
            )
            conn.execute(f"DELETE FROM paragraphs WHERE article_id IN ({marks})", chunk)
            conn.execute(f"DELETE FROM article_aliases WHERE article_id IN ({marks})", chunk)
            conn.execute(f"DELETE FROM articles WHERE id IN ({marks})", chunk)
        return len(ids)

    def _mine_stale_aliases(self) -> None:
        """Mine every stored article again when the mining rules changed since (or when the schema has just
        gained the tables), in one transaction; another process that got there first leaves nothing to do."""
        if self.meta("aliases_miner") == str(MINER_VERSION):
            return
        with self.lock, self._transaction():
            conn = self.db.conn
            if self.meta("aliases_miner") == str(MINER_VERSION):
                return
            conn.execute("DELETE FROM article_aliases")
            batch: list[tuple[Any, ...]] = []
            for (article_id, _), pairs in mine_each(self.mining_texts(), lambda row: row[1]):
                batch += _alias_rows(article_id, pairs)
                if len(batch) >= 10000:
                    conn.executemany(_INSERT_ALIAS, batch)
                    batch.clear()
            conn.executemany(_INSERT_ALIAS, batch)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('aliases_miner', ?)", (str(MINER_VERSION),)
            )

    def mining_texts(self) -> Iterator[tuple[int, str]]:
        """Every article's id and the text its abbreviations are mined from (``corpus.aliases.mining_text``)."""
        rows = self.db.conn.execute(
            "SELECT a.id, a.kicker, a.headline, a.subtitle, (SELECT group_concat(text, char(10)) FROM "
            "(SELECT text FROM paragraphs p WHERE p.article_id = a.id ORDER BY p.ordinal)) FROM articles a"
        )
        for article_id, kicker, headline, subtitle, body in rows:
            yield article_id, mining_text(kicker, headline, subtitle, [body or ""])

    def articles_with(self, text: str) -> set[int]:
        """The articles whose headline or a paragraph holds ``text`` (a scan: for benchmarks, not questions)."""
        rows = self.db.conn.execute(
            "SELECT id FROM articles WHERE instr(headline, ?) > 0 UNION "
            "SELECT article_id FROM paragraphs WHERE instr(text, ?) > 0",
            (text, text),
        )
        return {r[0] for r in rows}

    def _bump_generation(self) -> None:
        self.db.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")

    # --- reading ------------------------------------------------------------------------------------

    def article(self, article_id: int, *, paragraphs: bool = True) -> Article | None:
        rows = list(self.db.query(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", [article_id]))
        if not rows:
            return None
        return self._article(rows[0], paragraphs)

    def article_by_external_id(self, external_id: str, *, paragraphs: bool = True) -> Article | None:
        rows = list(
            self.db.query(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE external_id = ?", [external_id])
        )
        return self._article(rows[0], paragraphs) if rows else None

    def articles(
        self, *, day: str | None = None, limit: int = 50, offset: int = 0, with_paragraphs: bool = False
    ) -> list[Article]:
        """Articles newest first; with ``day`` only those that count on that day."""
        where, params = "", []
        if day:
            where = "WHERE day = ?"
            params.append(day)
        rows = self.db.query(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles {where} "
            "ORDER BY day DESC, ingested_at DESC, id ASC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [self._article(r, with_paragraphs) for r in rows]

    def articles_of_day(self, day: str) -> list[Article]:
        """The articles that count on ``day`` (dated that day, or undated and ingested then), with paragraphs."""
        rows = self.db.query(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE day = ? ORDER BY id", [day])
        return [self._article(r, True) for r in rows]

    def articles_by_ids(self, ids: list[int]) -> list[Article]:
        """These articles with paragraphs, in id order (missing ids are left out)."""
        out: list[Article] = []
        for chunk in _chunks(sorted(set(ids)), 500):
            rows = self.db.query(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id IN ({_marks(len(chunk))})", chunk
            )
            out.extend(self._article(r, True) for r in rows)
        return sorted(out, key=lambda a: a.id)

    def article_days(self, ids: list[int]) -> dict[int, str]:
        """Each article's day (``article_day``)."""
        out: dict[int, str] = {}
        for chunk in _chunks(sorted(set(ids)), 500):
            out.update(
                self.db.conn.execute(
                    f"SELECT id, day FROM articles WHERE id IN ({_marks(len(chunk))})",
                    chunk,
                ).fetchall()
            )
        return out

    def _article(self, row: dict[str, Any], with_paragraphs: bool) -> Article:
        paragraphs: tuple[Paragraph, ...] = ()
        if with_paragraphs:
            paragraphs = tuple(
                Paragraph(**p)
                for p in self.db.query(
                    "SELECT id, article_id, ordinal, kind, text FROM paragraphs WHERE article_id = ? ORDER BY ordinal",
                    [row["id"]],
                )
            )
        return _article_of(row, paragraphs)

    def paragraphs_with_articles(self, paragraph_ids: list[int]) -> dict[int, tuple[Paragraph, Article]]:
        """Look up paragraphs and their articles (without the articles' other paragraphs)."""
        out: dict[int, tuple[Paragraph, Article]] = {}
        articles: dict[int, Article] = {}
        columns = ", ".join("a." + c.strip() for c in _ARTICLE_COLUMNS.split(","))
        for chunk in _chunks(paragraph_ids, 500):
            # The raw cursor, not db.query(): this runs for every question and dict rows cost more.
            rows = self.db.conn.execute(
                f"SELECT p.id, p.article_id, p.ordinal, p.kind, p.text, {columns} "
                f"FROM paragraphs p JOIN articles a ON a.id = p.article_id WHERE p.id IN ({_marks(len(chunk))})",
                chunk,
            )
            for r in rows:
                article = articles.get(r[1])
                if article is None:
                    fields = dict(zip(_ARTICLE_FIELDS, r[5:], strict=True))
                    article = articles[r[1]] = _article_of(fields)
                out[r[0]] = (Paragraph(id=r[0], article_id=r[1], ordinal=r[2], kind=r[3], text=r[4]), article)
        return out

    def article_texts(self, ids: list[int], limit: int = 6000) -> dict[int, str]:
        """Each article's kicker, headline, subtitle and paragraphs as one text, a line each, cut after
        ``limit`` characters (the lead of a long article: where it says who, where and when)."""
        out: dict[int, str] = {}
        for chunk in _chunks(sorted(set(ids)), 500):
            rows = self.db.conn.execute(
                "SELECT a.id, substr(a.kicker || char(10) || a.headline || char(10) || a.subtitle || char(10) || "
                "(SELECT group_concat(text, char(10)) FROM (SELECT text FROM paragraphs p WHERE p.article_id = a.id "
                f"ORDER BY p.ordinal)), 1, ?) FROM articles a WHERE a.id IN ({_marks(len(chunk))})",
                [limit, *chunk],
            )
            out.update((r[0], r[1] or "") for r in rows)
        return out

    def external_ids(self) -> dict[int, str | None]:
        """Every article id with its external id."""
        return dict(self.db.conn.execute("SELECT id, external_id FROM articles").fetchall())

    def iter_index_rows(self, after_id: int = 0, batch: int = 20000) -> Iterator[IndexRow]:
        """Paragraphs with id > ``after_id`` in id order, with the article fields the index uses."""
        last = after_id
        while True:
            rows = self.db.conn.execute(
                "SELECT p.id, p.article_id, p.text, a.headline, a.kicker, a.subtitle, a.date, a.source, a.day "
                "FROM paragraphs p JOIN articles a ON a.id = p.article_id WHERE p.id > ? ORDER BY p.id LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield IndexRow(
                    paragraph_id=r[0], article_id=r[1], text=r[2], headline=r[3], kicker=r[4], subtitle=r[5],
                    date=r[6], source=r[7], day=r[8],
                )  # fmt: skip
            last = rows[-1][0]

    def deleted_since(self, generation: int) -> list[int]:
        """Paragraph ids deleted by writes after ``generation``."""
        return [
            r[0]
            for r in self.db.conn.execute(
                "SELECT paragraph_id FROM deleted_paragraphs WHERE generation > ?", (generation,)
            )
        ]

    def aliases(self, *, min_articles: int = 1, explicit: bool = False) -> list[AliasCount]:
        """The archive's abbreviations held by at least ``min_articles`` articles (with ``explicit``, only
        pairs some article states), most held first."""
        rows = self.db.conn.execute(
            "SELECT short, long, articles, explicit FROM aliases WHERE articles >= ? AND explicit >= ? "
            "ORDER BY articles DESC, explicit DESC, short, long",
            (min_articles, 1 if explicit else 0),
        )
        return [AliasCount(short=r[0], long=r[1], articles=r[2], explicit=r[3]) for r in rows]

    def alias_articles(self, short: str, long: str, *, explicit: bool = False) -> list[int]:
        """The articles holding a pair (with ``explicit``, those stating it), oldest first."""
        rows = self.db.conn.execute(
            "SELECT x.article_id FROM article_aliases x JOIN articles a ON a.id = x.article_id "
            "WHERE x.short = ? AND x.long = ? AND x.explicit >= ? ORDER BY a.day, a.id",
            (short, long, 1 if explicit else 0),
        )
        return [r[0] for r in rows]

    def stats(self) -> dict[str, Any]:
        row = next(
            self.db.query(
                "SELECT (SELECT count(*) FROM files) AS files, (SELECT count(*) FROM articles) AS articles, "
                "(SELECT count(*) FROM paragraphs) AS paragraphs, "
                "(SELECT coalesce(sum(length(text)), 0) FROM paragraphs) AS characters, "
                "(SELECT min(day) FROM articles) AS first_day, (SELECT max(day) FROM articles) AS last_day"
            )
        )
        return dict(row)

    def date_range(self) -> tuple[str, str] | None:
        """The first and last date of the dated articles (undated ones do not say what the archive covers)."""
        row = self.db.conn.execute(
            "SELECT min(date), max(date) FROM articles WHERE date IS NOT NULL"
        ).fetchone()
        return (row[0], row[1]) if row and row[0] else None

    def is_empty(self) -> bool:
        return self.db.conn.execute("SELECT 1 FROM articles LIMIT 1").fetchone() is None


def _article_of(row: dict[str, Any], paragraphs: tuple[Paragraph, ...] = ()) -> Article:
    return Article(
        **{
            **row,
            "jumps": tuple(json.loads(row["jumps"])),
            "headline_derived": bool(row["headline_derived"]),
            "paragraphs": paragraphs,
        }
    )


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception (KeyboardInterrupt included)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot start a write: {exc}") from exc

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return
            except sqlite3.Error as exc:
                rollback(self.conn)  # a full disk makes SQLite roll back by itself: then there is none to do
                raise StoreError(f"cannot save the write: {exc}") from exc
        rollback(self.conn)


def rollback(conn: sqlite3.Connection) -> None:
    """ROLLBACK if a transaction is open (SQLite may already have rolled back, e.g. on SQLITE_FULL)."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


_INSERT_ALIAS = "INSERT INTO article_aliases (article_id, short, long, explicit) VALUES (?, ?, ?, ?)"


def _alias_rows(article_id: int, pairs: list[MinedAlias]) -> list[tuple[int, str, str, int]]:
    return [(article_id, a.short, a.long, int(a.explicit)) for a in pairs]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
