"""The persisted index: build, reload, incremental updates, deletions, corruption, filters."""

from __future__ import annotations

import datetime as dt
import json
import time
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


def results(searcher: Searcher, question: str, k: int = 5, **filters: Any) -> list[tuple[int, float]]:
    return [(h.paragraph.id, round(h.score, 9)) for h in find(searcher, question, k, **filters).hits]


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


def test_a_large_snapshot_has_its_bounds_found_on_a_thread_once_served(
    store: Store, tok: Tokenizer, small_corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot of a million paragraphs (here: as many as there are, the size lowered) has every term's
    bound found on a thread of its own once it is opened or refreshed, and answers as before; a smaller
    one leaves them to the questions."""
    from retrieval import index as index_module
    from retrieval import kernels

    if not kernels.AVAILABLE:
        pytest.skip("numba is not available here")
    ingest_paths(store, [SAMPLE_PAGE], now=NOW)
    finder = index_module._find_bounds

    def known(searcher: Searcher) -> bool:
        finder.join()
        bm25 = searcher.index.bm25
        return all((bm25._term_max(n)[np.diff(s.indptr) > 0] >= 0).all() for n, s in enumerate(bm25.segments))

    small = Searcher.open(store, None, tokenizer=tok)
    assert not known(small)
    monkeypatch.setattr(index_module, "_BOUNDS_DOCS", 1)
    searcher = Searcher.open(store, None, tokenizer=tok)
    assert known(searcher)
    ingest_paths(store, [small_corpus_file], now=NOW)
    searcher.refresh()
    assert known(searcher)  # the new snapshot's, whose norms differ
    for q in QUESTIONS:
        assert results(searcher, q) == results(Searcher.open(store, None, tokenizer=tok), q)
    finder.stop()


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
    target = segment / "bits.npy"
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


@pytest.mark.parametrize("workers", ["in this process", "worker processes", "workers failing midway"])
def test_a_bulk_build_made_in_batches_is_one_segment_with_the_same_answers(
    store: Store, tok: Tokenizer, small_corpus_file: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """Big builds are made a batch at a time (bounded memory) and then merged: a query visits one segment,
    and the answers are those of a build in one batch. One stream of chunks feeds every batch (workers do
    not wait for a batch's segment); when the workers break midway, the chunks they held are redone here."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from retrieval import doctokens
    from retrieval import index as index_module

    ingest_paths(store, [SAMPLE_PAGE, small_corpus_file], now=NOW)
    whole = Searcher.open(store, None, tokenizer=tok)
    monkeypatch.setattr(index_module, "_BATCH_DOCS", 10)  # 67 paragraphs: several batches
    if workers != "in this process":
        monkeypatch.setattr(doctokens, "PARALLEL_MIN_ROWS", 10)
        monkeypatch.setattr(doctokens, "CHUNK", 7)
    if workers == "workers failing midway":
        submit = ProcessPoolExecutor.submit
        submitted: list[int] = []

        def breaking(self: Any, *args: Any) -> Any:
            submitted.append(1)
            if len(submitted) > 5:  # after some chunks are done and others are in flight
                raise BrokenProcessPool("a worker died")
            return submit(self, *args)

        monkeypatch.setattr(ProcessPoolExecutor, "submit", breaking)
    batched = open_searcher(store, tok)
    if workers == "workers failing midway":
        assert len(submitted) == 6
    assert len(batched.index.bm25.segments) == 1
    assert not list(index_dir(store).glob(".tmp-*"))  # the batches waited on disk, and nothing is left
    reloaded = open_searcher(store, tok)
    assert len(reloaded.index.bm25.segments) == 1 and reloaded.index.files  # saved as one and mapped
    for q in QUESTIONS:
        assert results(batched, q) == results(whole, q) == results(reloaded, q)


def test_a_period_is_read_as_stretches_of_an_archive_in_date_order_with_the_same_results(
    store: Store, tok: Tokenizer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Days filtered in an archive ingested day by day are ranges of documents (only those stretches of the
    postings are read); the hits are those the mask over every paragraph gives, with other filters too."""
    from retrieval import index as index_module

    topics = ["地铁票价调整听证会", "工会志愿者服务站", "新能源汽车销量增长", "生态保护修复工程"]
    rows = [
        {
            "id": f"a{day}-{n}",
            "title": f"{topic}（{day}日）",
            "date": f"2023-08-{day:02d}",
            "source": "甲报" if n % 2 else "乙报",
            "text": f"8月{day}日，{topic}的消息。{topic}进展顺利，相关部门介绍了情况。",
        }
        for day in range(1, 29)
        for n, topic in enumerate(topics)
    ]
    feed = tmp_path / "days.jsonl"
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    ingest_paths(store, [feed], now=NOW)
    s = open_searcher(store, tok)
    week = ((dt.date(2023, 8, 7), dt.date(2023, 8, 13)),)
    cases: list[dict[str, Any]] = [
        {"periods": week},
        {
            "periods": (
                (dt.date(2023, 8, 2), dt.date(2023, 8, 3)),
                (dt.date(2023, 8, 20), dt.date(2023, 8, 21)),
            )
        },
        {"day_from": "2023-08-25"},
        {"day_to": "2023-08-04", "source": "甲报"},
        {
            "periods": week,
            "exclude_articles": frozenset({h.article.id for h in find(s, "工会志愿者", 3).hits}),
        },
        {"periods": ((dt.date(2024, 1, 1), dt.date(2024, 1, 31)),)},  # no paragraph: nothing found
    ]
    questions = ["地铁票价", "工会志愿者服务", "新能源汽车 生态保护"]
    by_ranges = {(q, i): results(s, q, 8, **f) for q in questions for i, f in enumerate(cases)}
    assert s.index._selection(Filters(periods=week))[1] is not None  # read as ranges
    assert all(by_ranges[(q, 0)] for q in questions)
    assert {h.article.date for h in find(s, "地铁票价", 8, periods=week).hits} <= {
        f"2023-08-{d:02d}" for d in range(7, 14)
    }
    monkeypatch.setattr(index_module, "_MAX_RANGES", -1)  # the mask over every paragraph instead
    fresh = open_searcher(store, tok)
    assert fresh.index._selection(Filters(periods=week))[1] is None
    for (q, i), found in by_ranges.items():
        assert results(fresh, q, 8, **cases[i]) == found


def _arrays(index: Any) -> tuple[Any, ...]:
    """Everything an index build decides: vocabulary (ids in order), rows, segments and their postings."""
    vocab = [list(part) for part in index.vocab.owned(0, index.n_terms)]
    segments = [
        (s.doc_len.tolist(), {name: a.tolist() for name, a in s.packed.arrays().items()})
        for s in index.bm25.segments
    ]
    return vocab, index.paragraph_id.tolist(), index.day.tolist(), segments


@pytest.mark.parametrize("segmenting", ["in this process", "worker processes"])
def test_files_indexed_as_they_are_written_give_the_index_a_build_after_writing_gives(
    tmp_path: Path,
    tok: Tokenizer,
    small_corpus_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    segmenting: str,
    rows_read_while_writing: list[int],
) -> None:
    """``newsbot ingest`` segments each file's paragraphs while the next file is parsed: the chunks (cut
    across files), batches, vocabulary ids and postings are those of indexing after the last file."""
    from retrieval import doctokens
    from retrieval import index as index_module
    from tests.conftest import CMRC

    monkeypatch.setattr(doctokens, "CHUNK", 37)  # chunks that straddle the files' commits
    monkeypatch.setattr(index_module, "_BATCH_DOCS", 111)  # several batches, spilled, then merged
    if segmenting == "worker processes":
        monkeypatch.setattr(doctokens, "PARALLEL_MIN_ROWS", 74)  # two chunks here, then the pool
    files = [SAMPLE_PAGE, CMRC / "corpus.jsonl", small_corpus_file]
    with Store(tmp_path / "after.db") as store:
        ingest_paths(store, files, now=NOW)
        after = IndexManager(tmp_path / "after.index", tok).open(store)
    read_while_writing = rows_read_while_writing
    with Store(tmp_path / "while.db") as store:
        manager = IndexManager(tmp_path / "while.index", tok)

        def write(committed: Any) -> int:
            for n, path in enumerate(files):
                ingest_file(store, path, now=NOW)
                committed()
                if n == 0:  # the first file's rows are read before the second is written
                    for _ in range(500):
                        if read_while_writing:
                            break
                        time.sleep(0.01)
                    assert read_while_writing
                    first = store.state().max_paragraph_id
            return first

        first_file = manager.follow(store, write)
        assert min(read_while_writing) == 1 and first_file < max(read_while_writing)
        assert manager.current.n_paragraphs == store.state().paragraphs > 300
        assert _arrays(manager.current) == _arrays(after)
        assert len(after.bm25.segments) == 1
        reopened = IndexManager(tmp_path / "while.index", tok).open(store)  # what was saved
        assert reopened.saved == manager.current.saved and _arrays(reopened) == _arrays(after)


def test_an_article_replaced_while_indexing_leaves_the_index(tmp_path: Path, tok: Tokenizer) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in SMALL_CORPUS), encoding="utf-8")
    with Store(tmp_path / "n.db") as store:
        ingest_paths(store, [feed], now=NOW)
        searcher = open_searcher(store, tok)

        def write(committed: Any) -> None:
            ingest_paths(store, [SAMPLE_PAGE], now=NOW, on_file=lambda _: committed())
            feed.write_text(
                "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in SMALL_CORPUS[1:]), encoding="utf-8"
            )
            ingest_paths(store, [feed], now=NOW, on_file=lambda _: committed())  # n1 goes

        searcher.manager.follow(store, write)
        assert all(h.article.external_id != "n1" for h in find(searcher, "上海地铁票价调整听证会", 10).hits)
        fresh = Searcher.open(store, None, tokenizer=tok)
        for q in QUESTIONS:
            assert results(searcher, q) == results(fresh, q) == results(open_searcher(store, tok), q)


def test_a_writer_that_fails_saves_nothing_and_the_next_run_indexes_what_it_committed(
    tmp_path: Path, tok: Tokenizer, small_corpus_file: Path
) -> None:
    with Store(tmp_path / "n.db") as store:
        manager = IndexManager(tmp_path / "n.index", tok)
        manager.open(store)

        def write(committed: Any) -> None:
            ingest_file(store, small_corpus_file, now=NOW)
            committed()
            raise KeyboardInterrupt  # Ctrl-C between two files

        with pytest.raises(KeyboardInterrupt):
            manager.follow(store, write)
        saved = json.loads((tmp_path / "n.index" / "manifest.json").read_text())
        assert saved["paragraphs"] == 0
        again = IndexManager(tmp_path / "n.index", tok).open(store)
        assert again.n_paragraphs == store.state().paragraphs == 10
