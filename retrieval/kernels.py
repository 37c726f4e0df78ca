"""Compiled top-k search over one segment (numba), with the same scores as ``rank_bm25``.

``top_in_segment`` answers a query in one call, in two phases (MaxScore, term at a time):

1. terms are read rarest first (by the most any document can get from them: idf × the largest
   ``tf·(k1+1)/(tf+norm)`` in their postings, found once per snapshot) and their postings added into a
   score per document; after each term, once the best score so far could beat what the unread terms can
   add together, the k-th best score is computed;
2. when the k-th best exceeds that sum, no document the unread terms alone hold can enter the top k: the
   candidates that can still reach it are kept, and each unread term is looked up for them only (a short
   posting list is read; a long one is searched by galloping), dropping candidates as they fall behind.

Every score is the sum of the same per-term values as ``rank_bm25``'s (``idf * (tf * (k1 + 1) /
(tf + norm))``); only the order of the additions differs (~1e-16 relative). Okapi and BM25+ (whose
constant part ``BM25Index`` adds) share the expression; BM25L goes the numpy way.

numba is a dependency, but this module is optional: without numba (not importable, or switched off
with numba's own ``NUMBA_DISABLE_JIT=1``) ``AVAILABLE`` is False and ``BM25Index`` uses its numpy
MaxScore. Compiled code is cached
beside the module (``NUMBA_CACHE_DIR`` moves it) and compiled in advance by ``warm_up``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np

__all__ = ["AVAILABLE", "holding", "postings_of", "top_in_segment", "warm_up"]

F = TypeVar("F", bound=Callable[..., Any])
_njit: Any = None
try:  # pragma: no cover - which branch runs depends on the machine
    import numba

    AVAILABLE = not getattr(
        numba.config, "DISABLE_JIT", 0
    )  # uncompiled, the kernel would be far slower than numpy
    _njit = numba.njit(cache=True, nogil=True)
except ImportError:  # pragma: no cover
    AVAILABLE = False


def _compiled(f: F) -> F:
    """``f`` compiled by numba (cached on disk, the GIL released), or as it is without numba."""
    return cast(F, _njit(f)) if AVAILABLE else f


@_compiled
def _kth_largest(values: Any, n: int, k: int) -> float:
    """The k-th largest of ``values[:n]`` (n >= k), through a min-heap of the k largest."""
    heap = np.empty(k)
    size = 0
    for i in range(n):
        v = values[i]
        if size < k:
            heap[size] = v
            j = size
            size += 1
            while j > 0:
                parent = (j - 1) >> 1
                if heap[parent] > heap[j]:
                    heap[parent], heap[j] = heap[j], heap[parent]
                    j = parent
                else:
                    break
        elif v > heap[0]:
            heap[0] = v
            j = 0
            while True:
                left = 2 * j + 1
                right = left + 1
                smallest = j
                if left < k and heap[left] < heap[smallest]:
                    smallest = left
                if right < k and heap[right] < heap[smallest]:
                    smallest = right
                if smallest == j:
                    break
                heap[smallest], heap[j] = heap[j], heap[smallest]
                j = smallest
    return float(heap[0])


@_compiled
def _bounds(t: int, indptr: Any, n_postings: int) -> tuple[int, int]:
    """Where term ``t``'s postings lie; garbled offsets raise IndexError (the searcher then rebuilds the
    index) instead of reading outside the arrays: compiled code checks no bounds itself."""
    lo = indptr[t]
    hi = indptr[t + 1]
    if lo < 0 or hi < lo or hi > n_postings:
        raise IndexError("index offsets out of range")
    return lo, hi


@_compiled
def _doc(doc: int, first_doc: int, n_docs: int) -> int:
    """A posting's document as a position in the segment; out of range raises IndexError."""
    d = doc - first_doc
    if d < 0 or d >= n_docs:
        raise IndexError("posting outside the segment's documents")
    return d


