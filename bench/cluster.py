"""Cluster benchmark (``python -m bench cluster``): shards and bulk segmentation on a local Ray cluster.

One local cluster of two CPUs (this machine's), and four measurements:

- **exactness**: 2 and 4 shards against the single index, top 10 ids and scores of every question, on
  cmrc2018-train and the news archive (``../shared/eval/``; a set that is missing is reported as such);
- **overhead**: top-10 p50/p95 at 100k generated paragraphs, single index vs 4 shards held by 2 actors
  (the default on 2 CPUs) and by 4 (term ids in, ids and scores out, as ``bench retrieval`` times the index);
- **fault**: 1,000 questions on the 4 shards with one shard actor killed (its process ended, as a crash
  would) after the 200th: questions that raised, partial answers, seconds from the kill to the first
  whole answer;
- **bulk ingestion**: the news archive ``--copies`` times (variants: ids changed, so nothing is deduplicated;
  one file each) ingested and indexed three ways: one process (writing the files, then indexing them,
  segmenting in the process), and as ``newsbot ingest`` does it (each file indexed while the next is
  written) with the default local pool of up to 4 processes and with Ray tasks on 2 workers; seconds for
  each, the CPU seconds they took (two cores cannot finish in less than half of them), the speed-up over
  one process, and the peak memory of each Ray worker.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from corpus import Store, ingest_paths
from retrieval.cluster import Cluster
from retrieval.doctokens import ChunkMap, ChunkTerms, DocumentTokenizer, Row
from retrieval.index import IndexManager, SearchIndex
from retrieval.tokenize import Tokenizer, default_userdict

from .corpusgen import write_jsonl
from .news import NEWS
from .retrieval import _time_queries, make_queries

CMRC = NEWS.parent / "cmrc2018-train"
NOW = "2023-01-01T00:00:00+00:00"
_KILL_AT = 200


PARTS = ("exact", "overhead", "fault", "bulk")


def run(
    work: Path, *, copies: int = 4, questions: int = 1000, parts: Sequence[str] = PARTS
) -> dict[str, Any]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    tok = Tokenizer(default_userdict())
    out: dict[str, Any] = {"ray": ray.__version__, "cpus": 2, "load_average_at_start": os.getloadavg()[0]}
    try:
        if "exact" in parts:
            out.update(_exactness(work, tok))
        if "overhead" in parts or "fault" in parts:
            index, queries = _generated(work, tok, 100_000, questions)
            if "overhead" in parts:
                out.update(_overhead(index, queries[:200]))
            if "fault" in parts:
                out.update(_fault(index, queries))
        if "bulk" in parts:
            out.update(_bulk(work, tok, copies))
    finally:
        ray.shutdown()
    return out


# --- exactness -------------------------------------------------------------------------------------------


def _exactness(work: Path, tok: Tokenizer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    sets = {
        "cmrc2018": (CMRC / "corpus.jsonl", CMRC / "queries.jsonl", "question"),
        "news": (NEWS / "articles.jsonl.gz", NEWS / "dev-questions.jsonl", "question"),
    }
    for name, (corpus, questions_file, key) in sets.items():
        if not corpus.is_file() or not questions_file.is_file():
            out[f"exact_{name}"] = f"skipped: {corpus} or {questions_file} is missing"
            continue
        index = _open(work / "cluster" / f"{name}.db", [corpus], tok)
        texts = [
            json.loads(line)[key] for line in questions_file.read_text(encoding="utf-8").splitlines() if line
        ]
        if name == "news":  # 240 reader questions; more from the archive's own paragraphs
            with Store(work / "cluster" / f"{name}.db") as store:
                texts += make_queries(store, tok, 760, seed=5)
        queries = [index.term_ids(tok.query_terms(t)) for t in texts]
        for shards in (2, 4):
            cluster = Cluster.connect("local", shards=shards, deadline=30)
            sharded = cluster.serve(index)
            differ, worst = 0, 0.0
            for ids in queries:
                want, got = index.bm25.top(ids, 10), sharded.bm25.top(ids, 10)
                differ += got.docs.tolist() != want.docs.tolist()
                if want.scores.shape[0] and got.scores.shape == want.scores.shape:
                    worst = max(worst, float(np.max(np.abs(got.scores - want.scores) / np.abs(want.scores))))
            out[f"exact_{name}_{shards}_shards"] = (
                f"{len(queries)} questions over {index.n_paragraphs} paragraphs: {differ} top-10 id lists "
                f"differ, max relative score difference {worst:.1e}, partial {cluster.stats['partial_searches']}"
            )
            cluster.close()
    return out


def _open(db: Path, inputs: Sequence[Path], tok: Tokenizer, chunk_map: ChunkMap | None = None) -> SearchIndex:
    """The index of ``inputs`` ingested into ``db`` (once: later runs find the files unchanged)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    with Store(db) as store:
        ingest_paths(store, inputs, now=NOW)
        return IndexManager(Path(str(db) + ".index"), tok, chunk_map=chunk_map).open(store)


