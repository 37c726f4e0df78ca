"""The terms each paragraph is indexed under, computed chunk by chunk (in worker processes for big builds).

A paragraph is indexed under its own terms plus its article's titles (kicker, headline, subtitle)
``title_copies`` times: on cmrc2018-train two copies raised Recall@1 from 0.949 to 0.956 (README).
Rows are analysed ``CHUNK`` at a time with ``Tokenizer.analyze_batch`` (one segmentation call per chunk,
numpy for the rest); a chunk's distinct titles are analysed once. Builds of more than
``PARALLEL_MIN_ROWS`` rows spread the chunks over a pool of processes (spawned, never forked: the bot has
threads) while the parent maps terms to ids; a ``ChunkMap`` (Ray tasks: ``retrieval.cluster``) can take
the pool's place. Either way the chunks are cut the same and their terms come back in order, so the ids are the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from corpus import IndexRow
from corpus.workers import in_order

from .tokenize import Batch, Tokenizer, pair_text

__all__ = [
    "CHUNK",
    "PARALLEL_MIN_ROWS",
    "ChunkMap",
    "ChunkTerms",
    "DocumentTokenizer",
    "Row",
    "Terms",
    "WorkerSetup",
    "analyse_in_worker",
]


PARALLEL_MIN_ROWS = 20_000
CHUNK = 2_000
_AHEAD_PER_WORKER = 12  # chunks in flight per worker (~0.1 s of work each)
Row = tuple[int, str, str]  # article id, paragraph text, titles

_worker: DocumentTokenizer | None = None


@dataclass(frozen=True)
class Terms:
    """Term occurrences of a batch, compacted where they were analysed (in the worker): each distinct word
    and pair once, and for every occurrence the number of its distinct term and of its text. The parent
    then looks up only distinct terms in the vocabulary."""

    words: list[str]  # distinct
    word_of: npt.NDArray[np.int32]  # per word occurrence: index into ``words``
    word_docs: npt.NDArray[np.int32]  # 32 bits: a chunk's rows, and half of what crosses from a worker
    pairs: npt.NDArray[np.int64]  # distinct, sorted
    pair_of: npt.NDArray[np.int32]
    pair_docs: npt.NDArray[np.int32]

    @classmethod
    def of(cls, batch: Batch) -> Terms:
        # The batch's distinct words in order of first occurrence (the order the vocabulary numbers new
        # words in, whichever worker analysed the chunk), and each occurrence's place among them.
        distinct, first, inverse = np.unique(batch.string_ids, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        place = np.empty(order.shape[0], dtype=np.int32)
        place[order] = np.arange(order.shape[0], dtype=np.int32)
        pairs, pair_of = np.unique(batch.pairs, return_inverse=True)
        return cls(
            list(map(batch.vocabulary.__getitem__, distinct[order].tolist())),
            place[inverse.reshape(-1)],
            batch.string_docs.astype(np.int32),
            pairs,
            pair_of.astype(np.int32).reshape(-1),
            batch.pair_docs.astype(np.int32),
        )


@dataclass(frozen=True)
class ChunkTerms:
    """The terms of a chunk of rows: the rows' texts, their articles' titles, and which title each row has."""

    rows: int
    text: Terms  # docs: row numbers within the chunk
    titles: Terms  # docs: title numbers within the chunk
    title_of_row: npt.NDArray[np.int64]
    title_copies: int


class DocumentTokenizer:
    """Turns index rows into their index terms (``chunk_map``: where the chunks are analysed, in order)."""

    def __init__(self, tokenizer: Tokenizer, title_copies: int, chunk_map: ChunkMap | None = None) -> None:
        self.tokenizer = tokenizer
        self.title_copies = title_copies
        self.chunk_map = chunk_map

    @property
    def setup(self) -> WorkerSetup:
        """What a worker process needs to analyse chunks exactly as this tokenizer does."""
        t = self.tokenizer
        return WorkerSetup(t.userdict, t.bigrams, self.title_copies, t.signature)

    def chunk(self, rows: Sequence[Row]) -> ChunkTerms:
        titles: dict[tuple[int, str], int] = {}
        title_of_row = np.fromiter(
            (titles.setdefault((article, title), len(titles)) for article, _, title in rows),
            dtype=np.int64,
            count=len(rows),
        )
        text = Terms.of(self.tokenizer.analyze_batch([r[1] for r in rows]))
        title_batch = Terms.of(
            self.tokenizer.analyze_batch([t for _, t in titles] if self.title_copies else [])
        )
        return ChunkTerms(len(rows), text, title_batch, title_of_row, self.title_copies)

    def chunks(self, rows: Iterable[IndexRow], expected: int | None) -> Iterator[ChunkTerms]:
        """Terms of ``rows`` (about ``expected`` of them) chunk by chunk, in order; in worker processes when
        there are many. The rows are read as the chunks are cut, and one pool serves the whole stream: a
        build of many batches keeps its workers (and their loaded dictionaries) busy from first row to last.
        ``expected`` None is a stream of unknown length (rows indexed as an ingest writes them): its first
        ``PARALLEL_MIN_ROWS`` rows are analysed here, the pool starts when there are more.
        """
        pieces: Iterator[list[Row]] = _pieces(rows)
        if self.chunk_map is not None:
            yield from self.chunk_map(self, pieces)
            return
        if expected is None:
            for piece in itertools.islice(pieces, PARALLEL_MIN_ROWS // CHUNK):
                yield self.chunk(piece)
            more = next(pieces, None)
            if more is None:
                return
            pieces = itertools.chain([more], pieces)
        elif expected < PARALLEL_MIN_ROWS:
            for piece in pieces:
                yield self.chunk(piece)
            return
        # Enough chunks in flight to keep the workers busy while the caller builds a batch's segment.
        yield from in_order(
            _chunk,
            pieces,
            here=self.chunk,
            ahead_per_worker=_AHEAD_PER_WORKER,
            what="tokenizing",
            initializer=_init,
            initargs=self.setup,
        )

    def tokens(self, row: IndexRow) -> list[str]:
        """The row's index tokens as strings (what rank_bm25 is given in the differential tests)."""
        strings, pairs = self.tokenizer.analyze(row.text)
        title_strings, title_pairs = (
            self.tokenizer.analyze(_titles(row)) if self.title_copies else ([], pairs[:0])
        )
        words = strings + title_strings * self.title_copies
        return words + [pair_text(int(c)) for c in [*pairs, *np.tile(title_pairs, self.title_copies)]]


