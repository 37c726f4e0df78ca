"""Retrieval on the real news archive, side by side with tantivy on the same tokens.

``python -m bench retrieval --news [--times 1,10]``: for each size (the archive in
``../shared/eval/news/`` once, and ``T`` times over: copies with their own ids, dates moved on by whole
years, each paragraph's sentences shuffled and its digits changed, so no copy repeats another's postings):

1. ingest + segment + index from the articles file in a fresh process: characters per second end to end,
   peak RSS (VmHWM), the index's size on disk and its segments;
2. tantivy (PyPI ``tantivy``, when installed) indexes exactly the tokens our index holds for each paragraph
   (whitespace tokenizer, term frequencies, no positions): its build time and size on disk;
3. the archive's reader questions (``dev-questions.jsonl``), parsed as the bot parses them (each on its
   ``asked_at`` day), give the query terms; top-10 of our index and of tantivy (a disjunction of term
   queries) are timed in three alternating rounds, one thread each, and the median of the rounds' p50 and
   p95 is reported with the ratio tantivy ÷ ours (above 1: we are faster); ours is also timed as served,
   a long segment searched in two halves at once (``ours_two_threads``). tantivy's BM25 is its own (k1
   1.2): only its speed is compared; our scores are checked against ``rank_bm25``'s by the differential
   tests;
4. the whole ``ask`` (parse, search, re-rank, compose, render) on the same questions;
5. load time and peak RSS of a fresh process serving the index (``bench.retrieval``'s probe).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.config import load_settings
from bot.render.telegram import render_telegram
from bot.service import NewsService
from corpus import Store, ingest_paths
from corpus.text import SENTENCE_END
from retrieval.doctokens import DocumentTokenizer

from .retrieval import _serve_probe, _time_queries, peak_rss_mb

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "news"
ROUNDS = 3
_DIGIT = re.compile(r"\d")


def _need(source: Path) -> tuple[Path, Path]:
    archive, questions = source / "articles.jsonl.gz", source / "dev-questions.jsonl"
    missing = [str(p) for p in (archive, questions) if not p.is_file()]
    if missing:
        raise SystemExit(
            "bench retrieval --news needs the news archive and its questions, not found: "
            + ", ".join(missing) + " (they live in ../shared/eval/news/ beside the repository)"
        )  # fmt: skip
    return archive, questions


def _variant(row: dict[str, Any], copy: int, rng: random.Random) -> dict[str, Any]:
    """One article of copy ``copy``: its own id, the date ``copy`` years on, sentences shuffled within
    each paragraph, digits changed."""
    out = dict(row)
    out["id"] = f"{row.get('id', '')}~{copy}"
    if row.get("date"):
        day = dt.date.fromisoformat(str(row["date"])[:10])
        out["date"] = day.replace(year=day.year + copy, day=min(day.day, 28)).isoformat()

    def digits(text: str) -> str:
        return _DIGIT.sub(lambda _: str(rng.randrange(10)), text)

    paragraphs = []
    for paragraph in str(row.get("text", "")).split("\n"):
        sentences = [s for s in re.split(f"(?<=[{SENTENCE_END}])", paragraph) if s]
        rng.shuffle(sentences)
        paragraphs.append(digits("".join(sentences)))
    out["text"] = "\n".join(paragraphs)
    out["title"] = digits(str(row.get("title", "")))
    return out


def corpus_file(archive: Path, times: int, work: Path) -> Path:
    """The archive itself (``times`` 1), else ``times`` copies of it in one file (made once)."""
    if times == 1:
        return archive
    target = work / f"news-x{times}.jsonl.gz"
    if target.is_file():
        return target
    with gzip.open(archive, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    partial = target.with_suffix(".partial")
    with gzip.open(partial, "wt", encoding="utf-8", compresslevel=1) as out:
        for copy in range(times):
            rng = random.Random(copy)
            for row in rows:
                out.write(
                    json.dumps(row if copy == 0 else _variant(row, copy, rng), ensure_ascii=False) + "\n"
                )
    partial.rename(target)
    return target


def _ingest_probe(db: Path, source: Path) -> dict[str, Any]:
    """Ingest and index ``source`` into a new ``db`` in a fresh process (for its peak RSS)."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.realdata", str(db), str(source)], capture_output=True, text=True
    )
    if proc.returncode:
        raise SystemExit(f"ingesting {source} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _ingest_main(db: Path, source: Path) -> None:
    """What ``newsbot ingest`` does: the file stored and indexed (as it commits), then the index saved."""
    start = time.perf_counter()
    ingested = start
    with Store(db) as store:

        def write(committed: Callable[[], None]) -> None:
            nonlocal ingested
            now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            ingest_paths(store, [source], now=now, on_file=lambda _: committed())
            ingested = time.perf_counter()

        service = NewsService.open(load_settings(env={}, db=str(db)), store=store, while_writing=write)
        built = time.perf_counter()
        stats = store.stats()
        segments = len(service.searcher.index.bm25.segments)
    chars = int(stats["characters"])
    print(
        json.dumps(
            {
                "paragraphs": stats["paragraphs"],
                "characters": chars,
                "ingest_s": round(ingested - start, 1),
                "index_s": round(built - ingested, 1),
                "end_to_end_M_chars_per_s": round(chars / (built - start) / 1e6, 3),
                "ingest_peak_rss_mb": peak_rss_mb(),
                "segments": segments,
            }
        )
    )


def _size_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def _tantivy(docs: Iterator[list[str]], folder: Path) -> tuple[Any, Callable[[Sequence[str]], Any], float]:
    """A tantivy index of the token lists (None when tantivy is not installed), its top-10 function and
    build seconds."""
    try:
        import tantivy
    except ImportError:
        return None, lambda _: None, 0.0
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
    schema = builder.build()
    folder.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(schema, path=str(folder))
    start = time.perf_counter()
    writer = index.writer(heap_size=500_000_000, num_threads=2)
    for tokens in docs:
        writer.add_document(tantivy.Document(body=" ".join(tokens)))
    writer.commit()
    writer.wait_merging_threads()
    built = time.perf_counter() - start
    index.reload()
    searcher = index.searcher()
    should = tantivy.Occur.Should

    def top10(terms: Sequence[str]) -> Any:
        query = tantivy.Query.boolean_query(
            [(should, tantivy.Query.term_query(schema, "body", t)) for t in terms]
        )
        return searcher.search(query, 10).hits

    return index, top10, round(built, 1)


def _rounds(
    runs: dict[str, Callable[[Any], object]], queries: Sequence[Any]
) -> dict[str, tuple[float, float]]:
    """Each engine timed over all queries, alternating, ``ROUNDS`` times: median p50 and p95 of the rounds."""
    for run in runs.values():
        for q in queries[:20]:
            run(q)
    per: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, run in runs.items():
            per[name].append(_time_queries(run, queries, warm=0))
    return {
        name: (
            round(statistics.median(p[0] for p in found), 3),
            round(statistics.median(p[1] for p in found), 3),
        )
        for name, found in per.items()
    }


def run_size(times: int, work: Path, source: Path = NEWS) -> dict[str, Any]:
    archive, questions_file = _need(source)
    corpus = corpus_file(archive, times, work)
    result: dict[str, Any] = {"archive": f"news ×{times}"}
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        db = Path(tmp) / "news.db"
        result.update(_ingest_probe(db, corpus))
        print(f"news ×{times} ingested: {result}", file=sys.stderr, flush=True)
        result["index_on_disk_mb"] = _size_mb(Path(str(db) + ".index"))
        rows = [json.loads(line) for line in questions_file.read_text(encoding="utf-8").splitlines() if line]
        asked = [
            (r["question"], dt.date.fromisoformat(r["asked_at"]) if r.get("asked_at") else None) for r in rows
        ]
        service = NewsService.open(load_settings(env={}, db=str(db)))
        with service.store:
            index = service.searcher.index
            parsed = [service.parse(q, now) for q, now in asked]
            terms = [list(p.terms) for p in parsed]
            doc_tokens = DocumentTokenizer(service.searcher.tokenizer, service.searcher.manager.title_copies)
            engine, tantivy_top10, built = _tantivy(
                (doc_tokens.tokens(row) for row in service.store.iter_index_rows(0)), Path(tmp) / "tantivy"
            )
            # One thread each (tantivy's searcher runs a query on one), and ours as served: a million
            # paragraphs searched in two halves at once on two cores.
            runs: dict[str, Callable[[Any], object]] = {
                "ours": lambda t: index.bm25.top(index.term_ids(t), 10, parallel=False),
                "ours_two_threads": lambda t: index.bm25.top(index.term_ids(t), 10),
            }
            if engine is not None:
                runs["tantivy"] = tantivy_top10
                result["tantivy_build_from_tokens_s"] = built
                result["tantivy_on_disk_mb"] = _size_mb(Path(tmp) / "tantivy")
                result["index_size_ratio_ours_to_tantivy"] = round(
                    result["index_on_disk_mb"] / result["tantivy_on_disk_mb"], 2
                )
            timed = _rounds(runs, terms)
            result["questions"] = len(terms)
            result["ours_top10_ms_p50"], result["ours_top10_ms_p95"] = timed["ours"]
            result["ours_two_threads_top10_ms_p50"], result["ours_two_threads_top10_ms_p95"] = timed[
                "ours_two_threads"
            ]
            if "tantivy" in timed:
                result["tantivy_top10_ms_p50"], result["tantivy_top10_ms_p95"] = timed["tantivy"]
                result["ratio_tantivy_to_ours_p50"] = round(timed["tantivy"][0] / timed["ours"][0], 2)
                result["ratio_tantivy_to_ours_p95"] = round(timed["tantivy"][1] / timed["ours"][1], 2)
            del engine, runs
            ask = _rounds({"ask": lambda qa: render_telegram(service.ask(qa[0], now=qa[1]))}, asked)["ask"]
            result["ask_ms_p50"], result["ask_ms_p95"] = ask
        shutil.rmtree(Path(tmp) / "tantivy", ignore_errors=True)
        probe = _serve_probe(db, [q for q, _ in asked])
        result.update(load_s=probe["load_s"], serving_peak_rss_mb=probe["serving_peak_rss_mb"])
    return result


def run(times: Sequence[int], work: Path, source: Path = NEWS) -> list[dict[str, Any]]:
    return [run_size(t, work, source) for t in times]


if __name__ == "__main__":
    _ingest_main(Path(sys.argv[1]), Path(sys.argv[2]))