# --- overhead and fault ------------------------------------------------------------------------------


def _generated(work: Path, tok: Tokenizer, paragraphs: int, n: int) -> tuple[SearchIndex, list[list[int]]]:
    source = write_jsonl(work / f"corpus-{paragraphs}.jsonl", paragraphs)
    db = work / "cluster" / f"generated-{paragraphs}.db"
    index = _open(db, [source], tok)
    with Store(db) as store:
        texts = make_queries(store, tok, n)
    return index, [index.term_ids(tok.query_terms(t)) for t in texts]


def _overhead(index: SearchIndex, queries: list[list[int]]) -> dict[str, Any]:
    """Single index against 4 shards: held by as many actors as there are CPUs (the default: 2 here, two
    shards each) and by one actor each; the two sharded runs alternate with the single index's."""
    import ray

    single: list[tuple[float, float]] = []
    out: dict[str, Any] = {}
    for actors, name in ((None, "4_shards_2_actors"), (4, "4_shards_4_actors")):
        cluster = Cluster.connect("local", shards=4, deadline=30, actors=actors)
        sharded = cluster.serve(index)
        single.append(_time_queries(lambda q: index.bm25.top(q, 10), queries, warm=10))
        sharded_ms = _time_queries(lambda q, s=sharded: s.bm25.top(q, 10), queries, warm=10)
        ping_ms = _time_queries(
            lambda q, c=cluster: ray.get([a.ready.remote() for a in c.actors]), queries, warm=10
        )
        out[f"overhead_{name}_top10_ms_p50_p95"] = sharded_ms
        out[f"overhead_{name}_p50_ms"] = round(sharded_ms[0] - single[-1][0], 2)
        out[f"empty_call_{name}_ms_p50_p95"] = ping_ms
        out[f"actor_rss_mb_{name}"] = ", ".join(
            f"{rss / 2**20:.0f}" for rss in sorted(_ray_processes("ray::_Shard").values())
        )
        cluster.close()
    postings = sum(s.packed.nbytes for s in index.bm25.segments)
    return {
        "overhead_paragraphs": index.n_paragraphs,
        "index_vocabulary_terms": index.n_terms,
        "index_postings_bytes_per_paragraph": round(postings / index.n_paragraphs, 1),
        "overhead_single_top10_ms_p50_p95": " and ".join(map(str, single)),
        **out,
    }


def _fault(index: SearchIndex, queries: list[list[int]]) -> dict[str, Any]:
    import ray

    cluster = Cluster.connect("local", shards=4, deadline=1.0)
    sharded = cluster.serve(index)
    raised = partial = 0
    killed_at: float | None = None
    resumed_s: float | None = None  # from the kill to the first whole answer after a partial one
    started = time.perf_counter()
    for n, ids in enumerate(queries):
        if n == _KILL_AT:
            ray.kill(cluster.actors[1], no_restart=False)
            killed_at = time.perf_counter()
        before = cluster.stats["partial_searches"]
        try:
            sharded.bm25.top(ids, 10)
        except Exception:  # counted: the target is that none is raised
            raised += 1
        was_partial = cluster.stats["partial_searches"] > before
        partial += was_partial
        if killed_at is not None and partial and resumed_s is None and not was_partial:
            resumed_s = time.perf_counter() - killed_at
    total = time.perf_counter() - started
    cluster.close()
    return {
        "fault_questions": len(queries),
        "fault_raised": raised,
        "fault_partial_answers": partial,
        "fault_resumed_after_s": round(resumed_s, 2) if resumed_s is not None else "never",
        "fault_run_s": round(total, 1),
    }


# --- bulk ingestion ----------------------------------------------------------------------------------


