"""Retrieval benchmark: build, load, query and update the index at several corpus sizes.

For each size it reports, in one run on the same tokens: ingest + segment + index throughput, top-10 query
p50/p95 of our index, the whole ``ask`` (segment, retrieve, re-rank, compose, render; timed after as many
other questions have warmed the caches of a serving bot), of ``rank_bm25`` (on a sample of queries: it is
slow) and of ``bm25s`` when installed, with ratios; the time to load the persisted index and the peak RSS
of a process serving it (measured in a fresh subprocess); the cost of adding one day's 1,000 paragraphs.
Scores are checked to be rank_bm25's on the sampled queries.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import load_settings
from bot.render.telegram import render_telegram
from bot.service import NewsService
from corpus import Store, ingest_file
from retrieval.doctokens import DocumentTokenizer
from retrieval.index import IndexManager
from retrieval.search import Searcher
from retrieval.tokenize import Tokenizer, default_userdict

from .corpusgen import write_jsonl

NOW = "2023-01-01T00:00:00+00:00"


def _percentiles(ms: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _time_queries(
    run: Callable[[Any], object], queries: Sequence[Any], *, warm: int = 3
) -> tuple[float, float]:
    """p50 and p95 in milliseconds (to the microsecond) of ``run`` over ``queries``, after the first
    ``warm`` of them warmed the caches."""
    for q in queries[:warm]:
        run(q)
    ms = []
    for q in queries:
        start = time.perf_counter()
        run(q)
        ms.append((time.perf_counter() - start) * 1000)
    p50, p95 = _percentiles(ms)
    return round(p50, 3), round(p95, 3)


def peak_rss_mb() -> int:
    """This process's peak resident memory in MB: VmHWM, not getrusage, whose ru_maxrss survives exec and
    would report the parent's peak."""
    status = Path("/proc/self/status").read_text()
    return round(int(status.split("VmHWM:")[1].split()[0]) / 1024)


def make_queries(store: Store, tok: Tokenizer, n: int, seed: int = 11) -> list[str]:
    """Questions built from words of random paragraphs (3–6 content words, as users type them)."""
    rng = random.Random(seed)
    state = store.state()
    out = []
    while len(out) < n:
        pid = rng.randint(1, state.max_paragraph_id)
        found = store.paragraphs_with_articles([pid])
        if not found:
            continue
        words = [w for w in tok.content_words(found[pid][0].text) if len(w) > 1]
        if len(words) >= 3:
            out.append("".join(rng.sample(words, min(len(words), rng.randint(3, 6)))))
    return out