ChunkMap = Callable[[DocumentTokenizer, Iterable[Sequence[Row]]], Iterator[ChunkTerms]]
"""Analyses chunks of rows (somewhere) and yields their terms in the order of the chunks."""


class WorkerSetup(NamedTuple):
    userdict: Path | None
    bigrams: bool
    title_copies: int
    signature: str


def analyse_in_worker(setup: WorkerSetup, rows: Sequence[Row]) -> ChunkTerms:
    """A chunk's terms in a worker process, whose tokenizer is loaded on its first chunk (jieba's
    dictionaries take a second) and checked to be the parent's."""
    if _worker is None or _worker.tokenizer.signature != setup.signature:
        _init(*setup)
    return _chunk(rows)


def _pieces(rows: Iterable[IndexRow]) -> Iterator[list[Row]]:
    """``rows`` as what a chunk is analysed from, ``CHUNK`` at a time, read as they are asked for."""
    it = iter(rows)
    while rows_read := list(itertools.islice(it, CHUNK)):
        piece = []
        article, titles = -1, ""
        for r in rows_read:
            if r.article_id != article:  # an article's paragraphs come together: its titles joined once
                article, titles = r.article_id, _titles(r)
            piece.append((article, r.text, titles))
        yield piece


def _titles(row: IndexRow) -> str:
    return " ".join(filter(None, (row.kicker, row.headline, row.subtitle)))


def _init(userdict: Path | None, bigrams: bool, title_copies: int, signature: str) -> None:
    global _worker
    tokenizer = Tokenizer(userdict, bigrams=bigrams)
    if tokenizer.signature != signature:
        raise RuntimeError(f"worker tokenizer {tokenizer.signature} differs from the parent's {signature}")
    _worker = DocumentTokenizer(tokenizer, title_copies)


def _chunk(rows: Sequence[Row]) -> ChunkTerms:
    if _worker is None:
        raise RuntimeError("worker not initialised")
    return _worker.chunk(rows)