@_compiled
def _term_max(
    t: int, indptr: Any, docs: Any, tf: Any, first_doc: int, norm: Any, k1: float, tmax: Any
) -> float:
    """The largest ``tf·(k1+1)/(tf+norm)`` of a term's postings (computed once, kept in ``tmax``)."""
    if tmax[t] < 0.0:
        best = 0.0
        lo, hi = _bounds(t, indptr, docs.shape[0])
        for p in range(lo, hi):
            d = _doc(docs[p], first_doc, norm.shape[0])
            f = float(tf[p])
            v = f * (k1 + 1.0) / (f + norm[d])
            if v > best:
                best = v
        tmax[t] = best
    return float(tmax[t])


@_compiled
def _gallop(docs: Any, pos: int, hi: int, target: int) -> int:
    """The first position in ``docs[pos:hi]`` (sorted) holding ``target`` or more (``hi``: none): steps
    doubling forward from ``pos``, then a binary search, so a run of nearby targets costs little."""
    step = 1
    upper = pos
    while upper < hi and docs[upper] < target:
        pos = upper + 1
        upper = pos + step
        step <<= 1
    upper = min(upper, hi)
    while pos < upper:
        mid = (pos + upper) >> 1
        if docs[mid] < target:
            pos = mid + 1
        else:
            upper = mid
    return pos


