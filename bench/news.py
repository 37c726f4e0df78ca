"""News benchmarks: the real archive, timed as the bot answers its reader questions and draws timelines.

Reads ``../shared/eval/news/`` (``articles.jsonl.gz``, ``dev-questions.jsonl``); the archive is ingested
once into ``bench/out/news/news.db`` (later runs find it unchanged), or read from ``--db`` when given.

``run`` (``python -m bench news``): after the bot has answered 200 other questions (built from random
paragraphs, as a serving bot's caches would be warm), it times each dev question three ways: the index
query proper (tokens in, top-10 ids and scores out), search from the question text (parse, both BM25
passes, database reads, re-ranking), and the whole ``ask`` (that, the composer and the Telegram
rendering), each question asked on its ``asked_at`` day when it has one.

``run_timeline`` (``python -m bench timeline``): /timeline of a handful of topics, each drawn several
times — the service's timeline and its one Telegram message, as the handler's worker thread makes them —
with the longest message and whether every timeline had its periods in order, each with a dated passage
from its own months.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

from bot.config import load_settings
from bot.render.telegram import render_telegram, telegram_length, timeline_message
from bot.service import NewsService
from corpus import Store, ingest_paths
from retrieval.timeline import Timeline

from .retrieval import _percentiles, _time_queries, make_queries

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "news"
TOPICS = ("神舟", "冬奥", "进博会", "乡村振兴", "一带一路", "两会", "台风", "杭州亚运会", "工会", "人工智能")


def _archive(work: Path, source: Path, *needs: str) -> tuple[Path, Path, float]:
    """The archive's database (ingested on first use) and file, and how long ingesting took (0 when it
    was in already)."""
    archive = source / "articles.jsonl.gz"
    missing = [str(p) for p in (archive, *(source / n for n in needs)) if not p.is_file()]
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
    return db, archive, round(ingest_s, 1) if report.count("added") else 0.0


def run(work: Path, source: Path = NEWS) -> dict[str, Any]:
    db, archive, ingest_s = _archive(work, source, "dev-questions.jsonl")
    questions_file = source / "dev-questions.jsonl"
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
        top10 = _time_queries(lambda p: index.bm25.top(index.term_ids(p.terms), 10), parsed)
        search = _time_queries(lambda qa: service.searcher.search(service.parse(*qa), k=30), asked)
        ask = _time_queries(lambda qa: render_telegram(service.ask(qa[0], now=qa[1])), asked)
        stats = service.store.stats()
    return {
        "archive": str(archive),
        "articles": stats["articles"],
        "paragraphs": stats["paragraphs"],
        "ingest_s (0 when already in)": ingest_s,
        "questions": len(asked),
        "top10_ms_p50": top10[0],
        "top10_ms_p95": top10[1],
        "search_ms_p50": search[0],
        "search_ms_p95": search[1],
        "ask_ms_p50": ask[0],
        "ask_ms_p95": ask[1],
    }


def run_timeline(
    work: Path,
    source: Path = NEWS,
    *,
    db: Path | None = None,
    topics: tuple[str, ...] = TOPICS,
    repeats: int = 5,
) -> dict[str, Any]:
    """/timeline of each topic ``repeats`` times on the archive (``db``, else ingested under ``work``)."""
    if db is None:
        db = _archive(work, source)[0]
    elif not db.is_file():
        raise SystemExit(
            f"bench timeline: no database {db}; `newsbot --db {db} ingest {source}/articles.jsonl.gz`"
        )
    service = NewsService.open(load_settings(env={}, db=str(db)))
    with service.store:
        for other in ("经济", "教育", "北京"):
            timeline_message(
                service.timeline(other)
            )  # warm the index's memory maps, not the topics' own caches
        ms: dict[str, list[float]] = {t: [] for t in topics}
        drawn: dict[str, tuple[Timeline, int]] = {}
        for _ in range(repeats):
            for topic in topics:
                start = time.perf_counter()
                timeline = service.timeline(topic)
                text, _ = timeline_message(timeline)
                ms[topic].append((time.perf_counter() - start) * 1000)
                drawn[topic] = (timeline, telegram_length(text))
        stats = service.store.stats()
    everything = [m for times in ms.values() for m in times]
    p50, p95 = _percentiles(everything)
    first = topics[0]
    return {
        "database": str(db),
        "paragraphs": stats["paragraphs"],
        "topics": " ".join(topics),
        "timelines drawn": len(everything),
        "timeline_ms_p50": round(p50, 1),
        "timeline_ms_p95": round(p95, 1),
        "first draw of each topic ms_max": round(max(times[0] for times in ms.values()), 1),
        f"{first}_ms_first_draw": round(ms[first][0], 1),
        f"{first}_ms_p50": round(_percentiles(ms[first])[0], 1),
        "message_chars_max (limit 4096)": max(length for _, length in drawn.values()),
        "periods per timeline": " ".join(f"{t}:{len(tl.periods)}" for t, (tl, _) in drawn.items()),
        "every timeline in order with a dated passage": all(_in_order(tl) for tl, _ in drawn.values()),
    }


def _in_order(timeline: Timeline) -> bool:
    """Found, periods chronological and apart, each quoting an article dated within its own months."""
    months = [(p.first_month, p.last_month) for p in timeline.periods]
    return (
        timeline.found
        and bool(months)
        and all(first <= last for first, last in months)
        and all(earlier[1] < later[0] for earlier, later in pairwise(months))
        and all(
            p.passage is not None and p.passage.dated and p.first_month <= p.passage.day[:7] <= p.last_month
            for p in timeline.periods
        )
    )
