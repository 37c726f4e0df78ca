"""Differential test: our BM25 scores equal rank_bm25's on the same token lists (relative 1e-9)."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rank_bm25

from corpus import parse_page
from retrieval.bm25 import BM25Index, BM25Params, build_segment
from retrieval.tokenize import Tokenizer
from tests.conftest import CMRC, SAMPLE_PAGE, SEEDS

REFERENCE = {"okapi": rank_bm25.BM25Okapi, "l": rank_bm25.BM25L, "plus": rank_bm25.BM25Plus}


def _sample(tok: Tokenizer) -> tuple[list[list[str]], list[list[str]]]:
    articles = parse_page(SAMPLE_PAGE.read_text(encoding="utf-8"))
    docs = [tok.tokens(p.text) + tok.tokens(a.headline) * 2 for a in articles for p in a.paragraphs]
    questions = [s["question"] for s in SEEDS]
    return docs, [tok.query_terms(q) for q in questions]


def _cmrc(tok: Tokenizer) -> tuple[list[list[str]], list[list[str]]]:
    with (CMRC / "corpus.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    docs = [tok.tokens(r["text"]) + tok.tokens(r["title"]) * 2 for r in rows]
    with (CMRC / "queries.jsonl").open(encoding="utf-8") as f:
        questions = [json.loads(line)["question"] for line in f][::11]  # 101 questions across the excerpt
    # rank_bm25 takes the query with repeats; keep one repeated term to cover that case too.
    queries = [tok.query_terms(q) for q in questions]
    queries[0] = queries[0] + queries[0][:1]
    return docs, queries


def _index(docs: Sequence[Sequence[str]], variant: str, split: int) -> tuple[BM25Index, dict[str, int]]:
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in d] for d in docs]
    # Two segments, so the sums across segments are exercised as in an updated index.
    index = BM25Index.create(BM25Params(variant), [build_segment(0, ids[:split])], len(vocab))
    return index.add(ids[split:], len(vocab)), vocab


@pytest.fixture(scope="module")
def corpora(tok: Tokenizer) -> dict[str, tuple[list[list[str]], list[list[str]], list[set[str]]]]:
    out = {}
    for name, make in (("sample", _sample), ("cmrc", _cmrc)):
        docs, queries = make(tok)
        out[name] = (docs, queries, [set(d) for d in docs])
    return out


@pytest.mark.parametrize("variant", ["okapi", "l", "plus"])
@pytest.mark.parametrize("corpus", ["sample", "cmrc"])
def test_scores_equal_rank_bm25(
    corpora: dict[str, tuple[list[list[str]], list[list[str]], list[set[str]]]], variant: str, corpus: str
) -> None:
    docs, queries, doc_sets = corpora[corpus]
    reference = REFERENCE[variant](docs)
    index, vocab = _index(docs, variant, len(docs) // 3)
    compared = 0
    for query in queries:
        expected = reference.get_scores(query)
        ids = [vocab.get(t, -1) for t in query]
        docs_hit, scores = index.score_docs(ids)
        holding = [i for i, d in enumerate(doc_sets) if d & set(query)]
        assert sorted(docs_hit.tolist()) == holding  # every paragraph with a query term, and only those
        np.testing.assert_allclose(scores, expected[docs_hit], rtol=1e-9, atol=0)
        top = index.top(ids, 10)
        order = sorted(holding, key=lambda i: (-expected[i], i))[:10]
        np.testing.assert_allclose(top.scores, expected[order], rtol=1e-9, atol=0)
        assert set(top.docs.tolist()) == set(order) or np.allclose(
            np.sort(top.scores), np.sort(expected[order])
        )
        compared += len(holding)
    assert compared > len(queries)


def test_deleting_documents_equals_rank_bm25_without_them(
    corpora: dict[str, tuple[list[list[str]], list[list[str]], list[set[str]]]],
) -> None:
    docs, queries, _ = corpora["sample"]
    index, vocab = _index(docs, "okapi", 20)
    gone = [0, 3, 25, 40]
    index = index.delete(gone)
    kept = [i for i in range(len(docs)) if i not in gone]
    reference = rank_bm25.BM25Okapi([docs[i] for i in kept])
    for query in queries:
        expected = reference.get_scores(query)
        docs_hit, scores = index.score_docs([vocab.get(t, -1) for t in query])
        assert not set(docs_hit.tolist()) & set(gone)
        np.testing.assert_allclose(scores, expected[[kept.index(d) for d in docs_hit]], rtol=1e-9)
    compacted, renumber = index.compacted()
    for query in queries:
        a = index.top([vocab.get(t, -1) for t in query], 5)
        b = compacted.top([vocab.get(t, -1) for t in query], 5)
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-12)
        assert renumber[a.docs].tolist() == b.docs.tolist()


@pytest.mark.parametrize("variant", ["okapi", "plus"])
def test_weights_scale_each_terms_share_and_ones_change_nothing(
    corpora: dict[str, tuple[list[list[str]], list[list[str]], list[set[str]]]], variant: str
) -> None:
    docs, queries, _ = corpora["cmrc"]
    reference = REFERENCE[variant](docs)
    index, vocab = _index(docs, variant, len(docs) // 3)
    for query in queries[:30]:
        ids = [vocab.get(t, -1) for t in query]
        plain = index.top(ids, 10)
        ones = index.top(ids, 10, weights=[1.0] * len(ids))
        assert ones.docs.tolist() == plain.docs.tolist() and ones.scores.tolist() == plain.scores.tolist()
        if len(query) < 2:
            continue
        # The last term at half weight: every document's score loses half of that term's part.
        weights = [1.0] * (len(ids) - 1) + [0.5]
        docs_hit, scores = index.score_docs(ids, weights)
        whole = reference.get_scores(query)
        last = reference.get_scores(query[-1:])  # with BM25+'s floor for the term, which is weighted too
        np.testing.assert_allclose(scores, (whole - 0.5 * last)[docs_hit], rtol=1e-9, atol=1e-12)
        top = index.top(ids, 10, weights=weights)  # MaxScore pruning with weighted bounds
        order = np.argsort(-(whole - 0.5 * last)[docs_hit], kind="stable")[:10]
        np.testing.assert_allclose(np.sort(top.scores), np.sort(scores[order]), rtol=1e-9)


def test_terms_nobody_has_score_nothing_and_top_is_empty() -> None:
    index = BM25Index.create(BM25Params(), [build_segment(0, [[0, 1], [1, 2]])], 3)
    assert index.top([-1, 7], 5).docs.tolist() == []
    assert index.top([], 5).docs.tolist() == []


def test_okapi_idf_floor_for_common_terms() -> None:
    # A term in more than half the documents gets epsilon * average idf, as in rank_bm25.
    docs = [["a", "b"], ["a", "c"], ["a", "d"], ["e"]]
    reference = rank_bm25.BM25Okapi(docs)
    index, vocab = _index(docs, "okapi", 2)
    assert index.idf(vocab["a"]) == pytest.approx(reference.idf["a"], rel=1e-12)


def test_the_built_index_scores_like_rank_bm25_on_each_paragraphs_tokens(
    tmp_path: Path, tok: Tokenizer
) -> None:
    """End to end: rows analysed in chunks (titles once per chunk, ids from the vocabulary) give every
    paragraph exactly the bag of tokens DocumentTokenizer.tokens() names, so scores are rank_bm25's."""
    from corpus import Store, ingest_paths
    from retrieval.doctokens import DocumentTokenizer
    from retrieval.search import Searcher

    store = Store(tmp_path / "e.db")
    lines = (CMRC / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    feed = tmp_path / "c.jsonl"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest_paths(store, [SAMPLE_PAGE, feed], now="2023-08-21T00:00:00+00:00")
    index = Searcher.open(store, None, tokenizer=tok).index
    rows = list(store.iter_index_rows(0))
    reference = rank_bm25.BM25Okapi([DocumentTokenizer(tok, 2).tokens(r) for r in rows])
    questions = [
        json.loads(q)["question"]
        for q in (CMRC / "queries.jsonl").read_text(encoding="utf-8").splitlines()[:600:20]
    ]
    questions += [s["question"] for s in SEEDS]
    for question in questions:
        terms = tok.query_terms(question)
        expected = reference.get_scores(terms)
        docs, scores = index.bm25.score_docs(index.term_ids(terms))
        np.testing.assert_allclose(scores, expected[docs], rtol=1e-9)
        assert np.count_nonzero(expected) == docs.shape[0]
    store.close()


@pytest.fixture(params=["numba", "numba-halves", "numpy"])
def compiled(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    """Each test run through the compiled kernels, through them with every stretch of a segment searched in
    two halves at once (as a segment of a million paragraphs is), and through the numpy way taken where
    numba is missing."""
    from retrieval import bm25, kernels

    if request.param != "numpy" and not kernels.AVAILABLE:
        pytest.skip("numba is not available here")
    monkeypatch.setattr(kernels, "AVAILABLE", request.param != "numpy")
    split = []
    if request.param == "numba-halves":
        if bm25._helper() is None:
            pytest.skip("one core: no helper thread")
        halves = bm25._halves
        monkeypatch.setattr(bm25, "_PARALLEL_DOCS", 2)
        monkeypatch.setattr(bm25, "_halves", lambda *a: split.append(halves(*a)) or split[-1])
    yield request.param != "numpy"
    if split:  # a test that searched: the halves were, not the whole
        assert any(h is not None for h in split)


@pytest.mark.parametrize("variant", ["okapi", "plus"])
def test_top_k_with_filters_and_deletions_is_rank_bm25s_on_both_paths(
    corpora: dict[str, tuple[list[list[str]], list[list[str]], list[set[str]]]],
    variant: str,
    compiled: bool,
) -> None:
    """The pruned top-k (compiled kernel, or numpy where numba is missing) is the head of rank_bm25's
    full ranking, for every k, under a date/source mask, within document ranges (a period's days), both,
    and with deleted paragraphs."""
    docs, queries, doc_sets = corpora["cmrc"]
    gone = list(range(5, len(docs), 17))
    index, vocab = _index(docs, variant, len(docs) // 3)
    index = index.delete(gone)
    kept = [i for i in range(len(docs)) if i not in set(gone)]
    reference = REFERENCE[variant]([docs[i] for i in kept])
    allowed = np.random.default_rng(7).random(len(docs)) < 0.5
    n = len(docs)
    # stretches across the segments' borders, one a single document, one ending at the last
    ranges = np.array([[3, n // 3 + 5], [n // 2, n // 2 + 1], [2 * n // 3 - 4, n]], dtype=np.int64)
    inside = np.zeros(n, dtype=np.bool_)
    for start, stop in ranges:
        inside[start:stop] = True
    checked = 0
    for query in queries:
        ids = [vocab.get(t, -1) for t in query]
        full = np.full(len(docs), -np.inf)
        full[kept] = reference.get_scores(query)
        for k in (1, 3, 10, 40):
            for mask, within in ((None, None), (allowed, None), (None, ranges), (allowed, ranges)):
                live = [
                    i
                    for i in kept
                    if doc_sets[i] & set(query)
                    and (mask is None or mask[i])
                    and (within is None or inside[i])
                ]
                expected = sorted(live, key=lambda i: (-full[i], i))[:k]
                top = index.top(ids, k, mask, ranges=within)
                np.testing.assert_allclose(top.scores, full[expected], rtol=1e-9, atol=0)
                # the same documents, up to ties at rounding level at the k-th place
                differ = set(top.docs.tolist()) ^ set(expected)
                assert all(abs(full[d] - full[expected[-1]]) <= 1e-9 * abs(full[d]) for d in differ)
                checked += len(expected)
    assert checked > 1000


def test_a_floor_the_kth_best_reaches_changes_nothing_and_a_higher_one_keeps_what_reaches_it(
    corpora: dict[str, tuple[list[list[str]], list[list[str]], list[set[str]]]],
    compiled: bool,
) -> None:
    """``top(..., floor=)``: with the k-th best score as the floor the top k is the same, documents and
    scores; with a floor above it, every document of the top k that reaches the floor is still there."""
    docs, queries, _ = corpora["cmrc"]
    index, vocab = _index(docs, "okapi", len(docs) // 3)
    checked = 0
    for query in queries:
        ids = [vocab.get(t, -1) for t in query]
        for k in (1, 3, 10, 40):
            top = index.top(ids, k)
            if top.docs.shape[0] < k:
                continue
            same = index.top(ids, k, floor=float(top.scores[-1]))
            assert same.docs.tolist() == top.docs.tolist() and same.scores.tolist() == top.scores.tolist()
            higher = float(top.scores[0] + top.scores[-1]) / 2
            above = index.top(ids, k, floor=higher)
            reached = top.scores >= higher
            assert set(above.docs[above.scores >= higher].tolist()) == set(top.docs[reached].tolist())
            checked += 1
    assert checked > 300


def test_questions_asked_at_once_from_several_threads_get_each_their_own_top_k(
    corpora: dict[str, tuple[list[list[str]], list[list[str]], list[set[str]]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bot answers questions in threads; each question's search (its halves on the helper thread when
    free, in the asking thread when not) gives what it gives alone."""
    from retrieval import bm25, kernels

    if not kernels.AVAILABLE:
        pytest.skip("numba is not available here")
    monkeypatch.setattr(bm25, "_PARALLEL_DOCS", 2)
    docs, queries, _ = corpora["cmrc"]
    index, vocab = _index(docs, "okapi", len(docs) // 3)
    asked = [[vocab.get(t, -1) for t in q] for q in queries] * 3
    alone = [index.top(ids, 10, parallel=False) for ids in asked]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(lambda ids: index.top(ids, 10), asked))
    for a, b in zip(alone, together, strict=True):
        assert a.docs.tolist() == b.docs.tolist() and a.scores.tolist() == b.scores.tolist()


def _top_in_child(index: BM25Index, ids: list[int], out: Any) -> None:
    out.put(index.top(ids, 10).docs.tolist())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_process_forked_after_questions_still_searches_in_halves(
    corpora: dict[str, tuple[list[list[str]], list[list[str]], list[set[str]]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker forked from a process that has been answering questions (its helper thread is not in the
    child) searches and answers rather than waiting forever for that thread."""
    from retrieval import bm25, kernels

    if not kernels.AVAILABLE or bm25._helper() is None:
        pytest.skip("needs numba and a second core")
    monkeypatch.setattr(bm25, "_PARALLEL_DOCS", 2)
    docs, queries, _ = corpora["cmrc"]
    index, vocab = _index(docs, "okapi", len(docs) // 3)
    ids = [vocab.get(t, -1) for t in queries[1]]
    expected = index.top(ids, 10).docs.tolist()  # the helper thread is running now
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_top_in_child, args=(index, ids, out))
    child.start()
    try:
        assert out.get(timeout=60) == expected
    finally:
        child.join(10)
        child.kill()


def test_bounds_found_ahead_are_those_a_search_finds_and_change_no_ranking(
    corpora: dict[str, tuple[list[list[str]], list[list[str]], list[set[str]]]],
) -> None:
    """``find_bounds`` (a large snapshot's, on a thread once it is served) fills in every term's bound with the
    value a search would have found on first use; rankings are the same to the bit; a stopped one stops."""
    from retrieval import kernels

    if not kernels.AVAILABLE:
        pytest.skip("numba is not available here")
    docs, queries, _ = corpora["cmrc"]
    ahead, vocab = _index(docs, "okapi", len(docs) // 3)
    on_use, _ = _index(docs, "okapi", len(docs) // 3)
    stopped, _ = _index(docs, "okapi", len(docs) // 3)
    halt = threading.Event()
    halt.set()
    stopped.find_bounds(halt)
    ahead.find_bounds()
    asked = [[vocab.get(t, -1) for t in q] for q in queries]
    for ids in asked:
        a, b = ahead.top(ids, 10), on_use.top(ids, 10)
        assert a.docs.tolist() == b.docs.tolist() and a.scores.tolist() == b.scores.tolist()
    for n, seg in enumerate(ahead.segments):
        found, used = ahead._term_max(n), on_use._term_max(n)
        held = np.diff(seg.indptr) > 0
        assert (found[held] >= 0).all() and (found[~held] < 0).all()  # every term with postings, once
        assert (used[used >= 0] == found[used >= 0]).all() and (used >= 0).sum() < held.sum()
        assert (found[held] == ahead._full_term_max(seg)[held]).all()
        assert (stopped._term_max(n) < 0).all()


def test_the_terms_each_hit_holds_are_read_from_every_segment(
    corpora: dict[str, tuple[list[list[str]], list[list[str]], list[set[str]]]],
    compiled: bool,
) -> None:
    """``holding`` (the words a source line shows as matched) says which query terms each hit holds, for
    hits in any order across segments, a term repeated, and terms the index does not know."""
    docs, queries, doc_sets = corpora["cmrc"]
    index, vocab = _index(docs, "okapi", len(docs) // 3)
    rng = np.random.default_rng(3)
    held_somewhere = 0
    for query in queries[:200]:
        query = [*query, query[0], "不在词表里的词"]
        hits = rng.choice(len(docs), size=12, replace=False)  # any order, both segments
        held = index.holding([vocab.get(t, -1) for t in query], hits)
        expected = np.array([[t in doc_sets[d] for d in hits] for t in query])
        np.testing.assert_array_equal(held, expected)
        held_somewhere += int(expected.sum())
    assert held_somewhere > 100
    assert index.holding([], np.array([4, 1])).shape == (0, 2)
    assert index.holding([vocab[queries[0][0]]], np.zeros(0, np.int64)).shape == (1, 0)


def test_postings_are_the_same_built_compiled_or_by_sorting(
    corpora: dict[str, tuple[list[list[str]], list[list[str]], list[set[str]]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch's postings built by the compiled counting sorts equal those of sorting every occurrence's
    key (numpy, where numba is missing): occurrences in any order, a term repeated past 65,535 in one
    paragraph counted 65,535 times."""
    from retrieval import bm25, kernels

    if not kernels.AVAILABLE:
        pytest.skip("numba is not available here")
    docs, _, _ = corpora["cmrc"]
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in d] for d in docs] + [[3] * 70_000 + [5]]
    lengths = np.array([len(d) for d in ids], dtype=np.int64)
    terms = np.array([t for d in ids for t in d], dtype=np.int32)
    rows = np.repeat(np.arange(len(ids), dtype=np.int32), lengths)
    shuffled = np.random.default_rng(5).permutation(terms.shape[0])
    terms, rows = terms[shuffled], rows[shuffled]
    compiled = bm25.segment_from_pairs(100, terms, rows, lengths)
    monkeypatch.setattr(kernels, "AVAILABLE", False)
    sorted_ = bm25.segment_from_pairs(100, terms, rows, lengths)
    np.testing.assert_array_equal(compiled.doc_len, sorted_.doc_len)
    for name, array in compiled.packed.arrays().items():  # packed by the compiled and the numpy way
        np.testing.assert_array_equal(array, getattr(sorted_.packed, name))
        assert array.dtype == getattr(sorted_.packed, name).dtype
    last = 100 + len(ids) - 1
    posting, tf = compiled.postings(3)
    assert posting[-1] == last and tf[-1] == 65_535


@pytest.mark.parametrize("chunk", [1 << 22, 7])
def test_merged_segments_hold_exactly_the_postings_of_one_built_whole(
    corpora: dict[str, tuple[list[list[str]], list[list[str]], list[set[str]]]],
    chunk: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bulk build's segments merged into one (a range of terms at a time, however small the range) are
    the segment a single build of every document gives: same term ranges, documents and frequencies."""
    from retrieval import bm25

    monkeypatch.setattr(bm25, "_MERGE_CHUNK", chunk)
    docs, _, _ = corpora["cmrc"]
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in d] for d in docs]
    n = len(ids)
    # uneven parts, one of a single document; later ones know more terms
    cuts = [0, n // 4, n // 4 + 1, 3 * n // 4, n]
    parts = [build_segment(lo, ids[lo:hi]) for lo, hi in pairwise(cuts)]
    assert len({p.n_terms for p in parts}) > 1 and all(p.n_docs for p in parts)
    merged = bm25.merge_segments(parts)
    whole = build_segment(0, ids)
    assert merged.first_doc == 0
    for name, array in merged.packed.arrays().items():
        np.testing.assert_array_equal(array, getattr(whole.packed, name))
    np.testing.assert_array_equal(merged.doc_len, whole.doc_len)
