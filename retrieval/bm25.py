"""BM25 over an inverted index whose scores equal ``rank_bm25``'s on the same token lists.

``rank_bm25`` defines the scores (Okapi, L and Plus variants, its default parameters) and is the test
oracle; this module computes the same numbers from postings instead of a Python loop over every document:

- an index is a list of immutable *segments* (term-major CSR: for each term, the documents holding it and
  the term's frequency there) over one growing vocabulary, plus a mask of deleted documents;
- adding documents appends a segment; collection statistics (N, average length, document frequencies,
  Okapi's average IDF) are recomputed from arrays in O(vocabulary + documents), never by rescanning text;
- a query touches only the postings of its terms and keeps the top k by partial selection.

Float operations follow ``rank_bm25``'s expression order, so scores agree to ~1e-15, not just in rank.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from . import kernels
from .postings import Postings, term_ranges

__all__ = [
    "VARIANTS",
    "BM25Index",
    "BM25Params",
    "ScoredDocs",
    "Segment",
    "build_segment",
    "merge_segments",
    "ranges_within",
    "segment_from_pairs",
]

VARIANTS = ("okapi", "l", "plus")
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BM25Params:
    """Parameters with ``rank_bm25``'s defaults. ``delta`` defaults to 0.5 for BM25L and 1 for BM25+."""

    variant: str = "okapi"
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25
    delta: float | None = None

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"BM25 variant {self.variant!r} is not one of {', '.join(VARIANTS)}")

    @property
    def effective_delta(self) -> float:
        if self.delta is not None:
            return self.delta
        return 0.5 if self.variant == "l" else 1.0


@dataclass(frozen=True)
class Segment:
    """Postings of a contiguous range of documents ``[first_doc, first_doc + n_docs)``.

    ``packed`` holds the postings compressed (``retrieval.postings``); its ``indptr`` has one entry more
    than the number of terms the segment knows (term ids beyond it have no postings here); documents are
    global document numbers.
    """

    first_doc: int
    doc_len: npt.NDArray[np.int32]
    packed: Postings

    @property
    def n_docs(self) -> int:
        return int(self.doc_len.shape[0])

    @property
    def n_terms(self) -> int:
        return self.packed.n_terms

    @property
    def indptr(self) -> IntArray:
        return self.packed.indptr

    @property
    def n_postings(self) -> int:
        return self.packed.n_postings

    def postings(self, term: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint16]]:
        if not 0 <= term < self.n_terms:
            return _EMPTY_I32, _EMPTY_U16
        return self.packed.term(term)

    def decode(self) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint16]]:
        """Every posting, term after term (small segments and tests; large ones are read in chunks)."""
        return self.packed.decode()

    def df(self, n_terms: int) -> IntArray:
        """Document frequency per term id (length ``n_terms``)."""
        out = np.zeros(n_terms, dtype=np.int64)
        out[: self.n_terms] = np.diff(self.indptr)
        return out


_EMPTY_I32 = np.zeros(0, dtype=np.int32)
_EMPTY_U16 = np.zeros(0, dtype=np.uint16)


def build_segment(first_doc: int, docs: Sequence[Sequence[int]]) -> Segment:
    """Build a segment from documents given as lists of term ids (with repeats)."""
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
    terms = np.fromiter((t for d in docs for t in d), dtype=np.int64, count=int(lengths.sum()))
    return segment_from_pairs(
        first_doc, terms, np.repeat(np.arange(len(docs), dtype=np.int64), lengths), lengths
    )


def segment_from_pairs(
    first_doc: int,
    terms: npt.NDArray[np.signedinteger[Any]],
    docs: npt.NDArray[np.signedinteger[Any]],
    doc_len: npt.NDArray[np.int64],
) -> Segment:
    """Build a segment from one (term id, local document number) pair per token occurrence, in any order."""
    n_local = int(doc_len.shape[0])
    lengths = doc_len.astype(np.int32)
    if not terms.shape[0]:
        return Segment(
            first_doc, lengths, Postings.encode(np.zeros(1, dtype=np.int64), _EMPTY_I32, _EMPTY_U16)
        )
    if kernels.AVAILABLE:  # counting sorts, compiled: four times faster than the sort below
        indptr, postings, tf = kernels.postings_of(terms, docs, n_local, first_doc)
        return Segment(first_doc, lengths, Postings.encode(indptr, postings, tf))
    # Sorting (term, doc) keys gives term-major postings and, by run length, each term frequency. In
    # place and without np.unique's copies: a bulk build's peak memory is this sort.
    keys = terms.astype(np.int64)
    keys *= n_local
    keys += docs
    keys.sort()
    fresh = np.empty(keys.shape[0], dtype=np.bool_)
    fresh[0] = True
    np.not_equal(keys[1:], keys[:-1], out=fresh[1:])
    starts = np.flatnonzero(fresh)
    del fresh
    tf = np.diff(starts, append=keys.shape[0])
    keys = keys[starts]
    del starts
    term_of = keys // n_local
    n_terms = int(term_of[-1]) + 1
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(term_of, minlength=n_terms), out=indptr[1:])
    del term_of
    keys %= n_local
    keys += first_doc
    # A term repeated more than 65,535 times in one paragraph counts 65,535 times: no paragraph does.
    return Segment(first_doc, lengths, Postings.encode(indptr, keys, np.minimum(tf, np.iinfo(np.uint16).max)))


