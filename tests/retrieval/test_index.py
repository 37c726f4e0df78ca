"""The persisted index: build, reload, incremental updates, deletions, corruption, filters."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from corpus import Store, ingest_file, ingest_paths
from retrieval.index import IndexManager
from retrieval.question import parse_question
from retrieval.search import Filters, Searcher, SearchResult
from retrieval.tokenize import Tokenizer
from tests.conftest import NOW, SAMPLE_PAGE, SMALL_CORPUS


def index_dir(store: Store) -> Path:
    return Path(store.path + ".index")


def open_searcher(store: Store, tok: Tokenizer) -> Searcher:
    return Searcher.open(store, index_dir(store), tokenizer=tok)


def find(searcher: Searcher, question: str, k: int, **filters: Any) -> SearchResult:
    """Search as the bot does: the question parsed once, then ranked (``filters``: those of ``Filters``)."""
    question_ = parse_question(question, searcher.tokenizer, dt.date(2023, 8, 21))
    return searcher.search(question_, k, filters=Filters(**filters))


def results(searcher: Searcher, question: str, k: int = 5) -> list[tuple[int, float]]:
    return [(h.paragraph.id, round(h.score, 9)) for h in find(searcher, question, k).hits]


QUESTIONS = ["象州县投入多少钱加强实体平台建设", "大安山乡中心幼儿园的园长", "上海地铁票价", "志愿者 亚运会"]


def test_answers_come_from_the_right_paragraph(store: Store, tok: Tokenizer) -> None:
    ingest_paths(store, [SAMPLE_PAGE], now=NOW)
    hit = find(open_searcher(store, tok), "象州县投入多少钱加强实体平台建设?", 3).hits[0]
    assert "680万元" in hit.paragraph.text
    assert hit.article.headline == "广西象州县“三融合”加强工会建设"
    assert {"象州县", "实体", "平台"} <= set(hit.matched)


def test_a_saved_index_is_reused_and_gives_the_same_results(
    store: Store, tok: Tokenizer, small_corpus_file: Path
) -> None:
    ingest_paths(store, [SAMPLE_PAGE, small_corpus_file], now=NOW)
    first = open_searcher(store, tok)
    manifest = json.loads((index_dir(store) / "manifest.json").read_text())
    assert manifest["generation"] == store.state().generation and manifest["paragraphs"] == 67
    again = open_searcher(store, tok)
    assert again.index.saved == first.index.saved  # loaded, not rebuilt
    for q in QUESTIONS:
        assert results(again, q) == results(first, q)


def test_new_articles_update_the_index_like_a_fresh_build(
    store: Store, tok: Tokenizer, small_corpus_file: Path
) -> None:
    ingest_paths(store, [SAMPLE_PAGE], now=NOW)
    searcher = open_searcher(store, tok)
    before = searcher.index
    ingest_paths(store, [small_corpus_file], now=NOW)
    updated = searcher.refresh()
    assert updated is not before and len(updated.bm25.segments) == 2
    assert before.n_paragraphs == 57 and updated.n_paragraphs == 67  # the old snapshot is untouched
    fresh = Searcher.open(store, None, tokenizer=tok)
    for q in QUESTIONS:
        assert results(searcher, q) == results(fresh, q)
    reopened = open_searcher(store, tok)  # the update was saved as a second segment
    assert reopened.index.saved == updated.saved
    assert results(reopened, "上海地铁票价") == results(fresh, "上海地铁票价")


def test_replaced_articles_leave_the_index(store: Store, tok: Tokenizer, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in SMALL_CORPUS), encoding="utf-8")
    ingest_paths(store, [SAMPLE_PAGE, feed], now=NOW)
    searcher = open_searcher(store, tok)
    assert find(searcher, "上海地铁票价调整听证会", 1).hits[0].article.external_id == "n1"
    feed.write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in SMALL_CORPUS[1:]), encoding="utf-8"
    )
    ingest_file(store, feed, now=NOW)
    searcher.refresh()
    assert all(h.article.external_id != "n1" for h in find(searcher, "上海地铁票价调整听证会", 10).hits)
    fresh = Searcher.open(store, None, tokenizer=tok)
    for q in QUESTIONS:
        assert results(searcher, q) == results(fresh, q)
    assert results(open_searcher(store, tok), "志愿者 亚运会") == results(fresh, "志愿者 亚运会")


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "manifest"])
def test_a_damaged_index_is_detected_and_rebuilt(store: Store, tok: Tokenizer, damage: str) -> None:
    ingest_paths(store, [SAMPLE_PAGE], now=NOW)
    good = results(open_searcher(store, tok), QUESTIONS[0])
    folder = index_dir(store)
    (segment,) = [p for p in folder.iterdir() if p.is_dir()]
    target = segment / "docs.npy"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:-7])
    elif damage == "flip":
        data = bytearray(target.read_bytes())
        data[-3] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "delete":
        target.unlink()
    else:
        (folder / "manifest.json").write_text("{not json", encoding="utf-8")
    rebuilt = open_searcher(store, tok)
    assert rebuilt.index.saved != (segment.name,)
    assert results(rebuilt, QUESTIONS[0]) == good


def test_an_index_of_another_database_is_not_used(
    tmp_path: Path, tok: Tokenizer, small_corpus_file: Path
) -> None:
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        ingest_paths(a, [SAMPLE_PAGE], now=NOW)
        ingest_paths(b, [small_corpus_file], now=NOW)
        Searcher.open(a, tmp_path / "shared.index", tokenizer=tok)
        other = Searcher.open(b, tmp_path / "shared.index", tokenizer=tok)
        assert other.index.n_paragraphs == 10
        assert find(other, "上海地铁票价", 1).hits[0].article.external_id == "n1"


def test_filters_by_date_and_source(store: Store, tok: Tokenizer, small_corpus_file: Path) -> None:
    ingest_paths(store, [small_corpus_file], now=NOW)
    s = open_searcher(store, tok)
    q = "工会 志愿者 生态 新能源 地铁"
    assert {h.article.date for h in find(s, q, 10, day_from="2023-08-21").hits} == {"2023-08-21"}
    assert {h.article.date for h in find(s, q, 10, day_to="2023-08-20").hits} == {"2023-08-20"}
    assert {h.article.source for h in find(s, q, 10, source="浙江日报").hits} == {"浙江日报"}
    assert find(s, q, 10, source="不存在的报纸").hits == ()


def test_empty_store_and_empty_query(store: Store, tok: Tokenizer) -> None:
    s = open_searcher(store, tok)
    assert find(s, "象州县", 5).hits == ()
    ingest_paths(store, [SAMPLE_PAGE], now=NOW)
    s.refresh()
    assert find(s, "", 5).hits == () and find(s, "？！", 5).hits == ()
    assert find(s, "象州县", 5).hits


def test_many_small_updates_are_merged(store: Store, tok: Tokenizer, tmp_path: Path) -> None:
    manager = IndexManager(index_dir(store), tok)
    manager.open(store)
    for i in range(12):
        path = tmp_path / f"day{i}.jsonl"
        path.write_text(
            json.dumps(
                {"id": f"d{i}", "title": f"第{i}天", "text": f"今天是第{i}天的新闻。"}, ensure_ascii=False
            )
        )
        ingest_file(store, path, now=NOW)
        manager.refresh(store)
    assert len(manager.current.bm25.segments) <= 8
    assert manager.current.n_paragraphs == 12
    ids = manager.current.paragraph_id
    assert np.all(np.diff(ids) > 0)


def test_worker_processes_tokenize_like_the_parent(
    store: Store, tok: Tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retrieval import doctokens

    ingest_paths(store, [SAMPLE_PAGE], now=NOW)
    serial = Searcher.open(store, None, tokenizer=tok)
    monkeypatch.setattr(doctokens, "PARALLEL_MIN_ROWS", 10)
    monkeypatch.setattr(doctokens, "CHUNK", 7)
    parallel = Searcher.open(store, None, tokenizer=tok)
    assert parallel.index.n_terms == serial.index.n_terms
    for q in QUESTIONS:
        assert results(parallel, q) == results(serial, q)


def test_a_bulk_build_made_in_batches_is_one_segment_with_the_same_answers(
    store: Store, tok: Tokenizer, small_corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big builds are made a batch at a time (bounded memory) and then merged: a query visits one segment,
    and the answers are those of a build in one batch."""
    from retrieval import index as index_module

    ingest_paths(store, [SAMPLE_PAGE, small_corpus_file], now=NOW)
    whole = Searcher.open(store, None, tokenizer=tok)
    monkeypatch.setattr(index_module, "_BATCH_DOCS", 10)  # 67 paragraphs: seven batches
    batched = open_searcher(store, tok)
    assert len(batched.index.bm25.segments) == 1
    assert not list(index_dir(store).glob(".tmp-*"))  # the batches waited on disk, and nothing is left
    reloaded = open_searcher(store, tok)
    assert len(reloaded.index.bm25.segments) == 1 and reloaded.index.files  # saved as one and mapped
    for q in QUESTIONS:
        assert results(batched, q) == results(whole, q) == results(reloaded, q)
