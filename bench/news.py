"""News benchmark: the real archive and its reader questions, timed as the bot answers them.

Reads ``../shared/eval/news/`` (``articles.jsonl.gz``, ``dev-questions.jsonl``); the archive is ingested
once into ``bench/out/news/news.db`` (later runs find it unchanged). After the bot has answered 200 other
questions (built from random paragraphs, as a serving bot's caches would be warm), it times each dev
question three ways: the index query proper (tokens in, top-10 ids and scores out), search from the
question text (parse, both BM25 passes, database reads, re-ranking), and the whole ``ask`` (that, the
composer and the Telegram rendering), each question asked on its ``asked_at`` day when it has one.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from bot.config import load_settings
from bot.render.telegram import render_telegram
from bot.service import NewsService
from corpus import Store, ingest_paths

from .retrieval import _percentiles, make_queries

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "news"


def run(work: Path, source: Path = NEWS) -> dict[str, Any]:
    archive, questions_file = source / "articles.jsonl.gz", source / "dev-questions.jsonl"
    missing = [str(p) for p in (archive, questions_file) if not p.is_file()]
    if missing:
        raise SystemExit(
            "bench news needs the news archive and its questions, not found: " + ", ".join(missing)
            + " (they live in ../shared/eval/news/ beside the repository)"
        )  # fmt: skip
    db = work / "news" / "news.db"
    with Store(db) as store:
        start = time.perf_counter()
        report = ingest_paths(store, [archive], now=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        ingest_s = time.perf_counter() - start
    service = NewsService.open(load_settings(env={}, db=str(db)))
    with service.store:
        questions = [
            json.loads(line) for line in questions_file.read_text(encoding="utf-8").splitlines() if line
        ]
        asked = [
            (q["question"], dt.date.fromisoformat(q["asked_at"]) if q.get("asked_at") else None)
            for q in questions
        ]
        for q in make_queries(service.store, service.searcher.tokenizer, 200, seed=12):
            render_telegram(service.ask(q))
        index = service.searcher.index
        parsed = [service.parse(q, now) for q, now in asked]
        top10 = _timed(lambda p: index.bm25.top(index.term_ids(p.terms), 10), parsed)
        search = _timed(lambda qa: service.searcher.search(service.parse(*qa), k=30), asked)
        ask = _timed(lambda qa: render_telegram(service.ask(qa[0], now=qa[1])), asked)
        stats = service.store.stats()
    return {
        "archive": str(archive),
        "articles": stats["articles"],
        "paragraphs": stats["paragraphs"],
        "ingest_s (0 when already in)": round(ingest_s, 1) if report.count("added") else 0.0,
        "questions": len(asked),
        "top10_ms_p50": top10[0],
        "top10_ms_p95": top10[1],
        "search_ms_p50": search[0],
        "search_ms_p95": search[1],
        "ask_ms_p50": ask[0],
        "ask_ms_p95": ask[1],
    }


def _timed(run: Any, items: list[Any]) -> tuple[float, float]:
    for item in items[:3]:
        run(item)
    ms = []
    for item in items:
        start = time.perf_counter()
        run(item)
        ms.append((time.perf_counter() - start) * 1000)
    p50, p95 = _percentiles(ms)
    return round(p50, 3), round(p95, 3)
