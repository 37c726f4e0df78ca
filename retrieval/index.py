"""The search index of a store: build, persist, load, bring up to date, and rank paragraphs.

``SearchIndex`` is an immutable snapshot (BM25 postings, vocabulary size, per-document paragraph/article
ids, days and sources). ``IndexManager`` owns the current snapshot of one database: it loads the persisted
index when it matches the database (same store id, tokenizer and parameters, intact files), applies the
paragraphs added or deleted since, rebuilds from the database otherwise, and swaps the new snapshot in
atomically, so queries never wait for an update.
"""

from __future__ import annotations

import atexit
import dataclasses
import datetime as dt
import logging
import math
import os
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from corpus import IndexRow, Store, StoreState

from . import kernels, persist
from .bm25 import BM25Index, BM25Params, Segment, merge_segments, segment_from_pairs
from .doctokens import ChunkMap, ChunkTerms, DocumentTokenizer, Terms
from .errors import IndexCorrupt
from .tokenize import Tokenizer
from .vocab import Vocabulary

__all__ = ["NO_DAY", "IndexManager", "Ranked", "SearchIndex", "day_number"]

log = logging.getLogger(__name__)

NO_DAY = int(np.iinfo(np.int32).min)
IntArray32 = npt.NDArray[np.int32]
R = TypeVar("R")
_BATCH_DOCS = 100_000  # paragraphs a segment is built from at a time (then merged): bounds its memory
_MAX_SEGMENTS = 8  # beyond this, small segments are merged into one
_COMPACT_DELETED_SHARE = 0.2
_TERM_CACHE = 100_000  # term ids a snapshot remembers
_MAX_RANGES = 1024  # stretches of days a date filter reads by ranges; beyond, it is a mask
_SAVE_RETRY_SECONDS = 300  # after a failed save, how long before trying again
# A snapshot of this many paragraphs has its terms' bounds found on a thread as soon as it is served (1.4 s at
# 1M paragraphs): found on a question's first use of a term instead, they slow the first questions after each
# start or refresh (news ×10, the 240 dev questions asked 3 s after opening, two runs each way: mean 11.2 and
# 11.1 → 9.9 and 8.1 ms, p95 21.3 and 19.7 → 15.6 and 13.9 ms).
_BOUNDS_DOCS = 1 << 18


def day_number(day: str | None) -> int:
    """Days since 0001-01-01 for ``YYYY-MM-DD``; ``NO_DAY`` for none."""
    return dt.date.fromisoformat(day).toordinal() if day else NO_DAY


@dataclass(frozen=True, kw_only=True)
class Ranked:
    """One ranked paragraph: its ids, score and the query terms it holds."""

    paragraph_id: int
    article_id: int
    score: float
    matched: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Filters:
    """Which paragraphs a ranking may return, by their article: its day (``day_from``/``day_to``, inclusive;
    an undated article has no day for ``day_to``), publication, id, or a day within one of ``periods``."""

    day_from: str | None = None
    day_to: str | None = None
    source: str | None = None
    exclude_articles: frozenset[int] = frozenset()
    periods: tuple[tuple[dt.date, dt.date], ...] = ()


NO_FILTERS = Filters()


