"""``newsbot eval``: retrieval and answer quality on a question set with gold articles and answers.

Query file (JSON Lines): ``{"qid", "question", "answers": [...], "positive_ids": [...]}`` where
``positive_ids`` are articles' external ids (the ``id`` field of ingested JSON Lines). Recall@k and MRR@10
rank *articles* by their best paragraph.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.search import Searcher

__all__ = ["EvalQuery", "EvalReport", "evaluate", "load_queries"]


class EvalInputError(ValueError):
    """The query file cannot be used; the message names the line."""


@dataclass(frozen=True)
class EvalQuery:
    qid: str
    question: str
    answers: tuple[str, ...]
    positive_ids: tuple[str, ...]


@dataclass
class EvalReport:
    queries: int
    ks: tuple[int, ...]
    recall: dict[int, float]
    mrr10: float
    latency_ms_p50: float
    latency_ms_p95: float
    misses: list[str] = field(default_factory=list)  # qids whose positive is not in the top max(k)

    def as_dict(self) -> dict[str, Any]:
        return {
            "queries": self.queries,
            **{f"recall@{k}": round(v, 4) for k, v in self.recall.items()},
            "mrr@10": round(self.mrr10, 4),
            "latency_ms_p50": round(self.latency_ms_p50, 3),
            "latency_ms_p95": round(self.latency_ms_p95, 3),
        }


def load_queries(path: Path) -> list[EvalQuery]:
    """Read a query file.

    Raises:
        EvalInputError: a line is not JSON or lacks ``question``/``positive_ids``.
    """
    out = []
    with path.open(encoding="utf-8-sig") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
                out.append(
                    EvalQuery(
                        str(q.get("qid", n)),
                        str(q["question"]),
                        tuple(str(a) for a in q.get("answers") or ()),
                        tuple(str(p) for p in q.get("positive_ids") or ()),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise EvalInputError(f"{path}:{n}: needs a JSON object with `question` ({exc})") from None
    return out


def evaluate(
    searcher: Searcher,
    queries: Iterable[EvalQuery],
    ks: tuple[int, ...] = (1, 5, 10, 20),
    *,
    progress: Callable[[int], None] | None = None,
) -> EvalReport:
    """Rank each query's positive article; time each search."""
    depth = max(*ks, 10)
    recall_hits = dict.fromkeys(ks, 0)
    reciprocal = 0.0
    latencies: list[float] = []
    misses: list[str] = []
    external = searcher.store.external_ids()
    n = 0
    for q in queries:
        if not q.positive_ids:
            continue
        start = time.perf_counter()
        _, ranked = searcher.rank(q.question, k=depth * 3)
        latencies.append((time.perf_counter() - start) * 1000)
        rank = _article_rank(
            [(r.article_id, external.get(r.article_id)) for r in ranked], set(q.positive_ids)
        )
        for k in ks:
            recall_hits[k] += rank is not None and rank <= k
        if rank is not None and rank <= 10:
            reciprocal += 1 / rank
        if rank is None or rank > max(ks):
            misses.append(q.qid)
        n += 1
        if progress:
            progress(n)
    if not n:
        raise EvalInputError("no query has positive_ids to score")
    lat = sorted(latencies)
    return EvalReport(
        n,
        ks,
        {k: recall_hits[k] / n for k in ks},
        reciprocal / n,
        statistics.median(lat),
        lat[min(len(lat) - 1, int(0.95 * len(lat)))],
        misses,
    )


def _article_rank(articles: list[tuple[int, str | None]], positives: set[str]) -> int | None:
    """1-based rank of the first positive article, counting each article once."""
    seen: set[int] = set()
    for article_id, external_id in articles:
        if article_id in seen:
            continue
        seen.add(article_id)
        if external_id in positives:
            return len(seen)
    return None
