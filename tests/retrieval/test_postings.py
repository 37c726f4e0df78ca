"""Postings packed in blocks (``retrieval.postings``): what goes in comes out, the compiled and the numpy
ways write the same words, and a garbled block is refused where it is read."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from retrieval import kernels
from retrieval.postings import ARRAYS, BLOCK, Postings


def _lists(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Term-major postings with the awkward cases: empty terms, one posting, exactly a block, a block and
    one, gaps up to 2**31, frequencies of 1, 2, 255 and 65,535."""
    rng = np.random.default_rng(seed)
    df = [0, 1, BLOCK, BLOCK + 1, 3 * BLOCK - 1, 0, 2, 700]
    df += rng.integers(0, 400, 20).tolist()
    docs = []
    for i, n in enumerate(df):
        factor = (1, 2, 10, None)[i % 4]  # dense, sparse, sparser, anywhere below 2**31
        span = 2**31 - 1 if factor is None else max(n * factor, 1)
        docs.append(np.sort(rng.choice(span, size=n, replace=False)))
    docs[3][-1] = 2**31 - 1  # the largest document number a posting can hold
    all_docs = np.concatenate(docs).astype(np.int32)
    tf = rng.choice([1, 1, 1, 2, 255, 65_535], size=all_docs.shape[0]).astype(np.uint16)
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    return indptr, all_docs, tf


@pytest.mark.parametrize("seed", range(5))
def test_packed_postings_decode_to_what_was_packed_on_both_paths(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    indptr, docs, tf = _lists(seed)
    ways = [True, False] if kernels.AVAILABLE else [False]
    packed = {}
    for compiled in ways:
        monkeypatch.setattr(kernels, "AVAILABLE", compiled)
        packed[compiled] = Postings.encode(indptr, docs, tf)
        assert packed[compiled].consistent()
    if len(packed) == 2:  # the same words, whichever way packed them
        for name in ARRAYS:
            np.testing.assert_array_equal(getattr(packed[True], name), getattr(packed[False], name))
            assert getattr(packed[True], name).dtype == getattr(packed[False], name).dtype
    p = packed[False]
    assert p.nbytes < (docs.nbytes + tf.nbytes) * 0.8
    for compiled in ways:
        monkeypatch.setattr(kernels, "AVAILABLE", compiled)
        got_docs, got_tf = p.decode()
        np.testing.assert_array_equal(got_docs, docs)
        np.testing.assert_array_equal(got_tf, tf)
        for t in range(p.n_terms):
            d, f = p.term(t)
            np.testing.assert_array_equal(d, docs[indptr[t] : indptr[t + 1]])
            np.testing.assert_array_equal(f, tf[indptr[t] : indptr[t + 1]])
        d, _ = p.decode(3, 9)
        np.testing.assert_array_equal(d, docs[indptr[3] : indptr[9]])


def test_postings_packed_in_parts_and_joined_equal_those_packed_whole() -> None:
    indptr, docs, tf = _lists(9)
    whole = Postings.encode(indptr, docs, tf)
    cuts = [0, 1, 4, 4, 11, whole.n_terms]
    parts = [
        Postings.encode(indptr[a : b + 1] - indptr[a], docs[indptr[a] : indptr[b]], tf[indptr[a] : indptr[b]])
        for a, b in itertools.pairwise(cuts)
    ]
    joined = Postings.concat(parts)
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(joined, name), getattr(whole, name))
    assert [hi for _, hi in whole.chunks(500)][-1] == whole.n_terms
    assert all(lo < hi for lo, hi in whole.chunks(1))


def test_postings_out_of_order_are_refused() -> None:
    if not kernels.AVAILABLE:
        pytest.skip("numba is not available here")
    with pytest.raises(ValueError, match="ascending"):
        Postings.encode(np.array([0, 2]), np.array([5, 5], np.int32), np.array([1, 1], np.uint16))


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy"])
def test_a_block_that_does_not_fit_its_words_raises_index_error(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Garbled widths, offsets or block ends are an IndexError where read (the index is then rebuilt),
    never a read outside the arrays or wrong documents."""
    if compiled and not kernels.AVAILABLE:
        pytest.skip("numba is not available here")
    monkeypatch.setattr(kernels, "AVAILABLE", compiled)
    indptr, docs, tf = _lists(2)
    p = Postings.encode(indptr, docs, tf)
    width = p.width.copy()
    width[:, 0] = 31
    with pytest.raises(IndexError):
        Postings(p.indptr, p.first, p.last, p.at, width, p.bits).decode()
    at = p.at.copy()
    at[-1] += 1000
    with pytest.raises(IndexError):
        Postings(p.indptr, p.first, p.last, at, p.width, p.bits).decode()
    last = p.last.copy()
    last[len(last) // 2] += 1
    with pytest.raises(IndexError):
        Postings(p.indptr, p.first, last, p.at, p.width, p.bits).decode()
