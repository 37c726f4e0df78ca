"""Compressed posting lists: each term's documents and frequencies in blocks of 64, bit-packed.

A term's postings (documents ascending, each with its term frequency) are cut into blocks of ``BLOCK``;
the last block of a term may be shorter. Per block:

- ``first`` and ``last``: its first and last document (a search for a document skips whole blocks by
  ``last`` without decoding them);
- ``width``: the bits of its largest gap between consecutive documents and of its largest ``tf - 1``;
- ``at``: where its words start in ``bits`` (uint32 words): the ``n - 1`` gaps packed at the first width, then
  (from the next word) the ``n`` frequencies minus one at the second width, least significant bits first.
  A width of 0 stores nothing (a single document; every frequency 1).

At a million news paragraphs this is 2.7 bytes a posting instead of 6 (int32 document, uint16 frequency):
the index on disk and the pages a serving process maps shrink with it. Which block holds a term's j-th
posting follows from ``indptr`` alone (``block_ptr``), so nothing per term is stored beyond it.

Encoding and decoding are compiled in ``retrieval.kernels`` where numba is available, and vectorised numpy
here otherwise; both give the same words (a test holds them to it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from . import kernels

__all__ = ["BLOCK", "Postings", "block_ptr", "term_ranges"]

BLOCK = kernels.BLOCK
ARRAYS = ("indptr", "first", "last", "at", "width", "bits")  # what a segment's files hold
_DECODE_CHUNK = 1 << 20  # postings decoded per step of the numpy way (bounds its temporary arrays)

IntArray = npt.NDArray[np.int64]


def block_ptr(indptr: IntArray) -> IntArray:
    """Per term id, the index of its first block (one entry more than there are terms)."""
    out = np.zeros(indptr.shape[0], dtype=np.int64)
    np.cumsum((np.diff(indptr) + BLOCK - 1) // BLOCK, out=out[1:])
    return out


def term_ranges(indptr: IntArray, size: int, lo: int = 0, hi: int | None = None) -> Iterator[tuple[int, int]]:
    """Consecutive term ranges covering ``[lo, hi)`` (default: every term of ``indptr``), each of about
    ``size`` postings (a term longer than that alone)."""
    hi = int(indptr.shape[0]) - 1 if hi is None else hi
    start = lo
    while start < hi:
        stop = int(np.searchsorted(indptr, indptr[start] + size, side="right")) - 1
        stop = min(max(stop, start + 1), hi)
        yield start, stop
        start = stop


@dataclass(frozen=True)
class Postings:
    """Term-major postings of one segment: ``indptr`` (postings per term, cumulative) and the blocks."""

    indptr: IntArray
    first: npt.NDArray[np.int32]
    last: npt.NDArray[np.int32]
    at: IntArray
    width: npt.NDArray[np.uint8]
    bits: npt.NDArray[np.uint32]  # the blocks' words
    bptr: IntArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bptr", block_ptr(self.indptr))

    @property
    def n_terms(self) -> int:
        return int(self.indptr.shape[0]) - 1

    @property
    def n_postings(self) -> int:
        return int(self.indptr[-1])

    @property
    def nbytes(self) -> int:
        return sum(int(getattr(self, name).nbytes) for name in ARRAYS)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {name: getattr(self, name) for name in ARRAYS}

    def consistent(self) -> bool:
        """Whether the arrays fit together (sizes, offsets); the words themselves are checked where read."""
        n_blocks = int(self.bptr[-1])
        return bool(
            self.indptr.shape[0] >= 1
            and int(self.indptr[0]) == 0
            and (np.diff(self.indptr) >= 0).all()
            and self.first.shape == (n_blocks,)
            and self.last.shape == (n_blocks,)
            and self.width.shape == (n_blocks, 2)
            and self.at.shape == (n_blocks + 1,)
            and int(self.at[0]) == 0
            and int(self.at[-1]) == self.bits.shape[0]
        )

    def decode(
        self, lo: int = 0, hi: int | None = None
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint16]]:
        """Documents and frequencies of the terms ``[lo, hi)``, term after term (all of them by default:
        for small segments and tests; large ones are read with ``chunks``)."""
        hi = self.n_terms if hi is None else min(hi, self.n_terms)
        if hi <= lo:
            return np.zeros(0, np.int32), np.zeros(0, np.uint16)
        if kernels.AVAILABLE:
            docs, tf = kernels.decode_postings(
                self.indptr, self.bptr, self.first, self.last, self.at, self.width, self.bits, lo, hi
            )
            return docs, tf
        return _decode_numpy(self, lo, hi)

    def term(self, t: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint16]]:
        return self.decode(t, t + 1)

    def chunks(self, size: int) -> Iterator[tuple[int, int]]:
        """Consecutive term ranges ``[lo, hi)`` of about ``size`` postings each, covering every term."""
        return term_ranges(self.indptr, size)

    @classmethod
    def encode(cls, indptr: IntArray, docs: npt.NDArray[Any], tf: npt.NDArray[Any]) -> Postings:
        """Pack term-major postings (``docs`` ascending within each term, ``tf`` ≥ 1)."""
        indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        if kernels.AVAILABLE:
            first, last, at, width, words = kernels.encode_postings(
                indptr, np.ascontiguousarray(docs, np.int32), np.ascontiguousarray(tf, np.uint16)
            )
            return cls(indptr, first, last, at, width, words)
        return _encode_numpy(indptr, np.asarray(docs, np.int64), np.asarray(tf, np.int64))

    @classmethod
    def concat(cls, parts: Sequence[Postings]) -> Postings:
        """The postings of consecutive term ranges (at least one), each part's terms after the previous
        part's."""
        if len(parts) == 1:
            return parts[0]
        indptr = [np.zeros(1, np.int64)]
        at = [np.zeros(1, np.int64)]
        postings = words = 0
        for p in parts:
            indptr.append(p.indptr[1:] + postings)
            at.append(p.at[1:] + words)
            postings += p.n_postings
            words += int(p.bits.shape[0])
        return cls(
            np.concatenate(indptr),
            np.concatenate([p.first for p in parts]),
            np.concatenate([p.last for p in parts]),
            np.concatenate(at),
            np.concatenate([p.width for p in parts]),
            np.concatenate([p.bits for p in parts]),
        )