@dataclass(frozen=True, kw_only=True)
class SearchIndex:
    """An immutable index snapshot over the paragraphs of one store at one generation."""

    bm25: BM25Index
    vocab: Vocabulary
    n_terms: int
    paragraph_id: npt.NDArray[np.int64]
    article_id: npt.NDArray[np.int64]
    day: npt.NDArray[np.int32]
    source: npt.NDArray[np.int32]
    sources: tuple[str, ...]
    store_id: str
    generation: int
    max_paragraph_id: int
    saved: tuple[str, ...] = ()  # names of persisted segments, in order; fewer than segments if unsaved
    saved_deleted: int = 0  # how many deletions the persisted deleted list holds
    saved_generation: int = -1
    files: tuple[tuple[str, int], ...] = ()  # files this snapshot memory-maps, with their sizes
    # Term ids this snapshot has looked up (a question asks for the same words and pairs many times over:
    # ranking, matched terms, relevance); bounded, and never shared with another snapshot.
    _term_ids: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def n_paragraphs(self) -> int:
        return self.bm25.n_live

    def intact(self) -> bool:
        """Whether the files this snapshot maps still have their sizes: a file truncated under a mapping
        kills the process (SIGBUS) when the lost part is read, so a changed one is never read again. A
        file another process removed is fine: unlinking does not unmap."""
        for path, size in self.files:
            try:
                if os.stat(path).st_size != size:
                    return False
            except FileNotFoundError:
                continue
            except OSError:
                return False
        return True

    def term_id(self, token: str) -> int:
        """The id of ``token`` in this snapshot, or -1."""
        cache = self._term_ids
        found = cache.get(token)
        if found is None:
            found = self.vocab.get(token)
            if found >= self.n_terms:
                found = -1  # added to the shared vocabulary after this snapshot
            if len(cache) >= _TERM_CACHE:
                cache.clear()
            cache[token] = found
        return found

    def term_ids(self, tokens: Sequence[str]) -> list[int]:
        return [self.term_id(t) for t in tokens]

    def rank(
        self,
        query: Sequence[str],
        k: int,
        filters: Filters = NO_FILTERS,
        weights: Sequence[float] | None = None,
        floor: float | None = None,
    ) -> list[Ranked]:
        """The top ``k`` paragraphs for query tokens (with repeats, as rank_bm25 takes them) among those
        ``filters`` let through; ``weights`` (one per token, default 1) scale the tokens' scores. With
        ``floor``, paragraphs scoring below it are not wanted (``BM25Index.top``)."""
        ids = self.term_ids(query)
        mask, ranges = self._selection(filters)
        top = self.bm25.top(ids, k, mask, weights, ranges, floor)
        docs = top.docs
        held = self.bm25.holding(ids, docs).T.tolist()  # per hit, whether it holds each query token
        paragraph_ids = self.paragraph_id[docs].tolist()
        article_ids = self.article_id[docs].tolist()
        out = []
        for col, score in enumerate(top.scores.tolist()):
            matched = tuple(dict.fromkeys(t for t, h in zip(query, held[col], strict=True) if h))
            out.append(
                Ranked(
                    paragraph_id=paragraph_ids[col], article_id=article_ids[col], score=score, matched=matched
                )
            )
        return out

    def idf(self, token: str) -> float:
        return self.bm25.idf(self.term_id(token))

    def articles_per_day(self, tokens: Sequence[str]) -> dict[int, int]:
        """For each day (``day_number``), how many live articles hold every one of ``tokens``."""
        ids = self.term_ids(tokens)
        if not ids or min(ids) < 0:
            return {}
        holding: npt.NDArray[np.int64] | None = None
        for term in ids:
            docs = np.concatenate(
                [seg.postings(term)[0] for seg in self.bm25.segments] or [np.zeros(0, np.int32)]
            )
            docs = docs.astype(np.int64)
            holding = docs if holding is None else np.intersect1d(holding, docs, assume_unique=True)
        if holding is None or not holding.shape[0]:
            return {}
        holding = holding[~self.bm25.deleted[holding]]
        pairs = np.unique(np.stack([self.day[holding].astype(np.int64), self.article_id[holding]]), axis=1)
        days, counts = np.unique(pairs[0], return_counts=True)
        return {int(d): int(c) for d, c in zip(days.tolist(), counts.tolist(), strict=True) if d != NO_DAY}

    def df(self, token: str) -> int:
        """How many live paragraphs hold ``token``."""
        return self.bm25.df(self.term_id(token))

    def weight(self, token: str) -> float:
        """Smoothed inverse document frequency, log((N + 1) / (df + 0.5)): positive, largest for unknown terms.

        Unlike BM25's Okapi IDF it never turns negative or flat for common words, so it can weigh the
        share of a question a paragraph covers.
        """
        return math.log((self.n_paragraphs + 1) / (self.df(token) + 0.5))

    def _selection(self, f: Filters) -> tuple[npt.NDArray[np.bool_] | None, npt.NDArray[np.int64] | None]:
        """Which paragraphs ``f`` lets through: a mask and document ranges (None: no limit of that kind).
        Days are ranges when the paragraphs of the chosen days lie in a few stretches (an archive ingested
        in date order: a month is one); the ranking then reads only those stretches of each posting list."""
        if f == NO_FILTERS:
            return None, None
        ranges = self._day_ranges(f) if f.day_from or f.day_to or f.periods else None
        return self._mask(f, days=ranges is None), ranges

    def _day_ranges(self, f: Filters) -> npt.NDArray[np.int64] | None:
        """The ``[start, stop)`` document ranges of the days ``f`` allows, or None when they are too many."""
        runs = self._cache.get("runs")
        if runs is None:  # stretches of paragraphs of one day, once per snapshot
            day = self.day
            change = np.flatnonzero(day[1:] != day[:-1]) + 1
            starts = np.concatenate([[0], change]).astype(np.int64)
            stops = np.concatenate([change, [day.shape[0]]]).astype(np.int64)
            few = starts.shape[0] <= max(day.shape[0] // 16, _MAX_RANGES)  # else: not in date order
            runs = self._cache["runs"] = (starts, stops, day[starts]) if few else ()
        if not runs:
            return None
        starts, stops, days = runs
        keep = self._days_allowed(f, days)
        starts, stops = starts[keep], stops[keep]
        apart = starts[1:] != stops[:-1]  # stretches that touch are joined
        first, last = np.concatenate([[True], apart]), np.concatenate([apart, [True]])
        ranges = (
            np.stack([starts[first], stops[last]], axis=1) if starts.shape[0] else np.zeros((0, 2), np.int64)
        )
        return ranges if ranges.shape[0] <= _MAX_RANGES else None

    @staticmethod
    def _days_allowed(f: Filters, day: npt.NDArray[np.int32]) -> npt.NDArray[np.bool_]:
        """Which of the ``day`` numbers ``f``'s days let through."""
        keep = np.ones(day.shape[0], dtype=np.bool_)
        if f.day_from:
            keep &= day >= day_number(f.day_from)
        if f.day_to:
            keep &= (day <= day_number(f.day_to)) & (day != NO_DAY)
        if f.periods:
            within = np.zeros(day.shape[0], dtype=np.bool_)
            for first, last in f.periods:
                within |= (day >= first.toordinal()) & (day <= last.toordinal())
            keep &= within
        return keep

    def _mask(self, f: Filters, *, days: bool = True) -> npt.NDArray[np.bool_] | None:
        """Which paragraphs ``f`` lets through (None: all of them), its days left out unless ``days``."""
        if not (f.exclude_articles or f.source or (days and (f.day_from or f.day_to or f.periods))):
            return None
        mask = np.ones(self.bm25.n_docs, dtype=np.bool_)
        if f.exclude_articles:
            mask &= ~np.isin(self.article_id, np.fromiter(f.exclude_articles, dtype=np.int64))
        if days:
            mask &= self._days_allowed(f, self.day)
        if f.source:
            code = self.sources.index(f.source) if f.source in self.sources else -2
            mask &= self.source == code
        return mask

    def doc_numbers(self, paragraph_ids: Iterable[int]) -> npt.NDArray[np.int64]:
        """Document numbers of the given paragraph ids (ids not in the index are left out)."""
        wanted = np.fromiter(paragraph_ids, dtype=np.int64)
        pos = np.searchsorted(self.paragraph_id, wanted)
        pos = np.minimum(pos, max(self.paragraph_id.shape[0] - 1, 0))
        hit = self.paragraph_id[pos] == wanted if self.paragraph_id.shape[0] else np.zeros(0, bool)
        found: npt.NDArray[np.int64] = pos[hit].astype(np.int64)
        return found


class IndexManager:
    """The current index of one database, kept in step with it and persisted beside it."""

    def __init__(
        self,
        folder: Path | None,
        tokenizer: Tokenizer,
        params: BM25Params = BM25Params(),  # noqa: B008 - frozen, immutable default
        title_copies: int = 2,
        chunk_map: ChunkMap | None = None,
    ) -> None:
        self.folder = folder
        self.tokenizer = tokenizer
        self.params = params
        self.title_copies = title_copies
        self._doc_tokens = DocumentTokenizer(tokenizer, title_copies, chunk_map)
        self._lock = threading.Lock()  # one updater at a time; readers never take it
        self._current: SearchIndex | None = None
        self._folder_lock = persist.FolderLock(folder) if folder is not None else None
        self._next_save_attempt = 0.0  # after a failed save (full disk, read-only folder), when to retry

    @property
    def signature(self) -> dict[str, Any]:
        return {
            "tokenizer": self.tokenizer.signature,
            "title_copies": self.title_copies,
            "params": self.params.__dict__,
        }

    @property
    def current(self) -> SearchIndex:
        if self._current is None:
            raise RuntimeError("the index is not open; call IndexManager.open(store) first")
        return self._current

    def open(self, store: Store, *, progress: Callable[[int], None] | None = None) -> SearchIndex:
        """Load the persisted index if it matches the store, bring it up to date, else rebuild; persist."""
        kernels.warm_up()  # compile (or load the cached compilation) now, not on the first question
        with self._lock:
            state = store.state()
            self._current = current = self._save(self._up_to_date(store, state, progress))
        return current

    def refresh(self, store: Store, *, progress: Callable[[int], None] | None = None) -> SearchIndex:
        """Apply what changed in the store since the current snapshot (cheap when nothing did); rebuild a
        snapshot whose files were damaged; retry a save that failed."""
        with self._lock:
            current = self._current
            state = store.state()
            if current is not None and not current.intact():
                log.warning(
                    "the search index's files changed under this process: rebuilding from the database"
                )
                current = None
            if (
                current is not None
                and current.store_id == state.store_id
                and current.generation == state.generation
            ):
                if (
                    current.saved_generation != current.generation
                    and time.monotonic() >= self._next_save_attempt
                ):
                    self._current = current = self._save(current)
                return current
            if current is None or current.store_id != state.store_id:
                index = self._build(store, state, progress)
            else:
                index = self._update(current, store, state, progress)
            self._current = self._save(index)
            return self._current

    def follow(self, store: Store, write: Callable[[Callable[[], None]], R]) -> R:
        """Run ``write``, which writes to ``store`` and calls the function it is given after each commit,
        while the paragraphs it commits are indexed; then bring the index up to date and persist it.

        The index ends as ``open`` after ``write`` would leave it (the same chunks, vocabulary ids, batches
        and postings), but segmenting runs beside the writing instead of after it: a bulk ingest of many
        files keeps the workers (pool or Ray) busy while this process parses and stores the next file. The
        rows are read through a connection of their own, so only committed ones are indexed; what ``write``
        deleted is applied at the end, as ``refresh`` does. Indexing that fails is done again afterwards.
        """
        with self._lock:
            state = store.state()
            index = self._up_to_date(store, state, None)
            writing = _Writing()
            built: list[SearchIndex] = []
            failed: list[BaseException] = []
            reader = Store(store.path, tz=store.tz)  # opened before the writer holds the write lock

            def build() -> None:
                try:
                    rows = _committed_rows(reader, index.max_paragraph_id, writing)
                    built.append(self._append(index, rows, state, None, None))
                except Exception as exc:  # the index is built after the writing instead
                    failed.append(exc)

            builder = threading.Thread(target=build, name="index-while-writing", daemon=True)
            builder.start()
            try:
                result = write(writing.committed.set)
            except BaseException:
                writing.abandoned = True  # the writer's error goes on at once; nothing is saved
                raise
            finally:
                writing.finished.set()
                writing.committed.set()
                builder.join()
                reader.close()
            if failed:
                log.warning("indexing while writing failed (%s): indexing after it", failed[0])
            final = store.state()
            self._current = self._save(self._update(built[0] if built else index, store, final, None))
        kernels.warm_up()
        return result

    def reload(self, store: Store) -> SearchIndex:
        """Drop the in-memory snapshot and open again from disk (after an external ``newsbot ingest``)."""
        with self._lock:
            self._current = None
        return self.open(store)

    def rebuild(self, store: Store, damaged: SearchIndex) -> SearchIndex:
        """Build the index anew from the database when ``damaged`` (the snapshot a query failed on) is still
        the current one; another thread may have done it already."""
        with self._lock:
            if self._current is damaged or self._current is None:
                log.warning("the search index is damaged: rebuilding it from the database")
                state = store.state()
                self._current = self._save(self._build(store, state, None), replace_damaged=True)
            return self._current

    # --- building ------------------------------------------------------------------------------------

    def _up_to_date(
        self, store: Store, state: StoreState, progress: Callable[[int], None] | None
    ) -> SearchIndex:
        """The persisted index brought up to ``state`` when it matches the store, else one built anew."""
        index = self._load(state)
        return (
            self._build(store, state, progress)
            if index is None
            else self._update(index, store, state, progress)
        )

    def _build(self, store: Store, state: StoreState, progress: Callable[[int], None] | None) -> SearchIndex:
        log.info("building the search index over %d paragraphs", state.paragraphs)
        empty = SearchIndex(
            bm25=BM25Index.create(self.params, [], 0),
            vocab=Vocabulary(),
            n_terms=0,
            paragraph_id=np.zeros(0, np.int64),
            article_id=np.zeros(0, np.int64),
            day=np.zeros(0, np.int32),
            source=np.zeros(0, np.int32),
            sources=(),
            store_id=state.store_id,
            generation=0,
            max_paragraph_id=0,
        )
        return self._append(empty, store.iter_index_rows(0), state, progress, state.paragraphs)

    def _update(
        self, index: SearchIndex, store: Store, state: StoreState, progress: Callable[[int], None] | None
    ) -> SearchIndex:
        gone = store.deleted_since(index.generation)
        if gone:
            docs = index.doc_numbers(gone)
            index = _replace(index, bm25=index.bm25.delete(docs.tolist()))
        rows = store.iter_index_rows(index.max_paragraph_id)
        index = self._append(index, rows, state, progress, state.paragraphs - index.n_paragraphs)
        if index.n_paragraphs != state.paragraphs:
            log.warning(
                "index holds %d paragraphs, database %d: rebuilding", index.n_paragraphs, state.paragraphs
            )
            return self._build(store, state, progress)
        return index

    def _append(
        self,
        index: SearchIndex,
        rows: Iterable[IndexRow],
        state: StoreState,
        progress: Callable[[int], None] | None,
        expected: int | None,
    ) -> SearchIndex:
        """``index`` with ``rows`` (about ``expected`` of them; None: unknown) added, at ``state``'s generation."""
        sources = list(index.sources)
        before = len(index.bm25.segments)
        pulled: deque[IndexRow] = deque()  # rows read for chunks, not yet in a batch
        # Seconds of the current batch: getting its chunks' terms (reading rows, segmenting here or waiting
        # for the workers, mapping ids to the vocabulary) and, of that, mapping ids.
        spent = {"terms": 0.0, "mapping": 0.0}

        def read() -> Iterator[IndexRow]:
            for row in rows:
                pulled.append(row)
                yield row

        def flush(
            index: SearchIndex,
            batch: list[IndexRow],
            parts: list[tuple[IntArray32, IntArray32]],
            lengths: list[npt.NDArray[np.int64]],
            spill: bool,
        ) -> SearchIndex:
            started = time.perf_counter()
            terms = np.concatenate([t for t, _ in parts]) if parts else np.zeros(0, np.int32)
            docs = np.concatenate([d for _, d in parts]) if parts else np.zeros(0, np.int32)
            parts.clear()
            doc_len = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
            lengths.clear()
            segment = segment_from_pairs(index.bm25.n_docs, terms, docs, doc_len)
            del terms, docs
            # The batch's phases (``python -m bench cluster --parts bulk`` reads this record's arguments).
            log.debug(
                "indexed %d paragraphs: terms %.1fs (id mapping %.1fs), postings %.1fs",
                len(batch), spent["terms"], spent["mapping"], time.perf_counter() - started,
            )  # fmt: skip
            spent.update(terms=0.0, mapping=0.0)
            n_terms = len(index.vocab)
            codes = []
            for row in batch:
                if row.source and row.source not in sources:
                    sources.append(row.source)
                codes.append(sources.index(row.source) if row.source else -1)
            if spill and self.folder is not None:
                segment = _spilled(segment, self.folder)
            return _replace(
                index,
                bm25=index.bm25.add_segment(segment, n_terms),
                n_terms=n_terms,
                paragraph_id=np.concatenate([index.paragraph_id, [r.paragraph_id for r in batch]]).astype(
                    np.int64
                ),
                article_id=np.concatenate([index.article_id, [r.article_id for r in batch]]).astype(np.int64),
                day=np.concatenate([index.day, [day_number(r.day) for r in batch]]).astype(np.int32),
                source=np.concatenate([index.source, codes]).astype(np.int32),
                sources=tuple(sources),
                max_paragraph_id=batch[-1].paragraph_id,
            )

        batch: list[IndexRow] = []
        parts: list[tuple[IntArray32, IntArray32]] = []
        lengths: list[npt.NDArray[np.int64]] = []  # each chunk's rows' lengths
        done = 0
        # One stream of chunks for the whole build: the workers go on with the next batch's chunks while
        # this process builds a batch's segment.
        waited_from = time.perf_counter()
        for chunk in self._doc_tokens.chunks(read(), expected):
            mapping = time.perf_counter()
            terms, docs = _chunk_terms(chunk, index.vocab)
            spent["mapping"] += time.perf_counter() - mapping
            spent["terms"] += time.perf_counter() - waited_from
            # 32 bits: half the memory of a batch's occurrences
            parts.append((terms.astype(np.int32), (docs + len(batch)).astype(np.int32)))
            lengths.append(np.bincount(docs, minlength=chunk.rows))  # here, where a chunk's rows are few
            batch.extend(pulled.popleft() for _ in range(chunk.rows))
            if len(batch) >= _BATCH_DOCS:
                # A build of several batches keeps each batch's postings on disk until they are merged.
                index = flush(index, batch, parts, lengths, spill=True)
                done += len(batch)
                batch = []
                if progress:
                    progress(done)
            waited_from = time.perf_counter()
        if batch:
            index = flush(index, batch, parts, lengths, spill=done > 0)
            if progress:
                progress(done + len(batch))
        return _replace(_merge_new(index, before), generation=state.generation, store_id=state.store_id)

    # --- persistence -----------------------------------------------------------------------------------

    def _load(self, state: StoreState) -> SearchIndex | None:
        if self.folder is None or self._folder_lock is None or not self.folder.exists():
            return None
        with self._folder_lock.hold(exclusive=False):  # no writer swaps files while they are mapped
            try:
                manifest = persist.read_manifest(self.folder)
                if manifest is None:
                    return None
                if manifest.get("store_id") != state.store_id or manifest.get("signature") != _jsonable(
                    self.signature
                ):
                    log.info("the saved index belongs to another database or configuration: rebuilding")
                    return None
                return self._from_manifest(manifest)
            except IndexCorrupt as exc:
                log.warning("the saved search index is damaged (%s): rebuilding", exc)
                return None
            except OSError as exc:
                log.warning("cannot read the saved search index (%s): rebuilding", exc)
                return None

    def _from_manifest(self, manifest: dict[str, Any]) -> SearchIndex:
        assert self.folder is not None
        parts = [persist.load_segment(self.folder, entry) for entry in manifest["segments"]]
        expected_start = 0
        for p in parts:
            if p.term_range[0] != expected_start:
                raise IndexCorrupt("segments' vocabularies do not follow each other")
            expected_start = p.term_range[1]
        vocab = Vocabulary(
            [w for p in parts for w in p.words],
            np.concatenate([p.word_ids for p in parts]).tolist() if parts else [],
            np.concatenate([p.pairs for p in parts]) if parts else None,
            np.concatenate([p.pair_ids for p in parts]) if parts else None,
        )
        n_terms = vocab.n_terms
        if n_terms != expected_start or any(p.segment.n_terms > n_terms for p in parts):
            raise IndexCorrupt("a segment refers to terms beyond the vocabulary")
        deleted_docs = persist.load_deleted(self.folder, manifest.get("deleted"))
        n_docs = sum(p.segment.n_docs for p in parts)
        expected = 0
        for p in parts:
            if p.segment.first_doc != expected:
                raise IndexCorrupt("segments do not follow each other")
            expected += p.segment.n_docs
        if deleted_docs.shape[0] and (deleted_docs.min() < 0 or deleted_docs.max() >= n_docs):
            raise IndexCorrupt("deleted list refers to documents that do not exist")
        mask = np.zeros(n_docs, dtype=np.bool_)
        mask[deleted_docs] = True

        def cat(name: str, dtype: type) -> npt.NDArray[Any]:
            if not parts:
                return np.zeros(0, dtype=dtype)
            return np.concatenate([getattr(p, name) for p in parts]).astype(dtype, copy=False)

        return SearchIndex(
            bm25=BM25Index.create(self.params, [p.segment for p in parts], n_terms, mask),
            vocab=vocab,
            n_terms=n_terms,
            paragraph_id=cat("paragraph_id", np.int64),
            article_id=cat("article_id", np.int64),
            day=cat("day", np.int32),
            source=cat("source", np.int32),
            sources=tuple(manifest["sources"]),
            store_id=manifest["store_id"],
            generation=int(manifest["generation"]),
            max_paragraph_id=int(manifest["max_paragraph_id"]),
            saved=tuple(p.name for p in parts),
            saved_deleted=int(deleted_docs.shape[0]),
            saved_generation=int(manifest["generation"]),
            files=persist.mapped_files(self.folder, manifest),
        )

    def _save(self, index: SearchIndex, *, replace_damaged: bool = False) -> SearchIndex:
        """The snapshot to serve next, persisted (``_persist``); a large one has its terms' bounds found on a
        thread of its own meanwhile (``BM25Index.find_bounds``)."""
        saved = self._persist(index, replace_damaged=replace_damaged)
        if saved.bm25.n_docs >= _BOUNDS_DOCS:
            _find_bounds(saved.bm25)
        return saved

    def _persist(self, index: SearchIndex, *, replace_damaged: bool = False) -> SearchIndex:
        """Persist what is not yet on disk, best effort: a full disk or a read-only folder is logged and the
        index serves from memory; the save is tried again on a later refresh."""
        index = self._maybe_merge(index)
        n_deleted = int(index.bm25.deleted.sum())
        if (
            self.folder is None
            or self._folder_lock is None
            or (
                len(index.saved) == len(index.bm25.segments)
                and n_deleted == index.saved_deleted
                and index.saved_generation == index.generation
            )
        ):
            return index
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._folder_lock.hold(exclusive=True):
                saved = self._write(index, n_deleted, replace_damaged)
        except OSError as exc:
            self._next_save_attempt = time.monotonic() + _SAVE_RETRY_SECONDS
            log.warning("cannot save the search index in %s (%s): serving it from memory", self.folder, exc)
            return index
        self._next_save_attempt = 0.0
        return saved

    def _write(self, index: SearchIndex, n_deleted: int, replace_damaged: bool) -> SearchIndex:
        """Write new segments, the deleted list and the manifest (the folder's lock held)."""
        assert self.folder is not None
        segments = index.bm25.segments
        persist.remove_stale_temp(self.folder)  # no other writer is running: the lock says so
        try:
            old = persist.read_manifest(self.folder)
        except IndexCorrupt:
            old = None  # it was rebuilt because of this; it is replaced below
        if (
            old is not None
            and not replace_damaged
            and old.get("store_id") == index.store_id
            and int(old.get("generation", -1)) > index.generation
        ):
            return index  # another process saved a newer index meanwhile: keep it, refresh will load it
        if replace_damaged:
            old = None  # nothing of the damaged files is reused
        old_entries = {e["name"]: e for e in (old or {}).get("segments", [])}
        entries: list[dict[str, Any]] = []
        known_terms = 0
        for i, seg in enumerate(segments):
            term_range = (known_terms, max(known_terms, seg.n_terms))
            if i < len(index.saved) and index.saved[i] in old_entries:
                entry = old_entries[index.saved[i]]
            else:
                lo, hi = seg.first_doc, seg.first_doc + seg.n_docs
                doc_arrays: dict[str, npt.NDArray[Any]] = {
                    "paragraph_id": index.paragraph_id[lo:hi],
                    "article_id": index.article_id[lo:hi],
                    "day": index.day[lo:hi],
                    "source": index.source[lo:hi],
                }
                entry = persist.write_segment(
                    self.folder, seg, doc_arrays, index.vocab.owned(*term_range), term_range
                )
            known_terms = term_range[1]
            entries.append(entry)
        if known_terms != index.n_terms:
            raise RuntimeError(
                f"segments own {known_terms} of {index.n_terms} terms"
            )  # an invariant, not input
        deleted = (
            persist.write_deleted(self.folder, np.flatnonzero(index.bm25.deleted)) if n_deleted else None
        )
        persist.write_manifest(
            self.folder,
            {
                "store_id": index.store_id,
                "generation": index.generation,
                "max_paragraph_id": index.max_paragraph_id,
                "paragraphs": index.n_paragraphs,
                "signature": _jsonable(self.signature),
                "sources": list(index.sources),
                "segments": entries,
                "deleted": deleted,
            },
        )
        names = tuple(e["name"] for e in entries)
        files = tuple(f for f in index.files if Path(f[0]).parent.name in names)  # merged ones are in memory
        return _replace(
            index, saved=names, saved_deleted=n_deleted, saved_generation=index.generation, files=files
        )

    def _maybe_merge(self, index: SearchIndex) -> SearchIndex:
        bm25 = index.bm25
        if bm25.n_docs and bm25.deleted.sum() > _COMPACT_DELETED_SHARE * bm25.n_docs:
            compacted, renumber = bm25.compacted()
            keep = renumber >= 0
            return _replace(
                index,
                bm25=compacted,
                paragraph_id=index.paragraph_id[keep],
                article_id=index.article_id[keep],
                day=index.day[keep],
                source=index.source[keep],
                saved=(),
                saved_deleted=0,
            )
        segs = bm25.segments
        if len(segs) <= _MAX_SEGMENTS:
            return index
        # Merge the run of small segments at the end (those under a tenth of the largest one).
        largest = max(s.n_docs for s in segs)
        start = len(segs) - 1
        while start > 0 and segs[start - 1].n_docs < largest / 10:
            start -= 1
        if len(segs) - start < 2:
            start = len(segs) - _MAX_SEGMENTS // 2
        merged = merge_segments(segs[start:])
        return _replace(index, bm25=bm25.with_segments((*segs[:start], merged)), saved=index.saved[:start])


@dataclass
class _Writing:
    """What the writer of ``IndexManager.follow`` tells the thread indexing what it writes."""

    committed: threading.Event = field(default_factory=threading.Event)  # set after each commit
    finished: threading.Event = field(default_factory=threading.Event)  # set when the writer is done
    abandoned: bool = False  # the writer failed: stop indexing


class _Abandoned(Exception):
    """The writer failed: the index being built beside it is dropped (no batch flushed, nothing merged)."""


def _committed_rows(reader: Store, after: int, writing: _Writing) -> Iterator[IndexRow]:
    """Rows with id above ``after`` as their writer commits them (ids only grow: AUTOINCREMENT), until the
    writer has finished and everything it committed is read."""
    while True:
        last_round = writing.finished.is_set()
        writing.committed.clear()
        for row in reader.iter_index_rows(after):
            if writing.abandoned:
                raise _Abandoned
            after = row.paragraph_id
            yield row
        if writing.abandoned:
            raise _Abandoned
        if last_round:
            return
        writing.committed.wait()


def _spilled(segment: Segment, folder: Path) -> Segment:
    """``segment`` with its postings' words written to disk and memory-mapped (the files unlinked at once: the
    mapping keeps them until it goes, and a killed build leaves nothing behind), so a build's batches wait
    for their merge outside the process's memory; the merge then releases what it has read. Where the
    folder cannot take them (read-only, full) the segment stays as it is."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f".tmp-build-{os.getpid()}-{uuid.uuid4().hex[:12]}.npy"
        try:
            np.save(path, segment.packed.bits, allow_pickle=False)
            bits = np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
        finally:
            path.unlink(missing_ok=True)
    except OSError as exc:
        log.debug("keeping a batch's postings in memory (%s)", exc)
        return segment
    return dataclasses.replace(segment, packed=dataclasses.replace(segment.packed, bits=bits))


def _merge_new(index: SearchIndex, before: int) -> SearchIndex:
    """The segments a bulk build or a large ingest added, merged into one: a query visits every segment,
    so one of a million paragraphs answers faster than six of 200,000 (they are built a batch at a time
    to bound the memory of building)."""
    segments = index.bm25.segments
    if len(segments) - before < 2:
        return index
    merged = merge_segments(segments[before:])
    return _replace(index, bm25=index.bm25.with_segments((*segments[:before], merged)))


def _chunk_terms(chunk: ChunkTerms, vocab: Vocabulary) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(term id, row) for every term occurrence of a chunk: the rows' own terms, then each row's article
    titles ``title_copies`` times (a ragged gather: each title's terms are analysed once per chunk)."""
    terms, docs = _term_ids(chunk.text, vocab)
    if not chunk.title_copies or not chunk.rows:
        return terms, docs
    title_terms, title_docs = _term_ids(chunk.titles, vocab)
    order = np.argsort(title_docs, kind="stable")
    title_terms = title_terms[order]
    counts = np.bincount(title_docs, minlength=int(chunk.title_of_row.max()) + 1)
    starts = np.cumsum(counts) - counts
    own = counts[chunk.title_of_row]
    per_row = own * chunk.title_copies
    rows = np.repeat(np.arange(chunk.rows, dtype=np.int64), per_row)
    within = np.arange(int(per_row.sum()), dtype=np.int64) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    picked = np.repeat(starts[chunk.title_of_row], per_row) + within % np.maximum(np.repeat(own, per_row), 1)
    return np.concatenate([terms, title_terms[picked]]), np.concatenate([docs, rows])


def _term_ids(terms: Terms, vocab: Vocabulary) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Vocabulary ids for compacted term occurrences: only the distinct terms are looked up."""
    word_ids = np.array(vocab.add_words(terms.words), dtype=np.int64)
    pair_ids = vocab.add_pairs(terms.pairs)
    ids = np.concatenate([word_ids[terms.word_of], pair_ids[terms.pair_of]])
    return ids, np.concatenate([terms.word_docs, terms.pair_docs])


def _replace(index: SearchIndex, **changes: Any) -> SearchIndex:
    values = {k: getattr(index, k) for k, f in index.__dataclass_fields__.items() if f.init}
    values.update(changes)
    return SearchIndex(**values)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class _BoundsFinder:
    """One thread at a time finding the bounds of the newest large snapshot this process serves; an older
    snapshot's search is stopped, and so is the last at exit (compiled code must not outlive the arrays)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._for: weakref.ref[BM25Index] | None = None

    def __call__(self, bm25: BM25Index) -> None:
        with self._lock:
            if (self._for is not None and self._for() is bm25) or not kernels.AVAILABLE:
                return
            self._halt()
            self._for, self._stop = weakref.ref(bm25), threading.Event()
            self._thread = threading.Thread(
                target=bm25.find_bounds, args=(self._stop,), name="bm25-bounds", daemon=True
            )
            self._thread.start()

    def join(self) -> None:
        """Wait until the bounds being found are."""
        thread = self._thread
        if thread is not None:
            thread.join()

    def stop(self) -> None:
        with self._lock:
            self._halt()
            self._for = None

    def _halt(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None


_find_bounds = _BoundsFinder()
atexit.register(_find_bounds.stop)
