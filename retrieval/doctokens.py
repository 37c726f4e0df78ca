"""The tokens each paragraph is indexed under, computed in worker processes for large builds.

A paragraph is indexed under its own tokens plus its article's titles (kicker, headline, subtitle)
``title_copies`` times: on cmrc2018-train two copies raised Recall@1 from 0.949 to 0.956 (README).
Segmenting is the slow part of building an index, and it is independent per paragraph, so batches of
more than ``PARALLEL_MIN_ROWS`` rows are cut by a pool of processes (spawned, never forked: the bot has
threads) while the parent maps tokens to term ids.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import numpy.typing as npt

from corpus import IndexRow

from .tokenize import Tokenizer, pair_text

__all__ = ["PARALLEL_MIN_ROWS", "DocumentTokenizer"]

log = logging.getLogger(__name__)

PARALLEL_MIN_ROWS = 20_000
_CHUNK = 2_000
_Row = tuple[int, str, str]  # article id, paragraph text, titles
Analysis = tuple[list[str], npt.NDArray[np.int64]]  # word terms, pair codes (see Tokenizer.analyze)

_worker: DocumentTokenizer | None = None


class DocumentTokenizer:
    """Turns index rows into token lists, one article's titles cut once."""

    def __init__(self, tokenizer: Tokenizer, title_copies: int) -> None:
        self.tokenizer = tokenizer
        self.title_copies = title_copies
        self._last: tuple[int, Analysis] = (-1, ([], np.zeros(0, np.int64)))

    def row_analysis(self, article_id: int, text: str, titles: str) -> Analysis:
        strings, pairs = self.tokenizer.analyze(text)
        if not self.title_copies:
            return strings, pairs
        if self._last[0] != article_id:
            t_strings, t_pairs = self.tokenizer.analyze(titles)
            self._last = (article_id, (t_strings * self.title_copies, np.tile(t_pairs, self.title_copies)))
        title_strings, title_pairs = self._last[1]
        return strings + title_strings, np.concatenate([pairs, title_pairs])

    def analysis(self, row: IndexRow) -> Analysis:
        return self.row_analysis(row.article_id, row.text, _titles(row))

    def tokens(self, row: IndexRow) -> list[str]:
        """The row's index tokens as strings (what rank_bm25 would be given)."""
        strings, pairs = self.analysis(row)
        return strings + [pair_text(int(c)) for c in pairs]

    def many(self, rows: Sequence[IndexRow]) -> Iterator[Analysis]:
        """Analyses of ``rows`` in order; in worker processes when there are many and cores to spare."""
        workers = min(4, os.cpu_count() or 1)
        if len(rows) < PARALLEL_MIN_ROWS or workers < 2:
            for row in rows:
                yield self.analysis(row)
            return
        chunks = [
            [(r.article_id, r.text, _titles(r)) for r in rows[i : i + _CHUNK]]
            for i in range(0, len(rows), _CHUNK)
        ]
        init = (self.tokenizer.userdict, self.tokenizer.bigrams, self.title_copies, self.tokenizer.signature)
        done = 0
        try:
            with ProcessPoolExecutor(
                workers, mp_context=get_context("spawn"), initializer=_init, initargs=init
            ) as pool:
                for result in pool.map(_tokenize_chunk, chunks):
                    yield from result
                    done += len(result)
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            # No worker processes (a sandbox, or a __main__ spawn cannot import): cut the rest here.
            log.warning("tokenizing in this process: worker processes failed (%s)", exc)
            for row in rows[done:]:
                yield self.analysis(row)


def _titles(row: IndexRow) -> str:
    return " ".join(x for x in (row.kicker, row.headline, row.subtitle) if x)


def _init(userdict: Path | None, bigrams: bool, title_copies: int, signature: str) -> None:
    global _worker
    tokenizer = Tokenizer(userdict, bigrams=bigrams)
    if tokenizer.signature != signature:
        raise RuntimeError(f"worker tokenizer {tokenizer.signature} differs from the parent's {signature}")
    _worker = DocumentTokenizer(tokenizer, title_copies)


def _tokenize_chunk(rows: list[_Row]) -> list[Analysis]:
    if _worker is None:
        raise RuntimeError("worker not initialised")
    return [_worker.row_analysis(*row) for row in rows]
