"""Ingest throughput: parse + store a generated JSON Lines corpus (no index). Target ≥ 50,000 paragraphs/s."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from corpus import Store, ingest_file

from .corpusgen import write_jsonl


def run(paragraphs: int = 100_000, work: Path = Path("bench/out"), repeat: int = 3) -> dict[str, Any]:
    """Best of ``repeat`` runs, each into a fresh database."""
    source = write_jsonl(work / f"corpus-{paragraphs}.jsonl", paragraphs)
    timings = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.db") as store:
            start = time.perf_counter()
            result = ingest_file(store, source, now="2023-01-01T00:00:00+00:00")
            timings.append(time.perf_counter() - start)
            if result.paragraphs != paragraphs:
                raise RuntimeError(f"ingested {result.paragraphs} of {paragraphs} paragraphs: {result}")
    best = min(timings)
    return {
        "paragraphs": paragraphs,
        "megabytes": round(source.stat().st_size / 1e6, 1),
        "seconds": round(best, 3),
        "paragraphs_per_second": round(paragraphs / best),
    }