_MERGE_CHUNK = 1 << 22  # postings rewritten per step of a merge: bounds its temporary arrays (~64 MB)

# A stretch of a segment at least this long is searched in two halves at once, one on a helper thread (the
# compiled kernel releases the GIL), when the machine has a second core and the helper is free.
_PARALLEL_DOCS = 1 << 18
_HELPER = threading.Lock()  # held while the helper thread searches a half
_BOUNDS_CHUNK = 4096  # terms whose bounds ``find_bounds`` finds in one call
_helper_pool: ThreadPoolExecutor | None = None


def _helper() -> ThreadPoolExecutor | None:
    """The one helper thread (None on a single core)."""
    global _helper_pool
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if _helper_pool is None and cores > 1:
        _helper_pool = ThreadPoolExecutor(1, thread_name_prefix="bm25-half")
    return _helper_pool


def _forget_helper() -> None:
    """In a forked child: the parent's helper thread is not there (work sent to it would wait forever)."""
    global _helper_pool, _HELPER
    _helper_pool, _HELPER = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helper)


# Given a chunk's documents: which to keep, and the new numbers of those kept.
Pick = Callable[[npt.NDArray[np.int32]], tuple[npt.NDArray[np.bool_], IntArray]]


def merge_segments(segments: Sequence[Segment]) -> Segment:
    """One segment holding the postings of contiguous ``segments`` (document numbers unchanged)."""
    return _rewrite(
        segments,
        segments[0].first_doc,
        np.concatenate([s.doc_len for s in segments]),
        max(s.n_terms for s in segments),
    )


def _rewrite(
    segments: Sequence[Segment],
    first_doc: int,
    doc_len: npt.NDArray[np.int32],
    n_terms: int,
    pick: Pick | None = None,
) -> Segment:
    """One segment of the postings of ``segments`` (contiguous, in document order), keeping and renumbering
    documents by ``pick`` when given (a shard, a compaction).

    The postings are decoded, combined and packed again a range of terms at a time, so beyond the result
    the rewrite needs only bounded scratch; postings read from a memory-mapped segment (a bulk build's
    batches wait on disk) are released from memory as they are read.
    """
    counts = np.zeros(n_terms, dtype=np.int64)
    for seg in segments:
        counts[: seg.n_terms] += np.diff(seg.indptr)
    total = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(counts, out=total[1:])
    parts: list[Postings] = []
    for start, stop in term_ranges(total, _MERGE_CHUNK):
        width = stop - start
        pieces: list[tuple[IntArray, npt.NDArray[np.int32], npt.NDArray[np.uint16]]] = []
        for seg in segments:  # in document order, so each term's documents stay sorted
            end = min(stop, seg.n_terms)
            if end <= start:
                continue
            docs, tf = seg.packed.decode(start, end)
            own = np.zeros(width, dtype=np.int64)
            own[: end - start] = np.diff(seg.indptr[start : end + 1])
            if pick is not None and docs.shape[0]:
                keep, renumbered = pick(docs)
                term_of = np.repeat(np.arange(width, dtype=np.int64), own)
                own = np.bincount(term_of[keep], minlength=width).astype(np.int64)
                docs, tf = renumbered.astype(np.int32), tf[keep]
            pieces.append((own, docs, tf))
            read = seg.packed
            _release(read.bits, int(read.at[read.bptr[start]]), int(read.at[read.bptr[end]]))
        per_term = np.zeros(width, dtype=np.int64)
        for own, _, _ in pieces:
            per_term += own
        indptr = np.zeros(width + 1, dtype=np.int64)
        np.cumsum(per_term, out=indptr[1:])
        docs_out = np.empty(int(indptr[-1]), dtype=np.int32)
        tf_out = np.empty(int(indptr[-1]), dtype=np.uint16)
        free = indptr[:-1].copy()  # per term: where the next segment's postings go
        for own, docs, tf in pieces:
            if docs.shape[0]:
                starts = np.zeros(width, dtype=np.int64)
                np.cumsum(own[:-1], out=starts[1:])
                dest = np.repeat(free - starts, own) + np.arange(docs.shape[0])
                docs_out[dest] = docs
                tf_out[dest] = tf
            free += own
        parts.append(Postings.encode(indptr, docs_out, tf_out))
    return Segment(first_doc, doc_len, Postings.concat(parts) if parts else _no_postings(n_terms))


