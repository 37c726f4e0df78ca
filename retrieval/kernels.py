"""Compiled top-k search over one segment (numba), with the same scores as ``rank_bm25``, and the
packing of postings into blocks (``retrieval.postings``) it reads.

``top_in_segment`` answers a query in one call, in two phases (MaxScore, term at a time):

1. terms are read rarest first (by the most any document can get from them: idf × the largest
   ``tf·(k1+1)/(tf+norm)`` in their postings, found once per snapshot) and their postings added into a
   score per document; after each term, once the best score so far could beat what the unread terms can
   add together, the k-th best score is computed, and, the first time that is not enough, the k-th best
   full score of the leading candidates (their unread terms looked up: real scores, so a lower bound of the
   final k-th best, usually close to it);
2. when the k-th best exceeds that sum, no document the unread terms alone hold can enter the top k: the
   candidates that can still reach it are kept, and each unread term is looked up for them only (the
   blocks reaching from the first candidate to the last are read when they are few; otherwise they are
   searched by galloping over their last documents, then within the one block decoded), dropping
   candidates as they fall behind.

The k-th best so far is kept in a one-element array the caller passes: two searches of the two halves of
a segment, running at once on two threads, read and raise the same one, so each prunes with the better of
the two (any k documents' scores bound the final k-th best from below, wherever they are).

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

__all__ = [
    "AVAILABLE",
    "BLOCK",
    "decode_postings",
    "encode_postings",
    "holding",
    "postings_of",
    "term_maxima",
    "top_in_segment",
    "warm_up",
]

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


BLOCK = 64  # postings per block (``retrieval.postings``)


@_compiled
def _blocks(t: int, indptr: Any, bptr: Any, n_blocks: int) -> tuple[int, int]:
    """Where term ``t``'s blocks lie; garbled offsets raise IndexError (the searcher then rebuilds the
    index) instead of reading outside the arrays: compiled code checks no bounds itself."""
    lo = bptr[t]
    hi = bptr[t + 1]
    if lo < 0 or hi < lo or hi > n_blocks or indptr[t + 1] < indptr[t]:
        raise IndexError("index offsets out of range")
    return lo, hi


@_compiled
def _block_len(indptr: Any, bptr: Any, t: int, b: int) -> int:
    """Postings in block ``b`` of term ``t`` (a full block but the term's last)."""
    return int(min(BLOCK, indptr[t + 1] - indptr[t] - BLOCK * (b - bptr[t])))


@_compiled
def _read(words: Any, bit: Any, width: Any) -> int:
    """The ``width``-bit value (at most 31 bits; 0 reads 0) at bit ``bit`` of ``words``, least significant
    first: the two words it may span, shifted and masked, without a branch on the width."""
    w = bit >> 5
    n = words.shape[0]
    low = np.uint64(words[w]) if w < n else np.uint64(0)
    high = np.uint64(words[w + 1]) if w + 1 < n else np.uint64(0)
    value = ((high << np.uint64(32)) | low) >> np.uint64(bit & 31)
    return int(value & ((np.uint64(1) << np.uint64(width)) - np.uint64(1)))


@_compiled
def _write(words: Any, bit: Any, value: Any, width: Any) -> None:
    if width == 0:
        return
    w = bit >> 5
    shift = bit & 31
    words[w] |= np.uint32((value << shift) & 0xFFFFFFFF)
    if shift + width > 32:
        words[w + 1] |= np.uint32(value >> (32 - shift))


@_compiled
def _enter(words: Any, at: Any, width: Any, b: int, n: int) -> tuple[Any, Any, Any, Any]:
    """Where block ``b`` (of ``n`` postings) keeps its gaps and its frequencies, and their widths:
    ``(gap bit, gap width, tf bit, tf width)``. Offsets or widths that do not fit raise IndexError."""
    start = at[b]
    dw = np.int64(width[b, 0])
    tw = np.int64(width[b, 1])
    doc_words = ((n - 1) * dw + 31) // 32
    if (
        n < 1
        or start < 0
        or at[b + 1] > words.shape[0]
        or dw > 31
        or tw > 16
        or start + doc_words + (n * tw + 31) // 32 != at[b + 1]
    ):
        raise IndexError("a block of postings does not fit its words")
    return start * 32, dw, (start + doc_words) * 32, tw


@_compiled
def _decode_block(
    words: Any, at: Any, width: Any, first: Any, last: Any, b: int, n: int, dbuf: Any, tbuf: Any
) -> None:
    """Block ``b``'s ``n`` documents into ``dbuf`` and frequencies (as floats) into ``tbuf``."""
    bit, dw, tbit, tw = _enter(words, at, width, b, n)
    d = np.int64(first[b])
    dbuf[0] = d
    for i in range(1, n):
        d += _read(words, bit, dw)
        bit += dw
        dbuf[i] = d
    if d != last[b]:
        raise IndexError("a block of postings does not end at its last document")
    for i in range(n):
        tbuf[i] = 1.0 + _read(words, tbit, tw)
        tbit += tw


@_compiled
def _decode_inside(
    words: Any, at: Any, width: Any, first: Any, last: Any, b: int, n: int, dbuf: Any, tbuf: Any,
    first_doc: int, n_docs: int,
) -> None:  # fmt: skip
    """``_decode_block`` with the documents as positions in the segment (``first_doc`` on): a block reaching
    outside the segment raises IndexError (its documents ascend from ``first`` to ``last``, which decoding
    checks, so the block's ends are all there is to check)."""
    if first[b] < first_doc or last[b] >= first_doc + n_docs:
        raise IndexError("posting outside the segment's documents")
    _decode_block(words, at, width, first, last, b, n, dbuf, tbuf)
    for i in range(n):
        dbuf[i] -= first_doc


# A cursor in a term's blocks (``_seek``): an int64 array of these fields.
_B, _DECODED, _N, _I, _DOC, _BIT, _DW, _TBIT, _TW = range(9)


@_compiled
def _cursor(b0: int) -> Any:
    c = np.zeros(9, np.int64)
    c[_B] = b0
    c[_DECODED] = -1
    return c


@_compiled
def _seek(
    c: Any, b1: int, target: int, indptr: Any, bptr: Any, t: int, first: Any, last: Any, at: Any, width: Any,
    words: Any,
) -> int:  # fmt: skip
    """Move cursor ``c`` over term ``t``'s blocks (ending at ``b1``) to document ``target`` (targets come
    in ascending order): the block is found by galloping over the blocks' last documents, then its gaps
    are read up to the target, never the whole block. Returns the posting's place in the block (its
    frequency is at ``c[_TBIT] + place * c[_TW]``), -1 when the term is not in ``target``, -2 when no
    later document holds it."""
    b = _gallop(last, c[_B], b1, target)
    c[_B] = b
    if b == b1:
        return -2
    if b != c[_DECODED]:
        n = _block_len(indptr, bptr, t, b)
        bit, dw, tbit, tw = _enter(words, at, width, b, n)
        c[_DECODED] = b
        c[_N] = n
        c[_I] = 0
        c[_DOC] = first[b]
        c[_BIT] = bit
        c[_DW] = dw
        c[_TBIT] = tbit
        c[_TW] = tw
    doc = c[_DOC]
    i = c[_I]
    bit = c[_BIT]
    dw = c[_DW]
    n = c[_N]
    while doc < target and i + 1 < n:
        doc += _read(words, bit, dw)
        bit += dw
        i += 1
    c[_DOC] = doc
    c[_I] = i
    c[_BIT] = bit
    if doc == target:
        return int(i)
    if doc < target:  # the block's last document is at least the target
        raise IndexError("a block of postings does not end at its last document")
    return -1


@_compiled
def _bit_length(value: int) -> int:
    bits = 0
    while value > 0:
        value >>= 1
        bits += 1
    return bits


@_compiled
def encode_postings(indptr: Any, docs: Any, tf: Any) -> tuple[Any, Any, Any, Any, Any]:
    """Term-major postings packed in blocks (``retrieval.postings``): ``first``, ``last``, ``at``,
    ``width``, ``words``. Documents must ascend within each term and frequencies be at least 1."""
    n_terms = indptr.shape[0] - 1
    n_blocks = 0
    for t in range(n_terms):
        n_blocks += (indptr[t + 1] - indptr[t] + BLOCK - 1) // BLOCK
    first = np.empty(n_blocks, np.int32)
    last = np.empty(n_blocks, np.int32)
    width = np.zeros((n_blocks, 2), np.uint8)
    at = np.zeros(n_blocks + 1, np.int64)
    b = 0
    for t in range(n_terms):
        p = indptr[t]
        while p < indptr[t + 1]:
            q = min(p + BLOCK, indptr[t + 1])
            gap: Any = 0
            for i in range(p + 1, q):
                g = np.int64(docs[i]) - np.int64(docs[i - 1])
                if g <= 0:
                    raise ValueError("postings are not in ascending document order")
                gap = max(gap, g)
            most: Any = 0
            for i in range(p, q):
                if tf[i] < 1:
                    raise ValueError("a term frequency below 1")
                most = max(most, np.int64(tf[i]) - 1)
            dw: Any = _bit_length(gap)
            tw: Any = _bit_length(most)
            first[b] = docs[p]
            last[b] = docs[q - 1]
            width[b, 0] = dw
            width[b, 1] = tw
            at[b + 1] = at[b] + ((q - p - 1) * dw + 31) // 32 + ((q - p) * tw + 31) // 32
            b += 1
            p = q
    words = np.zeros(at[n_blocks], np.uint32)
    b = 0
    for t in range(n_terms):
        p = indptr[t]
        while p < indptr[t + 1]:
            q = min(p + BLOCK, indptr[t + 1])
            dw = np.int64(width[b, 0])
            tw = np.int64(width[b, 1])
            bit = at[b] * 32
            for i in range(p + 1, q):
                _write(words, bit, np.int64(docs[i]) - np.int64(docs[i - 1]), dw)
                bit += dw
            bit = (at[b] + ((q - p - 1) * dw + 31) // 32) * 32
            for i in range(p, q):
                _write(words, bit, np.int64(tf[i]) - 1, tw)
                bit += tw
            b += 1
            p = q
    return first, last, at, width, words


@_compiled
def decode_postings(
    indptr: Any, bptr: Any, first: Any, last: Any, at: Any, width: Any, words: Any, lo: int, hi: int
) -> tuple[Any, Any]:
    """The documents and frequencies of terms ``[lo, hi)``, term after term."""
    base = indptr[lo]
    docs = np.empty(indptr[hi] - base, np.int32)
    tf = np.empty(indptr[hi] - base, np.uint16)
    dbuf = np.empty(BLOCK, np.int64)
    tbuf = np.empty(BLOCK)
    p = 0
    for t in range(lo, hi):
        b0, b1 = _blocks(t, indptr, bptr, first.shape[0])
        for b in range(b0, b1):
            n = _block_len(indptr, bptr, t, b)
            _decode_block(words, at, width, first, last, b, n, dbuf, tbuf)
            for i in range(n):
                docs[p] = dbuf[i]
                tf[p] = np.uint16(tbuf[i])
                p += 1
    return docs, tf


@_compiled
def _doc(doc: Any, first_doc: int, n_docs: int) -> int:
    """A posting's document as a position in the segment; out of range raises IndexError."""
    d = doc - first_doc
    if d < 0 or d >= n_docs:
        raise IndexError("posting outside the segment's documents")
    return int(d)


@_compiled
def _term_max(
    t: int,
    indptr: Any,
    bptr: Any,
    first: Any,
    last: Any,
    at: Any,
    width: Any,
    words: Any,
    first_doc: int,
    norm: Any,
    k1: float,
    tmax: Any,
    dbuf: Any,
    tbuf: Any,
) -> float:
    """The largest ``tf·(k1+1)/(tf+norm)`` of a term's postings (computed once, kept in ``tmax``)."""
    if tmax[t] < 0.0:
        best = 0.0
        b0, b1 = _blocks(t, indptr, bptr, first.shape[0])
        for b in range(b0, b1):
            n = _block_len(indptr, bptr, t, b)
            _decode_block(words, at, width, first, last, b, n, dbuf, tbuf)
            for i in range(n):
                d = _doc(dbuf[i], first_doc, norm.shape[0])
                f = tbuf[i]
                v = f * (k1 + 1.0) / (f + norm[d])
                if v > best:
                    best = v
        tmax[t] = best
    return float(tmax[t])


@_compiled
def term_maxima(
    indptr: Any, bptr: Any, first: Any, last: Any, at: Any, width: Any, words: Any, first_doc: int, norm: Any,
    k1: float, tmax: Any, lo: int, hi: int,
) -> None:  # fmt: skip
    """``_term_max`` of the terms ``lo`` to ``hi`` that hold postings and are not known yet: the values a
    search would find on first use, found ahead of it."""
    dbuf = np.empty(BLOCK, np.int64)
    tbuf = np.empty(BLOCK)
    for t in range(lo, min(hi, indptr.shape[0] - 1)):
        if indptr[t + 1] > indptr[t]:
            _term_max(t, indptr, bptr, first, last, at, width, words, first_doc, norm, k1, tmax, dbuf, tbuf)


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
def _leaders_kth(leaders: Any, terms: Any, scale: Any, lo: int, nq: int, postings: Any) -> float:
    """The k-th best full score among the candidates leading after ``terms[:lo]`` (at least ``k`` of them,
    live and allowed, with a partial score of ``cut`` or more; -inf when fewer): their unread terms are
    looked up. A real document's score, so a lower bound of the final k-th best, and usually close to it,
    which lets the second phase begin terms earlier than the partial scores would."""
    cand, nc, acc, dead, allowed, use_allowed, cut, k = leaders
    indptr, bptr, first, last, at, width, words, first_doc, norm, k1 = postings
    picked = np.empty(2 * k, np.int64)
    n = 0
    for j in range(nc):
        d = cand[j]
        if acc[d] >= cut and not dead[d] and not (use_allowed and not allowed[d]):
            picked[n] = d
            n += 1
            if n == picked.shape[0]:
                break
    if n < k:
        return -np.inf
    picked = np.sort(picked[:n])
    full = np.empty(n)
    for j in range(n):
        full[j] = acc[picked[j]]
    for i in range(lo, nq):  # in the order the kernel adds them: the same sums, to the last bit
        t = terms[i]
        w = scale[i]
        b0, b1 = _blocks(t, indptr, bptr, first.shape[0])
        cursor = _cursor(b0)
        for j in range(n):
            pos = _seek(cursor, b1, picked[j] + first_doc, indptr, bptr, t, first, last, at, width, words)
            if pos == -2:
                break
            if pos >= 0:
                f = 1.0 + _read(words, cursor[_TBIT] + pos * cursor[_TW], cursor[_TW])
                full[j] += w * (f * (k1 + 1.0) / (f + norm[picked[j]]))
    return _kth_largest(full, n, k)


@_compiled
def top_in_segment(
    indptr: Any,
    bptr: Any,
    first: Any,
    last: Any,
    at: Any,
    width: Any,
    words: Any,
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
    shared: Any,
    acc: Any,
    seen: Any,
    tmax: Any,
) -> tuple[Any, Any]:
    """The up to ``k`` best live (and allowed, and in range) documents of one segment, with their scores.

    The segment's postings are ``indptr`` and its blocks (``retrieval.postings``: ``bptr`` the first
    block of each term, ``first``, ``last``, ``at``, ``width``, ``words``).
    ``query`` holds term ids with repeats (a repeated term counts each time) and ``weights`` one factor
    per position (1: rank_bm25's score; a question widened with another form of a name weighs its terms
    less; never negative); ``idf`` is per term id;
    ``norm``, ``dead`` and ``allowed`` are the segment's slices; ``ranges`` (with ``use_ranges``) are sorted,
    disjoint ``[start, stop)`` rows of segment positions outside which no document is wanted (a period of
    days in an archive ingested in date order: the blocks inside the ranges are read, found by galloping
    over the blocks' last documents, instead of all of them); ``shared[0]`` is a score the k-th best
    already reached (earlier segments', a floor, or that of a search of another part of the segment
    running alongside with the same ``shared``): documents that cannot reach it are not needed; it is read
    as the search goes and raised to the k-th best found here; ``acc`` and
    ``seen`` are zeroed scratch of the segment's size and are left zeroed; ``tmax`` (one per term id of the
    segment, -1 when not yet known) caches each term's largest tf part.
    """
    n_terms = indptr.shape[0] - 1
    n_docs = norm.shape[0]
    n_blocks = first.shape[0]
    dbuf = np.empty(BLOCK, np.int64)
    tbuf = np.empty(BLOCK)
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
        most = _term_max(
            t, indptr, bptr, first, last, at, width, words, first_doc, norm, k1, tmax, dbuf, tbuf
        )
        bounds[i] = scale[i] * most * (1.0 + 1e-12)
    order = np.argsort(-bounds, kind="mergesort")
    terms = terms[:nq][order]
    scale = scale[:nq][order]
    bounds = bounds[order]
    rest = np.zeros(nq + 1)
    for i in range(nq - 1, -1, -1):
        rest[i] = rest[i + 1] + bounds[i]
    if not use_ranges:  # one stretch: the whole segment
        ranges = np.empty((1, 2), np.int64)
        ranges[0, 0] = 0
        ranges[0, 1] = n_docs

    cand = np.empty(1024, np.int64)
    nc = 0
    kth = shared[0]
    best = kth
    live = np.empty(0)
    phase_two = nq
    primed = False
    for i in range(nq):
        t = terms[i]
        w = scale[i]
        b0, b1 = _blocks(t, indptr, bptr, n_blocks)
        b = b0
        for r in range(ranges.shape[0]):
            start = ranges[r, 0] + first_doc
            stop = ranges[r, 1] + first_doc
            b = _gallop(last, b, b1, start)  # the first block reaching the stretch
            while b < b1:
                if first[b] >= stop:
                    if first[b] > last[b]:
                        raise IndexError("a block of postings starts after it ends")
                    break  # the next stretch may begin in this block
                n = _block_len(indptr, bptr, t, b)
                if first[b] >= start and last[b] < stop:  # the whole block: decoded at once, then added
                    _decode_inside(words, at, width, first, last, b, n, dbuf, tbuf, first_doc, n_docs)
                    if nc + n > cand.shape[0]:
                        grown = np.empty(2 * cand.shape[0] + n, np.int64)
                        grown[:nc] = cand[:nc]
                        cand = grown
                    for j in range(n):  # no branch on a new candidate: written always, counted when new
                        d = dbuf[j]
                        f = tbuf[j]
                        score = acc[d] + w * (f * (k1 + 1.0) / (f + norm[d]))
                        acc[d] = score
                        if score > best:
                            best = score
                        cand[nc] = d
                        nc += 1 - int(seen[d])
                        seen[d] = True
                    b += 1
                    continue
                bit, dw, tbit, tw = _enter(words, at, width, b, n)
                doc = np.int64(first[b])
                ended = True
                for j in range(n):  # documents decoded as they are read, a frequency only when needed
                    if j:
                        doc += _read(words, bit, dw)
                        bit += dw
                    if doc < start:
                        continue
                    if doc >= stop:
                        ended = False
                        break
                    d = _doc(doc, first_doc, n_docs)
                    f = 1.0 + _read(words, tbit + j * tw, tw)
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
                if ended and doc != last[b]:
                    raise IndexError("a block of postings does not end at its last document")
                if last[b] >= stop:
                    break  # the block goes on past the stretch: the next stretch may start in it
                b += 1
        if i + 1 == nq:
            continue
        # Unless even the best document so far could be overtaken by the unread terms alone: the k-th best.
        if best > rest[i + 1]:
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
                cut = _kth_largest(live, n_live, k)
                kth = max(kth, cut)
                # Once a query: the leaders' full scores may show the unread terms cannot matter (looking them
                # up again after later terms costs more than it saves on real news questions).
                if kth <= rest[i + 1] and not primed:
                    leaders = (cand, nc, acc, dead, allowed, use_allowed, cut, k)
                    postings = (indptr, bptr, first, last, at, width, words, first_doc, norm, k1)
                    kth = max(kth, _leaders_kth(leaders, terms, scale, i + 1, nq, postings))
                    primed = True
                shared[0] = max(shared[0], kth)
        kth = max(kth, shared[0])
        if kth > rest[i + 1]:
            phase_two = i + 1
            break

    if phase_two < nq:
        keep = np.empty(nc, np.int64)
        nk = 0
        lowest, highest = n_docs, -1
        for j in range(nc):
            d = cand[j]
            if dead[d] or (use_allowed and not allowed[d]) or acc[d] + rest[phase_two] < kth:
                seen[d] = False  # from here on ``seen`` marks the candidates still in the race
                continue
            keep[nk] = d
            nk += 1
            lowest = min(lowest, d)
            highest = max(highest, d)
        ordered = False
        for i in range(phase_two, nq):
            if nk == 0:
                break
            kth = max(kth, shared[0])
            t = terms[i]
            b0, b1 = _blocks(t, indptr, bptr, n_blocks)
            # only the blocks reaching the candidates' stretch (a part of the segment, a period)
            b0 = _gallop(last, b0, b1, lowest + first_doc)
            b1 = _gallop(first, b0, b1, highest + first_doc + 1)
            w = scale[i]
            if (b1 - b0) * BLOCK <= 8 * nk:  # a short list: read it, look its documents up
                for b in range(b0, b1):
                    n = _block_len(indptr, bptr, t, b)
                    _decode_inside(words, at, width, first, last, b, n, dbuf, tbuf, first_doc, n_docs)
                    for j in range(n):
                        d = dbuf[j]
                        if seen[d]:
                            f = tbuf[j]
                            acc[d] += w * (f * (k1 + 1.0) / (f + norm[d]))
            else:  # a long list: find each candidate in it, galloping over blocks, then reading in one
                if not ordered:
                    keep[:nk] = np.sort(keep[:nk])
                    ordered = True
                cursor = _cursor(b0)
                for j in range(nk):
                    target = keep[j] + first_doc
                    pos = _seek(cursor, b1, target, indptr, bptr, t, first, last, at, width, words)
                    if pos == -2:
                        break
                    if pos >= 0:
                        f = 1.0 + _read(words, cursor[_TBIT] + pos * cursor[_TW], cursor[_TW])
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
    if nk >= k:  # the k best (and any tied with the k-th: the caller orders ties by document)
        cut = _kth_largest(scores, nk, k)
        shared[0] = max(shared[0], cut)
        picked = scores >= cut
        final = final[picked]
        scores = scores[picked]
    return final + first_doc, scores


@_compiled
def holding(
    indptr: Any, bptr: Any, first: Any, last: Any, at: Any, width: Any, words: Any, query: Any, targets: Any,
    held: Any,
) -> None:  # fmt: skip
    """Mark in ``held[i, j]`` whether document ``targets[j]`` (sorted) holds term ``query[i]`` (-1: none),
    galloping through each term's blocks once."""
    n_terms = indptr.shape[0] - 1
    for i in range(query.shape[0]):
        t = query[i]
        if t < 0 or t >= n_terms:
            continue
        b0, b1 = _blocks(t, indptr, bptr, first.shape[0])
        cursor = _cursor(b0)
        for j in range(targets.shape[0]):
            pos = _seek(cursor, b1, targets[j], indptr, bptr, t, first, last, at, width, words)
            if pos == -2:
                break
            if pos >= 0:
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
    """Compile (or load the cached compilation of) the kernels now, not on the first question: for
    arrays built in memory, for an index memory-mapped from its files (read-only postings) and for a
    shard in a Ray actor (everything read-only); numba compiles each of these separately (~5 s each
    the first time on a machine)."""
    if not AVAILABLE:
        return
    indptr = np.array([0, 2], dtype=np.int64)
    bptr = np.array([0, 1], dtype=np.int64)
    first, last, at, width, words = encode_postings(
        indptr, np.array([0, 1], dtype=np.int32), np.array([1, 2], dtype=np.uint16)
    )
    built = (indptr, bptr, first, last, at, width, words)
    ro = _readonly(indptr, first, last, at, width, words)
    loaded = (ro[0], bptr, ro[1], ro[2], ro[3], ro[4], ro[5])  # bptr is computed at load
    norm = np.ones(2)
    flags = np.zeros(2, dtype=np.bool_)
    for pk, (norms, marks) in (
        (built, (norm, flags)),
        (loaded, (norm, flags)),
        (_readonly(*built), _readonly(norm, flags)),
    ):
        p = (pk[0], pk[1], pk[2], pk[3], pk[4], pk[5], pk[6])
        top_in_segment(
            *p, 0, norms, marks, marks, False, np.zeros((0, 2), np.int64), False, np.zeros(1, np.int64),
            np.ones(1), np.ones(1), 1.5, 1, np.full(1, -np.inf), np.zeros(2), flags.copy(), np.full(1, -1.0),
        )  # fmt: skip
        holding(*p, np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros((1, 1), np.bool_))
        term_maxima(*p, 0, norms, 1.5, np.full(1, -1.0), 0, 1)
        decode_postings(*p, 0, 1)
    postings_of(np.zeros(1, np.int32), np.zeros(1, np.int32), 1, 0)


def _readonly(*arrays: Any) -> Any:
    """Read-only copies (as a memory-mapped file or Ray's object store gives them)."""
    out = []
    for a in arrays:
        copy = a.copy()
        copy.setflags(write=False)
        out.append(copy)
    return tuple(out)
