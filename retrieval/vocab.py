"""The index vocabulary: term ↔ id for word terms (strings) and pair terms (two CJK characters as integers).

Word terms live in a dict. Pair terms, which are most of the vocabulary (every bigram a corpus has), live
in two sorted integer arrays searched with ``np.searchsorted``: no Python object per bigram, so a
million-paragraph vocabulary loads in a fraction of a second and in a fraction of the memory.

Ids are handed out in order of first appearance across both kinds. The vocabulary only grows; index
snapshots remember how many ids they may use, so a snapshot never sees terms added after it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .tokenize import is_pair, pair_code

__all__ = ["Vocabulary"]

I64 = npt.NDArray[np.int64]


class Vocabulary:
    def __init__(
        self,
        words: Sequence[str] = (),
        word_ids: Sequence[int] = (),
        pairs: I64 | None = None,
        pair_ids: I64 | None = None,
    ) -> None:
        self._word_ids: dict[str, int] = dict(zip(words, word_ids, strict=True))
        pairs = np.zeros(0, np.int64) if pairs is None else np.asarray(pairs, dtype=np.int64)
        pair_ids = np.zeros(0, np.int64) if pair_ids is None else np.asarray(pair_ids, dtype=np.int64)
        order = np.argsort(pairs, kind="stable")
        self._pairs, self._pair_ids = pairs[order], pair_ids[order]
        self.n_terms = max(
            (max(word_ids) + 1) if len(word_ids) else 0, int(pair_ids.max()) + 1 if pair_ids.shape[0] else 0
        )
        if len(self._word_ids) + self._pairs.shape[0] != self.n_terms:
            raise ValueError("vocabulary ids are not 0..n-1 without gaps")
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.n_terms

    # --- lookups (queries) ------------------------------------------------------------------------------

    def get(self, term: str) -> int:
        """The id of a term as a string, or -1."""
        if is_pair(term):
            return self.pair_id(pair_code(term))
        return self._word_ids.get(term, -1)

    def pair_id(self, code: int) -> int:
        pairs = self._pairs
        pos = int(np.searchsorted(pairs, code))
        return int(self._pair_ids[pos]) if pos < pairs.shape[0] and int(pairs[pos]) == code else -1

    # --- growth (indexing) ------------------------------------------------------------------------------

    def add_words(self, words: Sequence[str]) -> list[int]:
        """Ids of ``words``, adding unknown ones."""
        ids = self._word_ids
        found = list(map(ids.get, words))  # C-level lookups: most words are known
        if None in found:
            with self._lock:
                for pos, term_id in enumerate(found):
                    if term_id is None:
                        word = words[pos]
                        term_id = ids.get(word)
                        if term_id is None:
                            term_id = ids[word] = self.n_terms
                            self.n_terms += 1
                        found[pos] = term_id
        return found  # type: ignore[return-value]

    def add_pairs(self, codes: I64) -> I64:
        """Ids of pair ``codes`` (vectorised), adding unknown ones.

        Codes are looked up directly in the sorted table (no sort of the batch); only the codes the table
        lacks are sorted and inserted.
        """
        if not codes.shape[0]:
            return np.zeros(0, np.int64)
        with self._lock:
            pairs, pair_ids = self._pairs, self._pair_ids
            ids = np.empty(codes.shape[0], dtype=np.int64)
            if pairs.shape[0]:
                pos = np.minimum(np.searchsorted(pairs, codes), pairs.shape[0] - 1)
                known = pairs[pos] == codes
                ids[known] = pair_ids[pos[known]]
            else:
                known = np.zeros(codes.shape[0], dtype=np.bool_)
            if not known.all():
                new, inverse = np.unique(codes[~known], return_inverse=True)
                new_ids = np.arange(self.n_terms, self.n_terms + new.shape[0], dtype=np.int64)
                ids[~known] = new_ids[inverse.reshape(-1)]
                self.n_terms += new.shape[0]
                # New arrays, not in-place: snapshots and queries may be reading the old ones.
                at = np.searchsorted(pairs, new)
                self._pairs = np.insert(pairs, at, new)
                self._pair_ids = np.insert(pair_ids, at, new_ids)
        return ids

    # --- persistence ------------------------------------------------------------------------------------

    def owned(self, start: int, end: int) -> tuple[list[str], I64, I64, I64]:
        """Terms with ids in [start, end): words, their ids, pair codes, their ids (ids ascending)."""
        chosen = sorted((i, w) for w, i in self._word_ids.items() if start <= i < end)
        mask = (self._pair_ids >= start) & (self._pair_ids < end)
        codes, ids = self._pairs[mask], self._pair_ids[mask]
        order = np.argsort(ids)
        return (
            [w for _, w in chosen],
            np.array([i for i, _ in chosen], dtype=np.int64),
            codes[order],
            ids[order],
        )