def _release(array: npt.NDArray[Any], lo: int, hi: int) -> None:
    """Let the kernel drop the pages of ``array[lo:hi]`` from this process's memory when the array is a
    read-only file mapping (they are read again from the file if needed); otherwise nothing."""
    mapped: Any = array
    while isinstance(mapped, np.ndarray) and not isinstance(mapped, np.memmap):
        mapped = mapped.base  # an array numba made has numba's memory record as its base
    handle = getattr(mapped, "_mmap", None)
    if not isinstance(mapped, np.memmap) or handle is None or not hasattr(handle, "madvise") or hi <= lo:
        return
    offset = int(mapped.offset)
    base = offset - offset % mmap.ALLOCATIONGRANULARITY  # where numpy's mapping of the file starts
    start = offset - base + (array.ctypes.data - mapped.ctypes.data)  # where ``array`` starts in it
    begin = start + lo * array.itemsize
    first = begin - begin % mmap.PAGESIZE
    handle.madvise(mmap.MADV_DONTNEED, first, start + hi * array.itemsize - first)


def _no_postings(n_terms: int) -> Postings:
    return Postings.encode(np.zeros(n_terms + 1, dtype=np.int64), _EMPTY_I32, _EMPTY_U16)


def _chunks_of(seg: Segment) -> Iterator[tuple[int, int, npt.NDArray[np.int32], npt.NDArray[np.uint16]]]:
    """A segment's postings a range of terms at a time: ``(lo, hi, docs, tf)``."""
    for lo, hi in seg.packed.chunks(_MERGE_CHUNK):
        docs, tf = seg.packed.decode(lo, hi)
        yield lo, hi, docs, tf


@dataclass(frozen=True)
class ScoredDocs:
    """Top documents of a query: global document numbers and their scores, best first."""

    docs: IntArray
    scores: FloatArray


@dataclass(frozen=True)
class _Stats:
    n_docs_live: int
    avgdl: float
    df: IntArray  # live documents per term id
    idf: FloatArray  # per term id
    norm: FloatArray  # per document: k1 * (1 - b + b * dl / avgdl)


