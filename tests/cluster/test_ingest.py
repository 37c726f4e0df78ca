"""Bulk ingestion on the cluster: the store and the index end exactly as a single-process ingest leaves them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.config import load_settings
from bot.service import NewsService
from corpus import Store
from retrieval import doctokens
from retrieval.cluster import Cluster
from retrieval.index import SearchIndex
from tests.conftest import CMRC, SAMPLE_PAGE, run_cli


def _contents(db: Path) -> tuple[list[Any], list[Any]]:
    with Store(db) as store:
        articles = [
            (a.id, a.external_id, a.headline, a.date, [p.text for p in a.paragraphs])
            for a in store.articles(limit=10_000)
        ]
        return articles, list(store.iter_index_rows(0))


def _index(db: Path) -> SearchIndex:
    service = NewsService.open(load_settings(env={}, db=str(db)), seed=False)
    index = service.searcher.index
    service.close()
    return index


def test_ingest_on_the_cluster_equals_the_single_process_ingest(
    ray_cluster: Any,
    tmp_path: Path,
    small_corpus_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(doctokens, "CHUNK", 37)  # many chunks from a small corpus: their order matters
    chunks: list[int] = []
    analyse = Cluster.analyse_chunks

    def counting(self: Cluster, doc_tokens: Any, pieces: Any) -> Any:
        chunks.append(0)

        def counted() -> Any:
            for piece in pieces:
                chunks[-1] += 1
                yield piece

        return analyse(self, doc_tokens, counted())

    monkeypatch.setattr(Cluster, "analyse_chunks", counting)
    inputs = [str(SAMPLE_PAGE), str(CMRC / "corpus.jsonl"), str(small_corpus_file)]
    single, cluster = tmp_path / "single.db", tmp_path / "cluster.db"
    assert run_cli(capsys, "--db", str(single), "ingest", *inputs)[0] == 0
    assert not chunks
    assert run_cli(capsys, "--db", str(cluster), "--ray", "local", "ingest", *inputs)[0] == 0
    assert sum(chunks) > 5  # the segmentation went to Ray tasks, in many chunks

    assert _contents(cluster) == _contents(single)
    a, b = _index(single), _index(cluster)  # loaded from the files each ingest saved
    assert b.n_terms == a.n_terms > 1000
    for x, y in zip(a.vocab.owned(0, a.n_terms), b.vocab.owned(0, b.n_terms), strict=True):
        assert list(x) == list(y)
    assert b.paragraph_id.tolist() == a.paragraph_id.tolist()
    assert len(a.bm25.segments) == len(b.bm25.segments)
    for s, t in zip(a.bm25.segments, b.bm25.segments, strict=True):
        np.testing.assert_array_equal(t.doc_len, s.doc_len)
        for name, array in s.packed.arrays().items():
            np.testing.assert_array_equal(getattr(t.packed, name), array)


def test_an_index_build_reports_its_phases_as_the_bulk_benchmark_reads_them(
    store: Store, small_corpus_file: Path, tmp_path: Path
) -> None:
    """``python -m bench cluster --parts bulk`` splits a build's time from the index's debug record; the
    record once lost two of its figures and the benchmark stopped with a ValueError."""
    from bench.cluster import _BuildPhases, _in_process
    from corpus import ingest_paths
    from retrieval.index import IndexManager
    from retrieval.tokenize import Tokenizer, default_userdict
    from tests.conftest import NOW

    ingest_paths(store, [small_corpus_file], now=NOW)
    manager = IndexManager(tmp_path / "index", Tokenizer(default_userdict()), chunk_map=_in_process)
    with _BuildPhases() as phases:
        index = manager.open(store)
    assert index.n_paragraphs > 0
    assert phases.terms > 0 and phases.postings > 0 and 0 < phases.mapping <= phases.terms