def run_size(
    paragraphs: int, work: Path, *, reference_max: int, n_queries: int, n_reference: int
) -> dict[str, Any]:
    source = write_jsonl(work / f"corpus-{paragraphs}.jsonl", paragraphs)
    next_day = dt.date(2023, 1, 1) + dt.timedelta(days=paragraphs // 1000 + 1)
    extra = write_jsonl(
        work / f"extra-{paragraphs}.jsonl", 1000, seed=99, start_id=paragraphs, start=next_day
    )
    result: dict[str, Any] = {"paragraphs": paragraphs}
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        db = Path(tmp) / "bench.db"
        tok = Tokenizer(default_userdict())
        with Store(db) as store:
            start = time.perf_counter()
            ingest_file(store, source, now=NOW)
            ingested = time.perf_counter()
            manager = IndexManager(Path(str(db) + ".index"), tok)
            index = manager.open(store)
            built = time.perf_counter()
            chars = store.stats()["characters"]
            result.update(
                characters=chars,
                ingest_s=round(ingested - start, 2),
                index_s=round(built - ingested, 2),
                end_to_end_chars_per_s=round(chars / (built - start)),
                vocabulary=index.n_terms,
                postings=int(sum(s.n_postings for s in index.bm25.segments)),
            )
            questions = make_queries(store, tok, n_queries)
            query_tokens = [tok.query_terms(q) for q in questions]
            # The index query proper, as rank_bm25 and bm25s are timed: tokens in, top 10 ids and scores out, one thread.
            result["ours_top10_ms_p50"], result["ours_top10_ms_p95"] = _time_queries(
                lambda q: index.bm25.top(index.term_ids(q), 10, parallel=False), query_tokens
            )
            # From the question text: segmentation, ranking and the matched terms of each hit.
            result["ours_search_ms_p50"], result["ours_search_ms_p95"] = _time_queries(
                lambda q: manager.current.rank(tok.query_terms(q), 10), questions
            )

            service = NewsService(load_settings(env={}, db=str(db)), store, Searcher(store, manager))
            for q in make_queries(store, tok, n_queries, seed=12):
                render_telegram(service.ask(q))  # a bot that has been answering (other) questions for a while
            result["ask_ms_p50"], result["ask_ms_p95"] = _time_queries(
                lambda q: render_telegram(service.ask(q)), questions
            )

            ingest_file(store, extra, now=NOW)
            start = time.perf_counter()
            manager.refresh(store)
            result["add_1000_paragraphs_ms"] = round((time.perf_counter() - start) * 1000, 1)

            if paragraphs <= reference_max:
                result.update(_compare(store, tok, manager, query_tokens[:n_reference], query_tokens))
        result.update(_serve_probe(db, questions))
    return result


def _compare(
    store: Store, tok: Tokenizer, manager: IndexManager, sample: list[list[str]], queries: list[list[str]]
) -> dict[str, Any]:
    """rank_bm25 and bm25s on exactly the token lists our index holds."""
    import rank_bm25

    doc_tokens = DocumentTokenizer(tok, manager.title_copies)
    corpus = [doc_tokens.tokens(row) for row in store.iter_index_rows(0)]
    index = manager.current
    out: dict[str, Any] = {}
    start = time.perf_counter()
    reference = rank_bm25.BM25Okapi(corpus)
    out["rank_bm25_build_s"] = round(time.perf_counter() - start, 1)
    worst = 0.0
    ms = []
    for q in sample:
        t0 = time.perf_counter()
        scores = reference.get_scores(q)
        top = np.argsort(-scores, kind="stable")[:10]
        ms.append((time.perf_counter() - t0) * 1000)
        ours = index.bm25.top(index.term_ids(q), 10)
        expected = scores[top][scores[top] > 0]
        worst = max(worst, float(np.max(np.abs(ours.scores - expected) / expected)) if expected.size else 0.0)
    out["rank_bm25_top10_ms_p50"], out["rank_bm25_top10_ms_p95"] = _percentiles(ms)
    out["max_relative_score_difference"] = worst
    ours_p50 = _time_queries(lambda q: index.bm25.top(index.term_ids(q), 10, parallel=False), sample)[0]
    out["speedup_vs_rank_bm25"] = round(out["rank_bm25_top10_ms_p50"] / ours_p50, 1)
    del reference
    gc.collect()
    try:
        import bm25s
    except ImportError:
        return out
    engine = bm25s.BM25(method="robertson", k1=1.5, b=0.75)
    engine.index(corpus, show_progress=False)
    known = set(engine.vocab_dict)
    runnable = [[t for t in q if t in known] or ["\0"] for q in queries]
    out["bm25s_top10_ms_p50"], out["bm25s_top10_ms_p95"] = _time_queries(
        lambda q: engine.retrieve([q], k=10, show_progress=False, n_threads=1), runnable
    )
    ours = _time_queries(lambda q: index.bm25.top(index.term_ids(q), 10, parallel=False), queries)[0]
    out["speedup_vs_bm25s"] = round(out["bm25s_top10_ms_p50"] / ours, 2)
    return out


def _serve_probe(db: Path, questions: list[str]) -> dict[str, Any]:
    """Load the persisted index in a fresh process, answer queries, report load time and peak RSS."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.retrieval", str(db)],
        input=json.dumps(questions, ensure_ascii=False),
        capture_output=True,
        text=True,
        check=True,
    )
    probe: dict[str, Any] = json.loads(proc.stdout)
    return probe


def _probe_main(db: Path) -> None:
    questions = json.loads(sys.stdin.read())
    tok = Tokenizer(default_userdict())
    store = Store(db)
    start = time.perf_counter()
    manager = IndexManager(Path(str(db) + ".index"), tok)
    index = manager.open(store)
    load_s = time.perf_counter() - start
    p50, p95 = _time_queries(lambda q: index.bm25.top(index.term_ids(tok.query_terms(q)), 10), questions)
    print(
        json.dumps(
            {
                "load_s": round(load_s, 2),
                "served_search_ms_p50": p50,
                "served_search_ms_p95": p95,
                "serving_peak_rss_mb": peak_rss_mb(),
            }
        )
    )


def run(
    sizes: Sequence[int],
    work: Path,
    *,
    reference_max: int = 100_000,
    n_queries: int = 200,
    n_reference: int = 20,
) -> list[dict[str, Any]]:
    return [
        run_size(n, work, reference_max=reference_max, n_queries=n_queries, n_reference=n_reference)
        for n in sizes
    ]


if __name__ == "__main__":
    _probe_main(Path(sys.argv[1]))