@dataclass(frozen=True)
class BM25Index:
    """An immutable snapshot: segments, the deleted mask, and collection statistics derived from them.

    Updates return a new snapshot sharing the old arrays, so queries running on the old one are unaffected.
    """

    params: BM25Params
    segments: tuple[Segment, ...]
    n_terms: int
    deleted: npt.NDArray[np.bool_]
    _stats: _Stats = field(repr=False, compare=False)
    _scratch: threading.local = field(default_factory=threading.local, repr=False, compare=False)
    _tmax: dict[int, FloatArray] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        params: BM25Params,
        segments: Iterable[Segment],
        n_terms: int,
        deleted: npt.NDArray[np.bool_] | None = None,
    ) -> BM25Index:
        segs = tuple(segments)
        n_docs = sum(s.n_docs for s in segs)
        dead = np.zeros(n_docs, dtype=np.bool_) if deleted is None else deleted
        if dead.shape[0] != n_docs:
            raise ValueError(f"deleted mask has {dead.shape[0]} entries for {n_docs} documents")
        return cls(params, segs, n_terms, dead, _compute_stats(params, segs, n_terms, dead))

    @property
    def n_docs(self) -> int:
        """Documents ever added, deleted ones included (document numbers are positions)."""
        return int(self.deleted.shape[0])

    @property
    def n_live(self) -> int:
        return self._stats.n_docs_live

    @property
    def avgdl(self) -> float:
        return self._stats.avgdl

    def idf(self, term: int) -> float:
        return float(self._stats.idf[term]) if 0 <= term < self.n_terms else 0.0

    def df(self, term: int) -> int:
        """Live documents holding the term."""
        return int(self._stats.df[term]) if 0 <= term < self.n_terms else 0

    def doc_len(self) -> npt.NDArray[np.int32]:
        return np.concatenate([s.doc_len for s in self.segments]) if self.segments else np.zeros(0, np.int32)

    def add(self, docs: Sequence[Sequence[int]], n_terms: int) -> BM25Index:
        """A new snapshot with ``docs`` appended (term ids may extend the vocabulary to ``n_terms``)."""
        return self.add_segment(build_segment(self.n_docs, docs), n_terms)

    def add_segment(self, segment: Segment, n_terms: int) -> BM25Index:
        """A new snapshot with a segment built from the next documents (``segment.first_doc == n_docs``)."""
        if segment.first_doc != self.n_docs:
            raise ValueError(f"segment starts at document {segment.first_doc}, expected {self.n_docs}")
        deleted = np.concatenate([self.deleted, np.zeros(segment.n_docs, dtype=np.bool_)])
        return BM25Index.create(self.params, (*self.segments, segment), max(n_terms, self.n_terms), deleted)

    def delete(self, doc_numbers: Iterable[int]) -> BM25Index:
        """A new snapshot in which these documents no longer count or match."""
        deleted = self.deleted.copy()
        idx = np.fromiter(doc_numbers, dtype=np.int64)
        deleted[idx[(idx >= 0) & (idx < self.n_docs)]] = True
        return BM25Index.create(self.params, self.segments, self.n_terms, deleted)

    def shard(self, lo: int, hi: int) -> BM25Index:
        """Documents ``[lo, hi)`` as an index of their own, numbered from 0, that scores them with this
        index's collection statistics (N, average length, document frequencies): its scores are the
        whole collection's, which is what lets shards of one index answer for it."""
        segments: list[Segment] = []
        tmax: dict[int, FloatArray] = {}
        for s in self.segments:
            first, last = max(s.first_doc, lo), min(s.first_doc + s.n_docs, hi)
            if first >= last:
                continue
            # The compiled kernel adds a document's terms in the order of their bounds in its segment:
            # the whole segment's bounds (still bounds for a part of it) keep that order, and so the
            # scores' last bits and the order of tied documents, those of the unsharded index.
            tmax[len(segments)] = self._full_term_max(s)

            def inside(docs: npt.NDArray[np.int32], first: int = first, last: int = last) -> tuple[Any, Any]:
                keep = (docs >= first) & (docs < last)
                return keep, docs[keep].astype(np.int64) - lo

            doc_len = s.doc_len[first - s.first_doc : last - s.first_doc]
            segments.append(_rewrite([s], first - lo, doc_len, s.n_terms, inside))
        st = self._stats
        stats = _Stats(st.n_docs_live, st.avgdl, st.df, st.idf, st.norm[lo:hi])
        return BM25Index(self.params, tuple(segments), self.n_terms, self.deleted[lo:hi], stats, _tmax=tmax)

    def _full_term_max(self, s: Segment) -> FloatArray:
        """``kernels``' per-term bound of a segment, for every term at once (the same float operations)."""
        k1 = self.params.k1
        out = np.zeros(s.n_terms, dtype=np.float64)
        for lo, hi, docs, tf in _chunks_of(s):
            f = tf.astype(np.float64)
            values = f * (k1 + 1.0) / (f + self._stats.norm[docs])
            held = np.flatnonzero(np.diff(s.indptr[lo : hi + 1]) > 0)
            if values.shape[0]:
                out[lo + held] = np.maximum.reduceat(values, s.indptr[lo:hi][held] - s.indptr[lo])
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (to a shard's process) without the per-thread scratch, which cannot be.
        return (_restore, (self.params, self.segments, self.n_terms, self.deleted, self._stats, self._tmax))

    def with_segments(self, segments: Iterable[Segment]) -> BM25Index:
        """The same documents, laid out in other segments (after a merge)."""
        return BM25Index.create(self.params, segments, self.n_terms, self.deleted)

    def compacted(self) -> tuple[BM25Index, IntArray]:
        """One segment without the deleted documents, which renumbers the documents after them.

        Returns the new index and, for each old document number, its new number (-1 if dropped).
        """
        keep = ~self.deleted
        renumber = np.full(self.n_docs, -1, dtype=np.int64)
        renumber[keep] = np.arange(int(keep.sum()))

        def alive(docs: npt.NDArray[np.int32]) -> tuple[Any, Any]:
            kept = keep[docs]
            return kept, renumber[docs[kept]]

        seg = _rewrite(self.segments, 0, self.doc_len()[keep], self.n_terms, alive)
        return BM25Index.create(self.params, [seg], self.n_terms), renumber

    # --- scoring ------------------------------------------------------------------------------------

    def score_docs(
        self, query: Sequence[int], weights: Sequence[float] | None = None
    ) -> tuple[IntArray, FloatArray]:
        """Scores of every live document holding at least one query term.

        ``query`` is a list of term ids with repeats, as rank_bm25 takes it; ids outside the vocabulary
        (words the corpus never had) contribute nothing, as in rank_bm25. ``weights`` (one per query
        position, default 1) scale a term's contribution: a question widened with another form of a name
        adds that form's terms at less than full weight. A weight of 1 leaves the score exactly rank_bm25's.
        """
        acc, seen = self._buffers()
        touched: list[npt.NDArray[np.int32]] = []
        for position, term in enumerate(query):
            if not 0 <= term < self.n_terms:
                continue
            idf = self._stats.idf[term] * _weight(weights, position)
            for seg in self.segments:
                d, tf = seg.postings(term)
                if d.shape[0]:
                    acc[d] += self._term_scores(idf, tf, d)
                    seen[d] = True
                    touched.append(d)
        if not touched:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        cand = np.flatnonzero(seen) if sum(t.shape[0] for t in touched) > self.n_docs // 8 else None
        if cand is None:
            cand = np.unique(np.concatenate(touched)).astype(np.int64)
        scores = acc[cand].copy()
        acc[cand] = 0.0
        seen[cand] = False
        if self.params.variant == "plus":
            scores += self._plus_offset(query, weights)
        live = ~self.deleted[cand]
        return cand[live], scores[live]

    def top(
        self,
        query: Sequence[int],
        k: int,
        allowed: npt.NDArray[np.bool_] | None = None,
        weights: Sequence[float] | None = None,
        ranges: IntArray | None = None,
        floor: float | None = None,
        *,
        parallel: bool = True,
    ) -> ScoredDocs:
        """The ``k`` best documents holding a query term (ties: lower document number first).

        ``allowed`` is an optional mask over document numbers (date or source filters); ``ranges`` optional
        sorted, disjoint ``[start, stop)`` rows of document numbers outside which no document is wanted
        (both given: a document must pass both); ``weights`` as in ``score_docs``. Scores are the full BM25 scores; most queries are answered without reading the long
        postings of common terms (MaxScore: compiled in ``retrieval.kernels``, in numpy below where numba
        is missing), which is what keeps a million-paragraph index fast.

        With ``floor``, documents scoring below it are not wanted (they may be left out): the compiled
        search starts from it as if the k-th best had reached it already. With ``parallel``, a long stretch
        of a segment is searched in two halves at once (``_PARALLEL_DOCS``): the same documents and scores.
        """
        if kernels.AVAILABLE and self.params.variant != "l" and k > 0 and self.segments:
            found = self._top_compiled(query, k, allowed, weights, ranges, floor, parallel)
            if found is not None:
                return found
        if ranges is not None:
            allowed = _ranges_mask(ranges, self.n_docs, allowed)
        pruned = (
            self._top_maxscore(query, k, allowed, weights) if self.params.variant != "l" and k > 0 else None
        )
        if pruned is not None:
            cand, scores = pruned
        else:
            cand, scores = self.score_docs(query, weights)
            if allowed is not None and cand.shape[0]:
                pick = allowed[cand]
                cand, scores = cand[pick], scores[pick]
        if cand.shape[0] > k:
            part = np.argpartition(-scores, k - 1)[:k]
            cand, scores = cand[part], scores[part]
        order = np.lexsort((cand, -scores))
        return ScoredDocs(cand[order], scores[order])

    def holding(self, query: Sequence[int], docs: IntArray) -> npt.NDArray[np.bool_]:
        """Which of ``docs`` hold each query term: a ``len(query)`` × ``len(docs)`` table (a term the
        index does not know: none)."""
        order = np.argsort(docs, kind="stable")
        targets = docs[order].astype(np.int64)
        held = np.zeros((len(query), targets.shape[0]), dtype=np.bool_)
        terms = np.array(query, dtype=np.int64).reshape(-1)
        for seg in self.segments if targets.shape[0] else ():
            if kernels.AVAILABLE:
                kernels.holding(*_packed(seg), terms, targets, held)
                continue
            for row, term in enumerate(terms.tolist()):
                posting, _ = seg.postings(term) if term >= 0 else (_EMPTY_I32, _EMPTY_U16)
                if posting.shape[0]:
                    pos = np.minimum(np.searchsorted(posting, targets), posting.shape[0] - 1)
                    held[row] |= posting[pos] == targets
        out = np.empty_like(held)
        out[:, order] = held
        return out

    def _top_compiled(
        self,
        query: Sequence[int],
        k: int,
        allowed: npt.NDArray[np.bool_] | None,
        weights: Sequence[float] | None,
        ranges: IntArray | None = None,
        floor: float | None = None,
        parallel: bool = True,
    ) -> ScoredDocs | None:
        """``top`` segment by segment through the compiled kernel; each segment starts from the k-th best
        score the earlier ones reached, or ``floor`` (a segment no range reaches is skipped); a long one
        is searched in two halves at once (with ``parallel``), each raising the k-th best the other reads.
        None when a term's weighted idf is negative (its bound would be wrong): the caller then takes the
        numpy way."""
        known = [(t, _weight(weights, i)) for i, t in enumerate(query) if 0 <= t < self.n_terms]
        q = np.array([t for t, _ in known], dtype=np.int64)
        w = np.array([x for _, x in known], dtype=np.float64)
        if q.shape[0] and (self._stats.idf[q] * w < 0).any():
            return None
        found_docs: list[IntArray] = []
        found_scores: list[FloatArray] = []
        threshold = -np.inf
        # Plus scores carry an offset the kernel's lack. Lowered by a hair: a document scoring the floor
        # itself, summed in another order, stays in.
        if floor is not None and self.params.variant == "okapi":
            threshold = floor - 1e-9 * abs(floor)
        stats, p = self._stats, self.params
        mask = allowed if allowed is not None else self.deleted  # any bool array: unused without allowed
        shared = np.full(1, threshold)  # the k-th best reached so far, raised by the kernel as it goes

        def search(n: int, local: IntArray | None) -> tuple[IntArray, FloatArray]:
            seg = self.segments[n]
            lo, hi = seg.first_doc, seg.first_doc + seg.n_docs
            acc, seen = self._buffers(seg.n_docs)
            return kernels.top_in_segment(
                *_packed(seg), lo, stats.norm[lo:hi], self.deleted[lo:hi], mask[lo:hi],
                allowed is not None, local if local is not None else no_ranges, local is not None, q, w,
                stats.idf, p.k1, k, shared, acc, seen, self._term_max(n),
            )  # fmt: skip

        no_ranges = np.zeros((0, 2), dtype=np.int64)
        for n, seg in enumerate(self.segments):
            lo, hi = seg.first_doc, seg.first_doc + seg.n_docs
            local = None
            if ranges is not None:  # the ranges' parts inside this segment, in its positions
                local = ranges_within(ranges, lo, hi)
                if not local.shape[0]:
                    continue
            halves = _halves(local, seg.n_docs) if parallel else None
            helper = _helper() if halves is not None else None
            if halves is not None and helper is not None and _HELPER.acquire(blocking=False):
                try:
                    other = helper.submit(search, n, halves[1])
                    try:
                        docs, scores = search(n, halves[0])
                    finally:
                        done = other.result()
                finally:
                    _HELPER.release()
                docs, scores = np.concatenate([docs, done[0]]), np.concatenate([scores, done[1]])
            else:
                docs, scores = search(n, local)
            if docs.shape[0]:
                found_docs.append(docs)
                found_scores.append(scores)
                every = np.concatenate(found_scores)
                if every.shape[0] >= k:
                    shared[0] = max(
                        shared[0], float(np.partition(every, every.shape[0] - k)[every.shape[0] - k])
                    )
        if not found_docs:
            return ScoredDocs(np.zeros(0, dtype=np.int64), np.zeros(0))
        cand, scores = np.concatenate(found_docs), np.concatenate(found_scores)
        if p.variant == "plus":
            scores = scores + self._plus_offset(query, weights)
        order = np.lexsort((cand, -scores))[:k]
        return ScoredDocs(cand[order], scores[order])

    def find_bounds(self, stop: threading.Event | None = None) -> None:
        """Every term's bound (its largest tf part) found now rather than on a question's first use of the
        term, which at a million paragraphs costs a long list read whole: the same values, so the same
        rankings to the bit. In chunks of terms, ``stop`` checked between them; the kernel runs without the
        GIL."""
        if not kernels.AVAILABLE:
            return
        for n, seg in enumerate(self.segments):
            lo = seg.first_doc
            norm = self._stats.norm[lo : lo + seg.n_docs]
            tmax = self._term_max(n)
            for start in range(0, seg.n_terms, _BOUNDS_CHUNK):
                if stop is not None and stop.is_set():
                    return
                kernels.term_maxima(
                    *_packed(seg), lo, norm, self.params.k1, tmax, start, start + _BOUNDS_CHUNK
                )

    def _term_max(self, segment: int) -> FloatArray:
        """Per term of a segment, the largest tf part of its postings (-1: not read yet), for this snapshot:
        the document norms it depends on change with the collection."""
        cache = self._tmax
        found = cache.get(segment)
        if found is None:
            found = cache.setdefault(segment, np.full(self.segments[segment].n_terms, -1.0))
        return found

    def _top_maxscore(
        self,
        query: Sequence[int],
        k: int,
        allowed: npt.NDArray[np.bool_] | None,
        weights: Sequence[float] | None,
    ) -> tuple[IntArray, FloatArray] | None:
        """Candidates with full scores, or None when pruning cannot decide (the caller scores everything).

        A term adds at most ``idf * (k1 + 1)`` to any document (the tf part of Okapi and BM25+ is below
        ``k1 + 1``). Terms are read in order of that bound, rare ones first. Once the k-th best score so far
        exceeds the bounds of all unread terms together, no document they alone hold can reach the top k:
        their postings are then only looked up for the candidates already found (binary search), never
        read whole. Scores stay exact; only the order of additions differs from rank_bm25 (~1e-16).
        """
        known = [(t, _weight(weights, i)) for i, t in enumerate(query) if 0 <= t < self.n_terms]
        if len(known) < 2:
            return None
        terms = [t for t, _ in known]
        scale = [w for _, w in known]
        bounds = np.array([self._stats.idf[t] * w * (self.params.k1 + 1) for t, w in known])
        if (bounds < 0).any():
            return None  # a negative idf breaks the bound arithmetic: score everything instead
        order = np.argsort(-bounds, kind="stable")
        rest_bound = np.concatenate([np.cumsum(bounds[order][::-1])[::-1][1:], [0.0]])
        acc, seen = self._buffers()
        fresh: list[npt.NDArray[np.int32]] = []  # documents in the order first touched: unique, unsorted
        done: IntArray | None = None
        for step, position in enumerate(order):
            term = terms[position]
            idf = self._stats.idf[term] * scale[position]
            for seg in self.segments:
                d, tf = seg.postings(term)
                if d.shape[0]:
                    acc[d] += self._term_scores(idf, tf, d)
                    new = d[~seen[d]]
                    seen[new] = True
                    fresh.append(new)
            if step + 1 == len(terms) or not fresh:
                continue
            cand = self._live(np.concatenate(fresh).astype(np.int64), allowed)
            if cand.shape[0] < k:
                continue
            kth = np.partition(acc[cand], cand.shape[0] - k)[cand.shape[0] - k]
            if kth > rest_bound[step]:
                cand.sort()
                for later in order[step + 1 :]:
                    self._add_for(terms[later], cand, acc, scale[later])
                done = cand
                break
        every = np.concatenate(fresh).astype(np.int64) if fresh else np.zeros(0, dtype=np.int64)
        cand = done if done is not None else self._live(every, allowed)
        scores = acc[cand].copy()
        acc[every] = 0.0
        seen[every] = False
        if self.params.variant == "plus":
            scores += self._plus_offset(query, weights)
        return cand, scores

    def _add_for(self, term: int, cand: IntArray, acc: FloatArray, weight: float = 1.0) -> None:
        """Add a term's scores to ``acc`` for the candidate documents only (binary search in postings)."""
        idf = self._stats.idf[term] * weight
        for seg in self.segments:
            d, tf = seg.postings(term)
            if not d.shape[0]:
                continue
            lo, hi = np.searchsorted(cand, [seg.first_doc, seg.first_doc + seg.n_docs])
            mine = cand[lo:hi]
            if not mine.shape[0]:
                continue
            pos = np.minimum(np.searchsorted(d, mine), d.shape[0] - 1)
            hit = d[pos] == mine
            if hit.any():
                docs = mine[hit]
                acc[docs] += self._term_scores(idf, tf[pos[hit]], docs)

    def _live(self, docs: IntArray, allowed: npt.NDArray[np.bool_] | None) -> IntArray:
        keep = ~self.deleted[docs]
        if allowed is not None:
            keep &= allowed[docs]
        result: IntArray = docs[keep]
        return result

    def _term_scores(self, idf: float, tf: npt.NDArray[np.uint16], docs: npt.NDArray[Any]) -> FloatArray:
        p = self.params
        q_freq = tf.astype(np.float64)
        norm: FloatArray = self._stats.norm[docs]
        scores: FloatArray
        if p.variant == "okapi":
            scores = idf * (q_freq * (p.k1 + 1) / (q_freq + norm))
        elif p.variant == "l":
            ctd = q_freq / norm
            delta = p.effective_delta
            scores = idf * q_freq * (p.k1 + 1) * (ctd + delta) / (p.k1 + ctd + delta)
        else:
            scores = idf * ((q_freq * (p.k1 + 1)) / (norm + q_freq))
        return scores

    def _plus_offset(self, query: Sequence[int], weights: Sequence[float] | None = None) -> float:
        # BM25+ gives idf * delta for every query term, held or not; _term_scores leaves it out so that
        # documents lacking a term are not skipped, and it is added here once per query term.
        delta = self.params.effective_delta
        return float(
            sum(
                self._stats.idf[t] * _weight(weights, i) * delta
                for i, t in enumerate(query)
                if 0 <= t < self.n_terms
            )
        )

    def _buffers(self, size: int | None = None) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Zeroed per-thread scratch of ``size`` documents (default: all), left zeroed after each use."""
        size = self.n_docs if size is None else size
        s = self._scratch
        if getattr(s, "acc", None) is None or s.acc.shape[0] < size:
            s.acc = np.zeros(size, dtype=np.float64)
            s.seen = np.zeros(s.acc.shape[0], dtype=np.bool_)
        return s.acc[:size], s.seen[:size]


def _packed(seg: Segment) -> tuple[Any, Any, Any, Any, Any, Any, Any]:
    """A segment's postings as the compiled kernels take them."""
    p = seg.packed
    return p.indptr, p.bptr, p.first, p.last, p.at, p.width, p.bits


def _restore(
    params: BM25Params,
    segments: tuple[Segment, ...],
    n_terms: int,
    deleted: npt.NDArray[np.bool_],
    stats: _Stats,
    tmax: dict[int, FloatArray],
) -> BM25Index:
    # Copied: unpickled arrays may be read-only views (Ray's object store), and the kernel fills this cache.
    return BM25Index(params, segments, n_terms, deleted, stats, _tmax={n: t.copy() for n, t in tmax.items()})


def _weight(weights: Sequence[float] | None, position: int) -> float:
    return 1.0 if weights is None else weights[position]


def _compute_stats(
    params: BM25Params, segments: tuple[Segment, ...], n_terms: int, dead: npt.NDArray[np.bool_]
) -> _Stats:
    n_docs = dead.shape[0]
    doc_len = np.concatenate([s.doc_len for s in segments]).astype(np.float64) if segments else np.zeros(0)
    live = ~dead
    n_live = int(live.sum())
    df = np.zeros(n_terms, dtype=np.int64)
    for s in segments:
        df += s.df(n_terms)
        if dead[s.first_doc : s.first_doc + s.n_docs].any():
            for lo, hi, docs, _ in _chunks_of(s):
                term_of = np.repeat(np.arange(lo, hi, dtype=np.int64), np.diff(s.indptr[lo : hi + 1]))
                df -= np.bincount(term_of[dead[docs]], minlength=n_terms)
    total_len = float(doc_len[live].sum()) if n_docs else 0.0
    avgdl = total_len / n_live if n_live else 1.0
    present = df > 0
    n = float(n_live)
    idf = np.zeros(n_terms, dtype=np.float64)
    if params.variant == "okapi":
        raw = np.log(n - df[present] + 0.5) - np.log(df[present] + 0.5)
        average = float(raw.sum()) / raw.shape[0] if raw.shape[0] else 0.0
        raw[raw < 0] = params.epsilon * average
        idf[present] = raw
    elif params.variant == "l":
        idf[present] = np.log(n + 1) - np.log(df[present] + 0.5)
    else:
        idf[present] = np.log((n + 1) / df[present])
    k1, b = params.k1, params.b
    norm = k1 * (1 - b + b * doc_len / avgdl) if params.variant != "l" else (1 - b + b * doc_len / avgdl)
    return _Stats(n_live, avgdl, df, idf, norm)


def _halves(local: IntArray | None, n_docs: int) -> tuple[IntArray, IntArray] | None:
    """``local`` ranges (None: all ``n_docs``) cut into two with as many documents each, or None when they
    hold fewer than ``_PARALLEL_DOCS``."""
    if local is None:
        local = np.array([[0, n_docs]], dtype=np.int64)
    sizes = local[:, 1] - local[:, 0]
    total = int(sizes.sum())
    if total < _PARALLEL_DOCS:
        return None
    middle = int(np.searchsorted(np.cumsum(sizes), total // 2))  # the range holding the middle document
    cut = int(local[middle, 1] - (int(sizes[: middle + 1].sum()) - total // 2))
    first = np.concatenate([local[:middle], [[local[middle, 0], cut]]]).astype(np.int64)
    second = np.concatenate([[[cut, local[middle, 1]]], local[middle + 1 :]]).astype(np.int64)
    return first[first[:, 1] > first[:, 0]], second[second[:, 1] > second[:, 0]]


def ranges_within(ranges: IntArray, lo: int, hi: int) -> IntArray:
    """The parts of ``[start, stop)`` document ``ranges`` inside ``[lo, hi)``, numbered from ``lo`` (a
    segment's or a shard's positions)."""
    inside = ranges[(ranges[:, 1] > lo) & (ranges[:, 0] < hi)]
    return np.clip(inside, lo, hi).astype(np.int64) - lo


def _ranges_mask(
    ranges: IntArray, n_docs: int, allowed: npt.NDArray[np.bool_] | None
) -> npt.NDArray[np.bool_]:
    """The mask of the documents inside ``ranges`` (and ``allowed`` when given)."""
    inside = np.zeros(n_docs + 1, dtype=np.int8)
    starts, stops = np.clip(ranges[:, 0], 0, n_docs), np.clip(ranges[:, 1], 0, n_docs)
    np.add.at(inside, starts, 1)
    np.add.at(inside, stops, -1)
    mask = np.cumsum(inside[:n_docs], dtype=np.int32) > 0
    return mask & allowed if allowed is not None else mask