@_compiled
def top_in_segment(
    indptr: Any,
    docs: Any,
    tf: Any,
    first_doc: int,
    norm: Any,
    dead: Any,
    allowed: Any,
    use_allowed: bool,
    ranges: Any,
    use_ranges: bool,
    query: Any,
    weights: Any,
    idf: Any,
    k1: float,
    k: int,
    threshold: float,
    acc: Any,
    seen: Any,
    tmax: Any,
) -> tuple[Any, Any]:
    """The up to ``k`` best live (and allowed, and in range) documents of one segment, with their scores.

    ``query`` holds term ids with repeats (a repeated term counts each time) and ``weights`` one factor
    per position (1: rank_bm25's score; a question widened with another form of a name weighs its terms
    less; never negative); ``idf`` is per term id;
    ``norm``, ``dead`` and ``allowed`` are the segment's slices; ``ranges`` (with ``use_ranges``) are sorted,
    disjoint ``[start, stop)`` rows of segment positions outside which no document is wanted (a period of
    days in an archive ingested in date order: a few stretches of each posting list are read, found by
    galloping, instead of all of it); ``threshold`` is a score the k-th best
    of earlier segments already reached (documents that cannot beat it are not needed); ``acc`` and
    ``seen`` are zeroed scratch of the segment's size and are left zeroed; ``tmax`` (one per term id of the
    segment, -1 when not yet known) caches each term's largest tf part.
    """
    n_terms = indptr.shape[0] - 1
    # one entry per query position whose term the segment holds (a repeated term is read again)
    terms = np.empty(query.shape[0], np.int64)
    scale = np.empty(query.shape[0])
    nq = 0
    for i in range(query.shape[0]):
        t = query[i]
        if t < 0 or t >= n_terms or indptr[t + 1] == indptr[t]:
            continue
        terms[nq] = t
        scale[nq] = idf[t] * weights[i]  # exactly idf[t] at weight 1
        nq += 1
    out_docs = np.empty(0, np.int64)
    out_scores = np.empty(0)
    if nq == 0:
        return out_docs, out_scores
    bounds = np.empty(nq)
    for i in range(nq):
        t = terms[i]
        bounds[i] = scale[i] * _term_max(t, indptr, docs, tf, first_doc, norm, k1, tmax) * (1.0 + 1e-12)
    order = np.argsort(-bounds, kind="mergesort")
    terms = terms[:nq][order]
    scale = scale[:nq][order]
    bounds = bounds[order]
    rest = np.zeros(nq + 1)
    for i in range(nq - 1, -1, -1):
        rest[i] = rest[i + 1] + bounds[i]

    cand = np.empty(1024, np.int64)
    nc = 0
    kth = threshold
    best = threshold
    live = np.empty(0)
    phase_two = nq
    for i in range(nq):
        t = terms[i]
        w = scale[i]
        lo, hi = _bounds(t, indptr, docs.shape[0])
        for r in range(ranges.shape[0] if use_ranges else 1):
            start, stop = lo, hi
            if use_ranges:  # only the stretches of the postings inside the ranges are read
                start = _gallop(docs, lo, hi, ranges[r, 0] + first_doc)
                stop = _gallop(docs, start, hi, ranges[r, 1] + first_doc)
                lo = stop
            for p in range(start, stop):
                d = _doc(docs[p], first_doc, norm.shape[0])
                f = float(tf[p])
                acc[d] += w * (f * (k1 + 1.0) / (f + norm[d]))
                if acc[d] > best:
                    best = acc[d]
                if not seen[d]:
                    seen[d] = True
                    if nc == cand.shape[0]:
                        grown = np.empty(2 * nc, np.int64)
                        grown[:nc] = cand[:nc]
                        cand = grown
                    cand[nc] = d
                    nc += 1
        if i + 1 == nq or best <= rest[i + 1]:
            continue  # even the best document so far could be overtaken by the unread terms alone
        if live.shape[0] < nc:
            live = np.empty(cand.shape[0])
        n_live = 0
        for j in range(nc):
            d = cand[j]
            if dead[d] or (use_allowed and not allowed[d]):
                continue
            live[n_live] = acc[d]
            n_live += 1
        if n_live >= k:
            kth = max(kth, _kth_largest(live, n_live, k))
        if kth > rest[i + 1]:
            phase_two = i + 1
            break

    if phase_two < nq:
        keep = np.empty(nc, np.int64)
        nk = 0
        for j in range(nc):
            d = cand[j]
            if dead[d] or (use_allowed and not allowed[d]) or acc[d] + rest[phase_two] < kth:
                seen[d] = False  # from here on ``seen`` marks the candidates still in the race
                continue
            keep[nk] = d
            nk += 1
        ordered = False
        for i in range(phase_two, nq):
            if nk == 0:
                break
            t = terms[i]
            lo, hi = _bounds(t, indptr, docs.shape[0])
            w = scale[i]
            if hi - lo <= 8 * nk:  # a short list: read it, look its documents up among the candidates
                for p in range(lo, hi):
                    d = _doc(docs[p], first_doc, norm.shape[0])
                    if seen[d]:
                        f = float(tf[p])
                        acc[d] += w * (f * (k1 + 1.0) / (f + norm[d]))
            else:  # a long list: find each candidate in it, galloping forward
                if not ordered:
                    keep[:nk] = np.sort(keep[:nk])
                    ordered = True
                pos = lo
                for j in range(nk):
                    pos = _gallop(docs, pos, hi, keep[j] + first_doc)
                    if pos < hi and docs[pos] == keep[j] + first_doc:
                        f = float(tf[pos])
                        acc[keep[j]] += w * (f * (k1 + 1.0) / (f + norm[keep[j]]))
            kept = 0
            for j in range(nk):
                d = keep[j]
                if acc[d] + rest[i + 1] >= kth:
                    keep[kept] = d
                    kept += 1
                else:
                    seen[d] = False
            nk = kept
        final = keep[:nk]
    else:
        final = np.empty(nc, np.int64)
        nk = 0
        for j in range(nc):
            d = cand[j]
            if not (dead[d] or (use_allowed and not allowed[d])):
                final[nk] = d
                nk += 1
        final = final[:nk]
    scores = np.empty(nk)
    for j in range(nk):
        scores[j] = acc[final[j]]
    for j in range(nc):  # leave the scratch zeroed for the next query
        acc[cand[j]] = 0.0
        seen[cand[j]] = False
    if nk > k:  # the k best (and any tied with the k-th: the caller orders ties by document)
        cut = _kth_largest(scores, nk, k)
        picked = scores >= cut
        final = final[picked]
        scores = scores[picked]
    return final + first_doc, scores


