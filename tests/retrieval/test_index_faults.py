"""The index under faults found by probing (D4–D8): concurrent writers, a full disk, a read-only folder,
a run killed in its index phase, files damaged while a process serves them."""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from corpus import Store, ingest_paths
from retrieval import persist
from retrieval.search import Searcher
from retrieval.tokenize import Tokenizer, default_userdict
from tests.conftest import NOW, SAMPLE_PAGE, SMALL_CORPUS
from tests.corpus.test_ingest import write_jsonl
from tests.retrieval.test_index import QUESTIONS, find, index_dir, open_searcher, results


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer(default_userdict())


def _newsbot(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_d4_three_ingests_at_once_all_finish_and_none_redoes_anothers_file(tmp_path: Path) -> None:
    db = str(tmp_path / "n.db")
    feeds = [write_jsonl(tmp_path / f"f{i}.jsonl", [SMALL_CORPUS[i]]) for i in range(3)]
    runs = [_newsbot("--db", db, "ingest", str(f), str(feeds[0])) for f in feeds]  # all also take f0
    outcomes = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outcomes
    assert all("replaced" not in out or "0 replaced" in out for out, _ in outcomes)
    with Store(db) as store:
        assert store.stats()["articles"] == 3
        searcher = Searcher.open(store, Path(db + ".index"), tokenizer=Tokenizer(default_userdict()))
        assert searcher.index.n_paragraphs == 6
        assert not list(Path(db + ".index").glob(".tmp-*"))  # no writer left temporary files


def test_d4_a_writer_holds_the_folder_against_other_processes(tmp_path: Path) -> None:
    lock = persist.FolderLock(tmp_path)
    probe = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try:\n    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)\nexcept BlockingIOError:\n    sys.exit(7)"
    )
    with lock.hold(exclusive=True) as held:
        assert held
        assert subprocess.run([sys.executable, "-c", probe, str(lock.path)]).returncode == 7
    assert subprocess.run([sys.executable, "-c", probe, str(lock.path)]).returncode == 0
    assert fcntl  # the lock is flock(2): advisory, released when a process dies


def test_d5_a_full_disk_while_saving_keeps_serving_from_memory_and_saves_later(
    store: Store, tok: Tokenizer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ingest_paths(store, [SAMPLE_PAGE], now=NOW)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", full)
    with caplog.at_level(logging.WARNING):
        searcher = open_searcher(store, tok)
    assert "No space left on device" in caplog.text
    assert "680万元" in find(searcher, QUESTIONS[0], 1).hits[0].paragraph.text  # served from memory
    assert not (index_dir(store) / "manifest.json").exists()
    monkeypatch.undo()
    searcher.manager._next_save_attempt = 0.0  # the retry is due (it waits five minutes)
    searcher.refresh()
    assert (index_dir(store) / "manifest.json").exists()


def test_d5_a_rollback_after_sqlite_rolled_back_by_itself_is_not_an_error(store: Store) -> None:
    from corpus import store as store_module

    assert not store.db.conn.in_transaction
    store_module.rollback(store.db.conn)  # "cannot rollback - no transaction is active" before


def test_d6_a_read_only_index_folder_serves_from_memory(
    store: Store, tok: Tokenizer, small_corpus_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_paths(store, [SAMPLE_PAGE], now=NOW)
    open_searcher(store, tok)
    ingest_paths(store, [small_corpus_file], now=NOW)  # the database is now ahead of the index

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(persist, "write_segment", read_only)
    monkeypatch.setattr(persist.FolderLock, "hold", _unlocked)
    searcher = open_searcher(store, tok)
    assert searcher.index.n_paragraphs == store.stats()["paragraphs"]
    assert find(searcher, "上海地铁票价调整听证会", 1).hits[0].article.external_id == "n1"


def _unlocked(self: persist.FolderLock, *, exclusive: bool) -> object:
    from contextlib import nullcontext

    return nullcontext(False)


def test_d7_a_run_killed_in_its_index_phase_is_finished_by_the_next_run(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    feed = write_jsonl(tmp_path / "feed.jsonl", SMALL_CORPUS)
    with Store(db) as store:
        ingest_paths(store, [feed], now=NOW)  # the files went in; the process died before the index
    assert not Path(str(db) + ".index").exists()
    run = subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(db), "ingest", str(feed)], capture_output=True, text=True
    )
    assert run.returncode == 0 and "1 unchanged" in run.stdout
    assert (Path(str(db) + ".index") / "manifest.json").exists()


def test_d8_a_file_truncated_under_a_serving_process_is_noticed_before_it_is_read(
    store: Store, tok: Tokenizer
) -> None:
    ingest_paths(store, [SAMPLE_PAGE], now=NOW)
    open_searcher(store, tok)
    searcher = open_searcher(store, tok)  # this one maps the saved files
    good = results(searcher, QUESTIONS[0])
    assert searcher.index.files
    (segment,) = [p for p in index_dir(store).iterdir() if p.is_dir()]
    words = segment / "bits.npy"
    os.truncate(words, words.stat().st_size // 2)  # reading the lost half through the mapping would be SIGBUS
    assert results(searcher, QUESTIONS[0]) == good
    assert searcher.index.files == ()  # rebuilt from the database, held in memory


@pytest.mark.parametrize(
    ("array", "value"),
    [("first", 2**30), ("width", 31)],
    ids=["documents-far-beyond", "blocks-not-fitting-their-words"],
)
def test_d8_garbled_positions_are_rebuilt_not_raised_on_every_question(
    store: Store, tok: Tokenizer, array: str, value: int
) -> None:
    ingest_paths(store, [SAMPLE_PAGE], now=NOW)
    open_searcher(store, tok)
    searcher = open_searcher(store, tok)
    good = results(searcher, QUESTIONS[0])
    (segment,) = [p for p in index_dir(store).iterdir() if p.is_dir()]
    garbled = np.load(segment / f"{array}.npy", mmap_mode="r+")
    garbled[:] = value  # the same size, but blocks that point far beyond the documents or their words
    garbled.flush()
    del garbled
    assert results(searcher, QUESTIONS[0]) == good
