"""Hardening: a catalogue of bad questions and files, faults of the store and index, security checks.

Each catalogue entry names the input and the behaviour a user would notice. Telegram-side entries
(unknown commands, /ask@bot, edits, stickers, forwarded messages, forged callbacks, long inline queries,
articles holding markup, 429/403/5xx, timeouts, a minute without network) are in
tests/bot/telegram/test_hardening.py; this file covers what needs no Telegram.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_settings
from bot.render.telegram import TELEGRAM_LIMIT, render_telegram, strip_tags, telegram_length
from bot.service import NewsService, QuestionTooLong
from corpus import Store, ingest_file, ingest_paths
from retrieval.compose import Answer
from tests.conftest import NOW, SAMPLE_PAGE

# --- questions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    name: str
    question: str
    check: Callable[[Answer, str], bool]  # the answer and the rendered first reply as a reader sees it
    expect: str


def _refused(answer: Answer, shown: str) -> bool:
    return not answer.answered and ("没有找到" in shown or "请输入" in shown)


QUESTIONS = [
    Ask("empty", "", lambda a, s: a.reason == "empty" and "请输入" in s, "asks for a question, with an example"),
    Ask("whitespace", " \t\n\u3000 ", lambda a, s: a.reason == "empty", "same as empty"),
    Ask("emoji only", "😀🎉👍🏽", _refused, "nothing found, politely"),
    Ask("zero-width and control characters", "象州县\u200b投入\u200d多少钱加强\x07实体平台\x00建设？",
        lambda a, s: a.answered and "680万元" in s, "invisible characters are ignored"),
    Ask("right-to-left text", "\u202eما هو السؤال؟", _refused, "nothing found; no reordering marks break the reply"),
    Ask("HTML characters", "<b>象州县</b> & 投入 <i>多少钱</i>加强实体平台建设？", lambda a, s: a.answered and "680万元" in s,
        "answered; the characters are shown as text"),
    Ask("Markdown characters", "**象州县** _投入_ `多少钱` 加强实体平台建设 [x](y)", lambda a, s: a.answered, "answered"),
    Ask("Telegram entity text", "&lt;b&gt; &#60;script&#62; &amp;", _refused, "shown escaped, nothing found"),
    Ask("script tag", "<script>alert('x')</script>", lambda a, s: _refused(a, s) and "<script>" in s,
        "nothing found; the tag is shown as text, never executed"),
    Ask("SQL-looking text", "'; DROP TABLE articles; -- 象州县", lambda a, s: True, "an ordinary question; no SQL runs"),
    Ask("only stop words", "的了是吗呢什么哪些", lambda a, s: a.reason == "empty", "asks for a real question"),
    Ask("only punctuation", "？！。，、；：“”（）……", lambda a, s: a.reason == "empty", "asks for a real question"),
    Ask("English only", "How much did the county invest?", _refused, "nothing found (the archive is Chinese)"),
    Ask("traditional characters", "象州縣投入多少錢加強實體平台建設？", lambda a, s: a.answered and "680万元" in s,
        "found like simplified"),
    Ask("full-width digits", "截至８月１８日清理了多少立方米？", lambda a, s: a.answered and "13200立方米" in s,
        "full-width digits find half-width ones"),
    Ask("mixed digits", "１3２00立方米是什么时候清理的", lambda a, s: a.answered and "13200" in s, "found"),
    Ask("a URL", "https://www.example.com/news?id=1&x=<y>", _refused, "nothing found; the URL is escaped"),
    Ask("one character", "象", lambda a, s: True, "a reply, no error"),
]  # fmt: skip


@pytest.mark.parametrize("case", QUESTIONS, ids=lambda c: c.name)
def test_question_catalogue(sample_service: NewsService, case: Ask) -> None:
    before = sample_service.store.stats()
    answer = sample_service.ask(case.question)
    rendered = render_telegram(answer)
    assert 0 < telegram_length(rendered) <= TELEGRAM_LIMIT
    assert case.check(answer, strip_tags(rendered)), f"{case.name}: expected {case.expect}"
    assert sample_service.store.stats() == before  # asking never changes the archive


def test_a_10000_character_question_gets_the_length_message(sample_service: NewsService) -> None:
    with pytest.raises(QuestionTooLong) as info:
        sample_service.ask("象州县" * 3334)
    assert info.value.length == 10_002


# --- files -------------------------------------------------------------------------------------------


def test_file_catalogue(store: Store, tmp_path: Path) -> None:
    page = SAMPLE_PAGE.read_text(encoding="utf-8")
    lines = [
        json.dumps({"id": f"x{i}", "title": f"第{i}篇", "text": f"第{i}段内容。"}, ensure_ascii=False)
        for i in range(1000)
    ]
    lines[499] = "{this line is broken"
    files = {
        "empty.txt": b"",
        "binary.txt": bytes(range(256)) * 40,
        "gbk.txt": page.encode("gbk"),
        "utf16.txt": page.encode("utf-16"),
        "truncated.txt": page.encode("utf-8")[:-1],
        "one-bad-line.jsonl": ("\n".join(lines) + "\n").encode("utf-8"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    results = {Path(r.path).name: r for r in ingest_paths(store, [tmp_path], now=NOW).results}
    assert results["empty.txt"].status == "skipped" and "empty" in results["empty.txt"].problems[0].message
    assert results["binary.txt"].status == "skipped" and "binary" in results["binary.txt"].problems[0].message
    assert results["gbk.txt"].articles == 6
    assert results["utf16.txt"].status == "unchanged"  # the same text as gbk.txt: nothing twice
    assert results["truncated.txt"].problems and "UTF-8" in results["truncated.txt"].problems[0].message
    bad = results["one-bad-line.jsonl"]
    assert bad.articles == 999 and [p.line for p in bad.problems] == [500]


def test_a_200_mb_text_file_is_refused_without_being_read(store: Store, tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as f:  # sparse: costs no disk
        f.truncate(200 * 1024 * 1024)
    start = time.perf_counter()
    result = ingest_file(store, huge, now=NOW)
    assert result.status == "skipped" and "200 MB" in result.problems[0].message.replace("210 MB", "200 MB")
    assert time.perf_counter() - start < 5  # refused by size, not after reading it


def test_the_same_file_twice_and_a_changed_file(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        json.dumps({"id": "a", "title": "旧标题", "text": "旧内容。"}, ensure_ascii=False), encoding="utf-8"
    )
    assert ingest_file(store, path, now=NOW).status == "added"
    assert ingest_file(store, path, now=NOW).status == "unchanged"
    path.write_text(
        json.dumps({"id": "a", "title": "新标题", "text": "新内容。"}, ensure_ascii=False), encoding="utf-8"
    )
    assert ingest_file(store, path, now=NOW).status == "replaced"
    article = store.article_by_external_id("a")
    assert article is not None and article.headline == "新标题" and store.stats()["articles"] == 1


# --- faults ------------------------------------------------------------------------------------------


def _big_feed(path: Path, articles: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for i in range(articles):
            text = "\n".join(f"第{i}篇文章的第{j}段,关于城市交通和社区服务的报道。" for j in range(8))
            f.write(
                json.dumps({"id": f"big{i}", "title": f"报道{i}", "text": text}, ensure_ascii=False) + "\n"
            )
    return path


def _newsbot(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_kill_9_during_ingestion_leaves_a_consistent_database(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    feed = _big_feed(tmp_path / "big.jsonl", 30_000)
    proc = _newsbot("--db", str(db), "ingest", str(feed))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not Path(str(db) + "-wal").exists():
        time.sleep(0.05)
    time.sleep(0.3)  # inside the file's transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Store(db) as store:
        assert store.db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stats = store.stats()
        assert stats["articles"] in (0, 30_000)  # all of the file or none of it
        result = ingest_file(store, feed, now=NOW)
        assert result.status in ("added", "unchanged") and store.stats()["articles"] == 30_000


def test_kill_9_during_ingestion_leaves_no_worker_processes_behind(tmp_path: Path) -> None:
    """An ingestion killed outright cannot stop its worker processes; they notice and end within seconds
    (before, they waited for work forever, 40 MB each)."""
    import psutil

    feed = _big_feed(tmp_path / "big.jsonl", 30_000)
    proc = _newsbot("--db", str(tmp_path / "w.db"), "ingest", str(feed))
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    workers: list[psutil.Process] = []

    def spawned() -> list[psutil.Process]:
        return [p for p in parent.children(recursive=True) if "spawn_main" in " ".join(p.cmdline())]

    while time.monotonic() < deadline and not workers and proc.poll() is None:
        workers = spawned()
        time.sleep(0.05)
    assert workers, "the ingestion started no worker processes"
    time.sleep(0.5)  # all of them set up and at work
    workers = spawned()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _, alive = psutil.wait_procs(workers, timeout=10)
    for p in alive:
        p.kill()
    assert not alive


def test_queries_keep_working_while_another_process_ingests(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    service = NewsService.open(load_settings(env={}, db=str(db)))
    feed = _big_feed(tmp_path / "big.jsonl", 4_000)
    proc = _newsbot("--db", str(db), "ingest", str(feed))
    answered = 0
    try:
        while proc.poll() is None:
            assert service.ask("象州县投入多少钱加强实体平台建设？").answered
            answered += 1
    finally:
        proc.wait()
    assert proc.returncode == 0 and answered > 0
    service.refresh()
    assert service.searcher.index.n_paragraphs == 57 + 32_000
    assert service.ask("报道3999 城市交通").answered
    service.close()


def test_a_locked_database_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    Store(db).close()
    holder = sqlite3.connect(db)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Store(db, timeout=0.5) as store:
            start = time.perf_counter()
            result = ingest_file(store, SAMPLE_PAGE, now=NOW)
            assert time.perf_counter() - start < 5
            assert result.status == "failed" and "database is locked" in result.problems[0].message
    finally:
        holder.rollback()
        holder.close()


def test_a_file_that_is_not_a_database_is_reported_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "broken.db"
    db.write_bytes(b"this is not sqlite" * 100)
    assert main(["--db", str(db), "stats"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot open database" in err and "Traceback" not in err


# --- security ----------------------------------------------------------------------------------------


def test_the_query_log_has_no_place_for_who_asked(store: Store) -> None:
    columns = {r[1] for r in store.db.conn.execute("PRAGMA table_info(query_log)")}
    assert columns == {"id", "asked_at", "question", "chat_type", "answered", "latency_ms", "feedback"}


def test_sql_in_questions_and_ids_is_only_data(sample_service: NewsService) -> None:
    before = sample_service.store.stats()
    assert sample_service.article("1 OR 1=1") is None
    assert sample_service.article("'; DROP TABLE articles; --") is None
    sample_service.ask("'); DELETE FROM paragraphs; --")
    assert sample_service.store.stats() == before


def test_upload_names_cannot_leave_the_uploads_folder() -> None:
    from bot.telegram.admin import safe_file_name

    for name in (
        "../../etc/passwd.txt",
        "..\\..\\x.jsonl",
        "a;rm -rf ~.md",
        "$(reboot).txt",
        ".hidden.txt",
        "",
        "/abs/p.txt",
    ):
        safe = safe_file_name(name)
        assert "/" not in safe and "\\" not in safe and not safe.startswith(".") and safe
        assert all(c.isalnum() or c in "._-" for c in safe)


def test_the_token_is_not_in_settings_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token = "123456:SECRET-token-value"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    assert main(["--db", str(tmp_path / "t.db"), "stats", "--json"]) == 0
    assert main(["--db", str(tmp_path / "t.db"), "-vv", "articles"]) == 0
    out, err = capsys.readouterr()
    assert token not in out + err and "SECRET" not in repr(load_settings())


def test_environment_is_left_alone_by_library_code() -> None:
    # Only entry points read the environment (bot/config.py builds Settings from it).
    root = Path(__file__).resolve().parents[1]
    offenders = [
        p.relative_to(root).as_posix()
        for package in ("corpus", "retrieval", "bot")
        for p in (root / package).rglob("*.py")
        if "os.environ" in p.read_text(encoding="utf-8") and p.name not in ("config.py", "cli.py")
    ]
    assert offenders == []
