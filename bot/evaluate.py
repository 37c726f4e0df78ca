"""``newsbot eval``: retrieval and answer quality on a question set with gold articles and answers.

Query file (JSON Lines): ``{"qid", "question", "answers": [...], "positive_ids": [...]}`` where
``positive_ids`` are articles' external ids (the ``id`` field of ingested JSON Lines). Recall@k and MRR@10
rank *articles* by their best paragraph.

Answer figures (unless retrieval only):

- ``answer_in_reply``: share of questions with gold answers whose answer string appears in the first
  Telegram reply as a reader sees it (tags stripped);
- ``answerable_refused``: share of those the bot refused (said nothing relevant was found);
- ``unanswerable_answered``: the same questions asked with their own article taken out of the ranking
  (collection statistics unchanged), where refusing is right: share that still got an answer;
- ``no_answer_answered``: questions listed with no answers and no positives (e.g. seed questions about
  things the corpus lacks): share that got an answer;
- ``ask_ms_p50/p95``: search + compose + render time per question.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.compose import ComposeOptions

from .render import render_telegram, strip_tags
from .service import NewsService

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
    answers: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "queries": self.queries,
            **{f"recall@{k}": round(v, 4) for k, v in self.recall.items()},
            "mrr@10": round(self.mrr10, 4),
            "latency_ms_p50": round(self.latency_ms_p50, 3),
            "latency_ms_p95": round(self.latency_ms_p95, 3),
            **{k: round(v, 4) for k, v in self.answers.items()},
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
    service: NewsService,
    queries: Iterable[EvalQuery],
    ks: tuple[int, ...] = (1, 5, 10, 20),
    *,
    progress: Callable[[int], None] | None = None,
    answers: bool = True,
    plain_windows: bool = False,
    second_stage: bool = True,
) -> EvalReport:
    """Rank each query's positive article and time each search; with ``answers``, compose and judge replies."""
    searcher = service.searcher
    if plain_windows:
        service.options = ComposeOptions(
            per_page=service.options.per_page,
            window_chars=service.options.window_chars,
            use_question_type=False,
        )
    queries = list(queries)
    depth = max(*ks, 10)
    recall_hits = dict.fromkeys(ks, 0)
    reciprocal = 0.0
    latencies: list[float] = []
    misses: list[str] = []
    n = 0
    for q in queries:
        if not q.positive_ids:
            continue
        start = time.perf_counter()
        result = searcher.search(q.question, k=depth * 3, second_stage=second_stage)
        latencies.append((time.perf_counter() - start) * 1000)
        rank = _article_rank(
            [(h.article.id, h.article.external_id) for h in result.hits], set(q.positive_ids)
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
    report = EvalReport(
        n, ks, {k: recall_hits[k] / n for k in ks}, reciprocal / n, *_percentiles(latencies), misses
    )
    if answers:
        report.answers = _answer_figures(service, queries, searcher.store.external_ids())
    return report


def _answer_figures(
    service: NewsService, queries: list[EvalQuery], external: dict[int, str | None]
) -> dict[str, float]:
    by_external = {ext: aid for aid, ext in external.items() if ext is not None}
    in_reply = refused = wrongly_answered = answerable = 0
    no_answer = no_answer_answered = 0
    times: list[float] = []
    for q in queries:
        if not q.positive_ids and not q.answers:
            no_answer += 1
            no_answer_answered += service.ask(q.question).answered
            continue
        if not q.answers:
            continue
        answerable += 1
        start = time.perf_counter()
        answer = service.ask(q.question)
        shown = strip_tags(render_telegram(answer))
        times.append((time.perf_counter() - start) * 1000)
        in_reply += answer.answered and any(a in shown for a in q.answers)
        refused += not answer.answered
        own = frozenset(by_external[p] for p in q.positive_ids if p in by_external)
        if own:
            wrongly_answered += service.ask(q.question, exclude_articles=own).answered
    figures: dict[str, float] = {}
    if answerable:
        p50, p95 = _percentiles(times)
        figures.update(
            answer_in_reply=in_reply / answerable,
            answerable_refused=refused / answerable,
            unanswerable_answered=wrongly_answered / answerable,
            ask_ms_p50=p50,
            ask_ms_p95=p95,
        )
    if no_answer:
        figures["no_answer_answered"] = no_answer_answered / no_answer
    return figures


def _percentiles(ms: list[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


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