# --- numpy (where numba is missing) -----------------------------------------------------------------


def _bit_length(values: IntArray) -> IntArray:
    """Bits of each non-negative value below 2**53 (0 for 0): frexp's exponent is exact there."""
    return np.frexp(values.astype(np.float64))[1].astype(np.int64)


def _layout(indptr: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Per posting its block and place in it, per block its first posting."""
    df = np.diff(indptr)
    n = int(indptr[-1])
    term_of = np.repeat(np.arange(df.shape[0], dtype=np.int64), df)
    rank = np.arange(n, dtype=np.int64) - indptr[:-1][term_of]
    block = block_ptr(indptr)[:-1][term_of] + rank // BLOCK
    starts = np.flatnonzero(rank % BLOCK == 0)
    return block, rank % BLOCK, starts


def _pack(words_len: int, bit_at: IntArray, values: IntArray, width: IntArray) -> npt.NDArray[np.float64]:
    """Values placed at their bit positions as per-word sums (the fields do not overlap, so a sum is an
    or; float64 holds every sum exactly, each below 2**32)."""
    used = width > 0
    bit_at, values, width = bit_at[used], values[used], width[used]
    word, shift = bit_at >> 5, bit_at & 31
    low = (values << shift) & 0xFFFFFFFF
    out = np.bincount(word, weights=low.astype(np.float64), minlength=words_len).astype(np.float64)
    spill = shift + width > 32
    out += np.bincount(
        word[spill] + 1,
        weights=(values[spill] >> (32 - shift[spill])).astype(np.float64),
        minlength=words_len,
    )[:words_len]
    return out


def _encode_numpy(indptr: IntArray, docs: IntArray, tf: IntArray) -> Postings:
    n = int(indptr[-1])
    n_blocks = int(block_ptr(indptr)[-1])
    if not n:
        z32 = np.zeros(0, np.int32)
        return Postings(
            indptr, z32, z32, np.zeros(1, np.int64), np.zeros((0, 2), np.uint8), np.zeros(0, np.uint32)
        )
    block, rank, starts = _layout(indptr)
    gaps = np.zeros(n, np.int64)
    gaps[1:] = docs[1:] - docs[:-1]
    gaps[rank == 0] = 0
    count = np.diff(np.append(starts, n))
    dw = _bit_length(np.maximum.reduceat(gaps, starts))
    tw = _bit_length(np.maximum.reduceat(tf - 1, starts))
    doc_words = ((count - 1) * dw + 31) // 32
    tf_words = (count * tw + 31) // 32
    at = np.zeros(n_blocks + 1, np.int64)
    np.cumsum(doc_words + tf_words, out=at[1:])
    total = int(at[-1])
    gap_at = at[block] * 32 + (rank - 1) * dw[block]
    tf_at = (at[block] + doc_words[block]) * 32 + rank * tw[block]
    gap_width = np.where(rank > 0, dw[block], 0)
    words = _pack(total, gap_at, gaps, gap_width) + _pack(total, tf_at, tf - 1, tw[block])
    last = docs[np.append(starts[1:], n) - 1]
    return Postings(
        indptr,
        docs[starts].astype(np.int32),
        last.astype(np.int32),
        at,
        np.stack([dw, tw], axis=1).astype(np.uint8),
        words.astype(np.uint32),
    )


def _extract(words: npt.NDArray[np.uint32], bit_at: IntArray, width: IntArray) -> IntArray:
    """The ``width``-bit values at bit positions ``bit_at`` (a width of 0 reads 0)."""
    if not words.shape[0]:
        return np.zeros(bit_at.shape[0], np.int64)
    word, shift = bit_at >> 5, (bit_at & 31).astype(np.uint64)
    low = np.take(words, word, mode="clip").astype(np.uint64) >> shift
    high = np.take(words, word + 1, mode="clip").astype(np.uint64) << (np.uint64(32) - shift)
    value = np.where(shift.astype(np.int64) + width > 32, low | high, low)
    mask = (np.uint64(1) << width.astype(np.uint64)) - np.uint64(1)
    values: IntArray = (value & mask).astype(np.int64)
    return values


def _decode_numpy(p: Postings, lo: int, hi: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint16]]:
    docs_parts: list[npt.NDArray[np.int32]] = []
    tf_parts: list[npt.NDArray[np.uint16]] = []
    for start, stop in term_ranges(p.indptr, _DECODE_CHUNK, lo, hi):
        indptr = p.indptr[start : stop + 1] - p.indptr[start]
        b0 = int(p.bptr[start])
        n = int(indptr[-1])
        if n:
            block, rank, starts = _layout(indptr)
            block += b0
            at = p.at[block]
            dw = p.width[block, 0].astype(np.int64)
            tw = p.width[block, 1].astype(np.int64)
            gaps = _extract(p.bits, at * 32 + (rank - 1) * dw, np.where(rank > 0, dw, 0))
            gaps[rank == 0] = p.first[block[rank == 0]]
            docs = np.cumsum(gaps)
            docs -= np.repeat(docs[starts] - gaps[starts], np.diff(np.append(starts, n)))
            count = np.diff(np.append(starts, n))
            doc_words = ((np.repeat(count, count) - 1) * dw + 31) // 32
            tf = _extract(p.bits, (at + doc_words) * 32 + rank * tw, tw) + 1
            ends = np.append(starts[1:], n) - 1
            sizes = doc_words[starts] + (count * tw[starts] + 31) // 32
            if (
                (docs[ends] != p.last[block[starts]]).any()
                or (dw > 31).any()
                or (tw > 16).any()
                or (p.at[block[starts] + 1] - at[starts] != sizes).any()
                or int(p.at[block[-1] + 1]) > p.bits.shape[0]
            ):
                raise IndexError("a block of postings does not fit its words")
            docs_parts.append(docs.astype(np.int32))
            tf_parts.append(tf.astype(np.uint16))
    if not docs_parts:
        return np.zeros(0, np.int32), np.zeros(0, np.uint16)
    return np.concatenate(docs_parts), np.concatenate(tf_parts)