@_compiled
def holding(indptr: Any, docs: Any, query: Any, targets: Any, held: Any) -> None:
    """Mark in ``held[i, j]`` whether document ``targets[j]`` (sorted) holds term ``query[i]`` (-1: none),
    galloping through each posting list once."""
    n_terms = indptr.shape[0] - 1
    for i in range(query.shape[0]):
        t = query[i]
        if t < 0 or t >= n_terms:
            continue
        lo, hi = _bounds(t, indptr, docs.shape[0])
        pos = lo
        for j in range(targets.shape[0]):
            pos = _gallop(docs, pos, hi, targets[j])
            if pos == hi:
                break
            if docs[pos] == targets[j]:
                held[i, j] = True


@_compiled
def postings_of(terms: Any, docs: Any, n_local: int, first_doc: int) -> tuple[Any, Any, Any]:
    """Term-major postings (``indptr``, global ``docs``, ``tf``) of one (term id, local document) pair per
    token occurrence, in any order: two stable counting sorts (by document, then by term) in linear time,
    instead of sorting every occurrence's 64-bit key. A tf above 65,535 counts 65,535."""
    n = terms.shape[0]
    n_terms = 0
    start = np.zeros(n_local + 1, np.int64)
    for i in range(n):
        d = docs[i]
        if d < 0 or d >= n_local or terms[i] < 0:
            raise IndexError("an occurrence outside the segment's documents or terms")
        start[d + 1] += 1
        if terms[i] >= n_terms:
            n_terms = terms[i] + 1
    for d in range(n_local):
        start[d + 1] += start[d]
    by_doc = np.empty(n, np.int32)  # the occurrences' terms, document by document
    fill = start[:-1].copy()
    for i in range(n):
        d = docs[i]
        by_doc[fill[d]] = terms[i]
        fill[d] += 1
    last = np.full(n_terms, -1, np.int64)  # the last document each term was seen in
    indptr = np.zeros(n_terms + 1, np.int64)
    for d in range(n_local):
        for j in range(start[d], start[d + 1]):
            t = by_doc[j]
            if last[t] != d:
                last[t] = d
                indptr[t + 1] += 1
    for t in range(n_terms):
        indptr[t + 1] += indptr[t]
    out_docs = np.empty(indptr[n_terms], np.int32)
    out_tf = np.zeros(indptr[n_terms], np.uint16)
    pos = indptr[:-1].copy()
    last[:] = -1
    for d in range(n_local):
        for j in range(start[d], start[d + 1]):
            t = by_doc[j]
            if last[t] != d:
                last[t] = d
                out_docs[pos[t]] = d + first_doc
                out_tf[pos[t]] = 1
                pos[t] += 1
            elif out_tf[pos[t] - 1] < 65535:
                out_tf[pos[t] - 1] += 1
    return indptr, out_docs, out_tf


def warm_up() -> None:
    """Compile (or load the cached compilation of) the kernel now, not on the first question."""
    if not AVAILABLE:
        return
    indptr = np.array([0, 2], dtype=np.int64)
    docs = np.array([0, 1], dtype=np.int32)
    tf = np.array([1, 2], dtype=np.uint16)
    norm = np.ones(2)
    flags = np.zeros(2, dtype=np.bool_)
    top_in_segment(
        indptr,
        docs,
        tf,
        0,
        norm,
        flags,
        flags,
        False,
        np.zeros((0, 2), np.int64),
        False,
        np.zeros(1, np.int64),
        np.ones(1),
        np.ones(1),
        1.5,
        1,
        -np.inf,
        np.zeros(2),
        flags.copy(),
        np.full(1, -1.0),
    )
    holding(indptr, docs, np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros((1, 1), np.bool_))
    postings_of(np.zeros(1, np.int32), np.zeros(1, np.int32), 1, 0)