def _bulk(work: Path, tok: Tokenizer, copies: int) -> dict[str, Any]:
    archive = NEWS / "articles.jsonl.gz"
    if not archive.is_file():
        return {"bulk": f"skipped: {archive} is missing"}
    inputs = _variants(archive, work / "cluster" / "variants", copies)
    cluster = Cluster.connect("local")
    # The reference: one process, writing the files and then indexing them, segmenting itself. The other
    # two run as ``newsbot ingest`` does: each file indexed while the next is written (IndexManager.follow).
    ways: dict[str, tuple[ChunkMap | None, bool]] = {
        "one_process": (_in_process, False),
        "local_pool": (None, True),
        "ray_2_workers": (cluster.analyse_chunks, True),
    }
    out: dict[str, Any] = {"bulk_input": f"news archive x{copies}, {len(inputs)} files"}
    seconds: dict[str, float] = {}
    for name, (chunk_map, following) in ways.items():
        with tempfile.TemporaryDirectory(dir=work) as tmp, _WorkerPeaks() as peaks, _BuildPhases() as phases:
            db = Path(tmp) / "bulk.db"
            start, cpu = time.perf_counter(), _cpu_seconds()
            with Store(db) as store:
                manager = IndexManager(Path(str(db) + ".index"), tok, chunk_map=chunk_map)
                stored = start
                if following:

                    def write(committed: Any, store: Store = store) -> float:
                        ingest_paths(store, inputs, now=NOW, on_file=lambda _: committed())
                        return time.perf_counter()

                    stored = manager.follow(store, write)
                else:
                    ingest_paths(store, inputs, now=NOW)
                    stored = time.perf_counter()
                    manager.open(store)
                index = manager.current
                chars = store.stats()["characters"]
            done = time.perf_counter()
            cpu = _cpu_seconds() - cpu
        after = "index after it" if not following else "indexing beside it, then finishing"
        out[f"bulk_{name}_s"] = (
            f"{done - start:.1f} (writing {stored - start:.1f}, {after} {done - stored:.1f})"
        )
        out[f"bulk_{name}_chars_per_s"] = round(chars / (done - start))
        out[f"bulk_{name}_cpu_s"] = f"{cpu:.1f} ({cpu / (done - start):.2f} cores busy on average)"
        out[f"bulk_{name}_index_phases_s"] = phases.summary()
        if name == "ray_2_workers":
            out["bulk_ray_worker_peak_rss_mb"] = peaks.summary()
        out.setdefault("bulk_paragraphs", index.n_paragraphs)
        seconds[name] = done - start
    for name in ("local_pool", "ray_2_workers"):
        out[f"bulk_speedup_{name}_vs_one_process"] = round(seconds["one_process"] / seconds[name], 2)
    return out


def _in_process(doc_tokens: DocumentTokenizer, pieces: Sequence[Sequence[Row]]) -> Iterator[ChunkTerms]:
    return map(doc_tokens.chunk, pieces)


def _variants(archive: Path, folder: Path, copies: int) -> list[Path]:
    """``copies`` versions of the archive whose articles have their own ids (else each copy would replace
    the one before); the text is the archive's, so segmentation does the same work each time."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(copies):
        path = folder / f"variant-{n}.jsonl"
        if not path.is_file():
            with gzip.open(archive, "rt", encoding="utf-8") as src, path.open("w", encoding="utf-8") as dst:
                for line in src:
                    record = json.loads(line)
                    record["id"] = f"{record.get('id', '')}~{n}"
                    dst.write(json.dumps(record, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


class _WorkerPeaks:
    """Peak resident memory of each Ray worker process (``ray::`` in its title), sampled every 0.2 s."""

    def __init__(self) -> None:
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> _WorkerPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for pid, rss in _ray_processes("ray::").items():
                self.peaks[pid] = max(self.peaks.get(pid, 0), rss)

    def summary(self) -> str:
        busy = sorted((rss for rss in self.peaks.values()), reverse=True)
        return ", ".join(f"{rss / 2**20:.0f}" for rss in busy[:4]) or "no worker seen"


class _BuildPhases(logging.Handler):
    """The index build's own timing of its phases (its debug log): segmenting and mapping terms (in the
    driver or waiting for the workers), of which mapping ids to the vocabulary, and building postings."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.terms = self.mapping = self.postings = 0.0
        self._logger = logging.getLogger("retrieval.index")
        self._level = self._logger.level

    def __enter__(self) -> _BuildPhases:
        self._logger.addHandler(self)
        self._logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("indexed %d paragraphs") and isinstance(record.args, tuple):
            _, terms, mapping, postings = record.args
            self.terms += float(terms)  # type: ignore[arg-type]
            self.mapping += float(mapping)  # type: ignore[arg-type]
            self.postings += float(postings)  # type: ignore[arg-type]

    def summary(self) -> str:
        return f"terms {self.terms:.1f} (id mapping {self.mapping:.1f}), postings {self.postings:.1f}"


def _cpu_seconds() -> float:
    """CPU seconds spent so far by this process, its finished children (the worker pools) and the Ray
    worker processes (not children: the raylet starts them)."""
    t = os.times()
    ray_workers = 0.0
    for p in psutil.process_iter(["cmdline", "cpu_times"]):
        if " ".join(p.info["cmdline"] or []).startswith("ray::") and p.info["cpu_times"] is not None:
            ray_workers += p.info["cpu_times"].user + p.info["cpu_times"].system
    return t.user + t.system + t.children_user + t.children_system + ray_workers


def _ray_processes(prefix: str) -> dict[int, int]:
    """Resident memory of the Ray worker processes whose title starts with ``prefix``, by pid."""
    found = {}
    for p in psutil.process_iter(["pid", "name", "cmdline", "memory_info"]):
        title = " ".join(p.info["cmdline"] or [p.info["name"] or ""])
        if title.startswith(prefix) and p.info["memory_info"] is not None:
            found[p.info["pid"]] = p.info["memory_info"].rss
    return found
