"""Sharded serving: the shards' merged top 10 is the single index's, and a dead shard costs one partial
answer, never an exception."""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.config import load_settings
from bot.service import NewsService
from corpus import Store, ingest_paths
from retrieval.cluster import Cluster
from retrieval.index import SearchIndex
from retrieval.search import Searcher
from retrieval.tokenize import Tokenizer
from tests.conftest import CMRC, NOW, SAMPLE_PAGE, SEEDS, run_cli


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cmrc2018 excerpt and the sample page in one database."""
    folder = tmp_path_factory.mktemp("shards")
    with Store(folder / "s.db") as store:
        ingest_paths(store, [SAMPLE_PAGE, CMRC / "corpus.jsonl"], now=NOW)
    return folder / "s.db"


@pytest.fixture(scope="module")
def single(corpus_db: Path, tok: Tokenizer) -> Iterator[SearchIndex]:
    with Store(corpus_db) as store:
        yield Searcher.open(store, None, tokenizer=tok).index


def _queries(index: SearchIndex, tok: Tokenizer) -> list[list[int]]:
    lines = (CMRC / "queries.jsonl").read_text(encoding="utf-8").splitlines()[::10]
    questions = [json.loads(line)["question"] for line in lines] + [s["question"] for s in SEEDS]
    return [index.term_ids(tok.query_terms(q)) for q in questions]


@pytest.mark.parametrize(("shards", "actors", "held"), [(2, None, 2), (4, None, 2), (4, 4, 4)])
def test_shards_give_the_single_indexs_top10_ids_and_scores(
    ray_cluster: Any, single: SearchIndex, tok: Tokenizer, shards: int, actors: int | None, held: int
) -> None:
    """Every shard scores with the whole collection's statistics: the merged top 10 is the single index's,
    bit for bit, whether each actor holds one shard or several (by default no more actors than CPUs: 2)."""
    cluster = Cluster.connect("local", shards=shards, deadline=30, actors=actors)
    gone = list(range(3, single.bm25.n_docs, 29))  # replaced articles leave deleted paragraphs behind
    for index in (single, dataclasses.replace(single, bm25=single.bm25.delete(gone))):
        sharded = cluster.serve(index)
        assert len(cluster.actors) == held
        allowed = np.random.default_rng(shards).random(index.bm25.n_docs) < 0.5  # a date/source filter
        n = index.bm25.n_docs
        ranges = np.array([[n // 10, n // 3], [n // 2, n // 2 + 40], [n - 50, n]])  # a period's stretches
        compared = 0
        for ids in _queries(index, tok):
            for mask, within in ((None, None), (allowed, None), (None, ranges), (allowed, ranges)):
                want = index.bm25.top(ids, 10, mask, ranges=within)
                got = sharded.bm25.top(ids, 10, mask, ranges=within)
                assert got.docs.tolist() == want.docs.tolist()
                # Bit for bit, not just within 1e-9: shards add each document's terms in the single
                # index's order, so near-ties break the same way (on cmrc2018-train they did not before).
                assert got.scores.tolist() == want.scores.tolist()
                compared += want.docs.shape[0]
            weights = [1.0] * (len(ids) - 1) + [0.5]  # a question's weighted words go to the shards too
            want, got = index.bm25.top(ids, 10, weights=weights), sharded.bm25.top(ids, 10, weights=weights)
            assert got.docs.tolist() == want.docs.tolist()
            assert got.scores.tolist() == want.scores.tolist()
            docs, scores = sharded.bm25.score_docs(ids, weights)
            want_docs, want_scores = index.bm25.score_docs(ids, weights)
            assert docs.tolist() == want_docs.tolist()
            np.testing.assert_allclose(scores, want_scores, rtol=1e-9, atol=0)
        assert compared > 2000
    assert cluster.stats["partial_searches"] == 0
    cluster.close()
    assert not cluster.actors


def test_answers_through_the_cluster_are_the_single_machines(ray_cluster: Any, corpus_db: Path) -> None:
    """The service switched on by NEWSBOT_RAY_ADDRESS answers as the default one does."""
    plain = NewsService.open(load_settings(env={}, db=str(corpus_db)), seed=False)
    sharded = NewsService.open(
        load_settings(env={"NEWSBOT_RAY_ADDRESS": "local", "NEWSBOT_RAY_SHARDS": "3"}, db=str(corpus_db)),
        seed=False,
    )
    try:
        for seed in SEEDS[:8]:
            want = plain.ask(seed["question"])
            got = sharded.ask(seed["question"])
            assert [p.quote for p in got.page(0)] == [p.quote for p in want.page(0)]
        stats = sharded.stats()
        assert stats["shards"] == 3
        assert stats["sharded_searches"] >= 8
        assert stats["partial_searches"] == 0
        assert "partial_searches" not in plain.stats()
    finally:
        plain.close()
        sharded.close()


def test_a_killed_shard_gives_partial_answers_counted_then_answers_resume(
    ray_cluster: Any, single: SearchIndex, tok: Tokenizer
) -> None:
    cluster = Cluster.connect("local", shards=4, deadline=2)
    sharded = cluster.serve(single)
    queries = _queries(single, tok)
    victim = 1
    held = sharded.bm25.shards.groups[victim]
    assert len(held) == 2  # two CPUs: two actors of two shards each
    others = np.ones(single.bm25.n_docs, dtype=np.bool_)
    for shard in held:
        lo, hi = sharded.bm25.shards.bounds[shard]
        others[lo:hi] = False
    ray_cluster.kill(cluster.actors[victim], no_restart=False)  # as if its process died
    partial, whole, started = 0, 0, time.monotonic()
    for step in itertools.count():
        ids = queries[step % len(queries)]
        before = cluster.stats["partial_searches"]
        got = sharded.bm25.top(ids, 10)  # never raises
        if cluster.stats["partial_searches"] > before:
            partial += 1
            # a partial answer is the other shards' best, with the scores of the whole collection
            want = single.bm25.top(ids, 10, others)
        else:
            whole += 1
            want = single.bm25.top(ids, 10)
        assert got.docs.tolist() == want.docs.tolist()
        np.testing.assert_allclose(got.scores, want.scores, rtol=1e-9, atol=0)
        if partial and whole >= 20:
            break
        assert time.monotonic() - started < 60, "the killed shard did not come back within a minute"
    assert partial >= 1
    assert cluster.stats["partial_searches"] == partial
    cluster.close()


def test_without_ray_the_cli_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    small_corpus_file: Path,
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as where the extra is not installed
    code, _, err = run_cli(
        capsys, "--db", str(tmp_path / "n.db"), "--ray", "local", "ingest", str(small_corpus_file)
    )
    assert code == 1
    assert err.strip().splitlines() == [
        "newsbot: NEWSBOT_RAY_ADDRESS is set but Ray is not installed: pip install 'newsbot[cluster]'"
    ]
    code, _, err = run_cli(capsys, "--db", str(tmp_path / "n.db"), "ingest", str(small_corpus_file))
    assert code == 0  # the default needs no Ray
