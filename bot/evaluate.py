"""``newsbot eval``: retrieval and answer quality on a question set with gold articles and answers.

Query file (JSON Lines): ``{"qid", "question", "answers": [...], "positive_ids": [...]}`` where
``positive_ids`` are articles' external ids (the ``id`` field of ingested JSON Lines); optional
``asked_at`` (YYYY-MM-DD) is the day the question was asked, which 上个月 and 去年 are counted from
(otherwise ``--now``, else today). Recall@k and MRR@10 rank *articles* by their best paragraph.

Answer figures (unless retrieval only):

- ``answer_in_reply``: share of questions with gold answers whose answer string appears in the first
  Telegram reply as a reader sees it (tags stripped);
- ``answerable_refused``: share of those the bot refused (said nothing relevant was found);
- ``unanswerable_answered``: the same questions asked with their own article taken out of the ranking
  (collection statistics unchanged), where refusing is right: share that still got an answer;
- ``no_answer_refused``: questions listed with no answers and no positives (about things the archive
  lacks, or a period it does not reach): share refused, as is right;
- ``short_shown``: of the answered questions with gold answers, the share given a one-line short answer;
  ``short_right``: of those, the share whose short answer equals, contains or is contained in a gold
  answer (compared without punctuation, quotes and spaces, in simplified characters);
- ``right_date``: of the answered questions that name a time, the share whose first passage comes from
  an article dated in the question's period (publication lag included; undated articles not counted);
- ``ask_ms_p50/p95``: parse + search + compose + render time per question.

The same figures are given per slice — questions with an absolute time (2023年…), a relative one (rows
with ``asked_at``: 上个月…), no time, traditional characters — and per half of the file (odd and even
rows), so a choice tuned on one half is seen on the other.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.compose import ComposeOptions

from .render.telegram import render_telegram, strip_tags
from .service import NewsService

__all__ = ["EvalQuery", "EvalReport", "evaluate", "evaluate_follow_ups", "load_queries"]

ABSOLUTE, RELATIVE, NO_TIME, TRADITIONAL = "absolute time", "relative time", "no time", "traditional"
HALVES = ("half A (odd rows)", "half B (even rows)")


class EvalInputError(ValueError):
    """The query file cannot be used; the message names the line."""


@dataclass(frozen=True, kw_only=True)
class EvalQuery:
    qid: str
    question: str
    answers: tuple[str, ...]
    positive_ids: tuple[str, ...]
    asked_at: dt.date | None = None
    line: int = 0


@dataclass(frozen=True, kw_only=True)
class _Row:
    """What one query gave."""

    groups: tuple[str, ...]
    rank: int | None = None  # of the first positive article; None: not in the ranking
    ranked: bool = False  # has positives to rank
    search_ms: float = 0.0
    answerable: bool = False
    answered: bool = False
    in_reply: bool = False
    right_date: bool | None = None
    short_shown: bool = False
    short_right: bool = False
    own_removed_answered: bool | None = None
    no_answer: bool = False
    ask_ms: float | None = None


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
    groups: dict[str, dict[str, float]] = field(default_factory=dict)  # slice or half -> figures

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
        EvalInputError: a line is not JSON or lacks ``question``, or ``asked_at`` is not a date.
    """
    out = []
    with path.open(encoding="utf-8-sig") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
                asked_at = q.get("asked_at")
                out.append(
                    EvalQuery(
                        qid=str(q.get("qid", n)),
                        question=str(q["question"]),
                        answers=tuple(str(a) for a in q.get("answers") or ()),
                        positive_ids=tuple(str(p) for p in q.get("positive_ids") or ()),
                        asked_at=dt.date.fromisoformat(asked_at) if asked_at else None,
                        line=n,
                    )
                )
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
                raise EvalInputError(
                    f"{path}:{n}: needs a JSON object with `question` (and `asked_at` as YYYY-MM-DD) ({exc})"
                ) from None
    return out


def evaluate(
    service: NewsService,
    queries: Iterable[EvalQuery],
    ks: tuple[int, ...] = (1, 5, 10, 20),
    *,
    now: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
    answers: bool = True,
    options: ComposeOptions | None = None,
    second_stage: bool = True,
) -> EvalReport:
    """Rank each query's positive article and time each search; with ``answers``, compose and judge replies.

    ``now`` is the day questions without ``asked_at`` are asked on (default: today); ``options`` replace
    the service's composer options for these answers.
    """
    queries = list(queries)
    if not any(q.positive_ids for q in queries):
        raise EvalInputError("no query has positive_ids to score")
    external = service.store.external_ids()
    by_external = {ext: aid for aid, ext in external.items() if ext is not None}
    depth = max(*ks, 10)
    rows = []
    for n, q in enumerate(queries, start=1):
        rows.append(_evaluate_one(service, q, by_external, depth, now, answers, options, second_stage))
        if progress:
            progress(n)
    ranked = [r for r in rows if r.ranked]
    overall = _figures(rows, ks)
    report = EvalReport(
        len(ranked),
        ks,
        {k: overall[f"recall@{k}"] for k in ks},
        overall["mrr@10"],
        *_percentiles([r.search_ms for r in ranked]),
        [
            q.qid
            for q, r in zip(queries, rows, strict=True)
            if r.ranked and (r.rank is None or r.rank > max(ks))
        ],
    )
    if answers:
        report.answers = {
            k: v for k, v in overall.items() if not k.startswith(("recall@", "mrr@", "questions"))
        }
    for group in (ABSOLUTE, RELATIVE, NO_TIME, TRADITIONAL, *HALVES):
        members = [r for r in rows if group in r.groups]
        if members and len(members) < len(rows):
            report.groups[group] = _figures(members, ks[:2])
    return report


def _evaluate_one(
    service: NewsService,
    q: EvalQuery,
    by_external: dict[str, int],
    depth: int,
    now: dt.date | None,
    answers: bool,
    options: ComposeOptions | None,
    second_stage: bool,
) -> _Row:
    asked = q.asked_at or now or service.today()
    start = time.perf_counter()
    parsed = service.parse(q.question, asked)
    result = service.searcher.search(parsed, k=depth * 3, second_stage=second_stage)
    search_ms = (time.perf_counter() - start) * 1000
    groups = [HALVES[(q.line - 1) % 2] if q.line else HALVES[0]]
    if q.asked_at:
        groups.append(RELATIVE)
    elif parsed.times:
        groups.append(ABSOLUTE)
    else:
        groups.append(NO_TIME)
    if service.searcher.tokenizer.simplified(q.question) != q.question:
        groups.append(TRADITIONAL)
    row: dict[str, Any] = {"groups": tuple(groups), "search_ms": search_ms}
    if q.positive_ids:
        row["ranked"] = True
        row["rank"] = _article_rank(
            [(h.article.id, h.article.external_id) for h in result.hits], set(q.positive_ids)
        )
    if not answers:
        return _Row(**row)
    if not q.positive_ids and not q.answers:
        row["no_answer"] = True
        row["answered"] = service.ask(q.question, now=asked, options=options).answered
        return _Row(**row)
    if not q.answers:
        return _Row(**row)
    start = time.perf_counter()
    answer = service.ask(q.question, now=asked, options=options)
    shown = strip_tags(render_telegram(answer))
    row["ask_ms"] = (time.perf_counter() - start) * 1000
    row.update(answerable=True, answered=answer.answered)
    row["in_reply"] = answer.answered and any(a in shown for a in q.answers)
    if answer.short:
        tokenizer = service.searcher.tokenizer
        found = _comparable(answer.short, tokenizer.normalize)
        golds = [_comparable(a, tokenizer.normalize) for a in q.answers]
        row.update(short_shown=True, short_right=any(found and (found in g or g in found) for g in golds))
    if answer.answered and parsed.times:
        first = service.store.article(answer.passages[0].source.article_id, paragraphs=False)
        if first is not None and first.date:  # an undated article's day is when it was ingested
            row["right_date"] = bool(parsed.fits(first.date))
    own = frozenset(by_external[p] for p in q.positive_ids if p in by_external)
    if own:
        row["own_removed_answered"] = service.ask(
            q.question, now=asked, options=options, exclude_articles=own
        ).answered
    return _Row(**row)


_YEAR = re.compile(r"(20\d\d)年")


def evaluate_follow_ups(
    service: NewsService, queries: Iterable[EvalQuery], *, now: dt.date | None = None
) -> dict[str, float]:
    """Two-turn conversations made from the question set, each second turn judged like a question.

    - time: the question asked first about another year (its year moved by one), then 那{year}年呢？ —
      understood (the question's own year back in place), and the gold answer in the reply, beside the
      same figure for the question asked in full;
    - new: another question first, then the question itself — left alone (not taken as a follow-up), and
      its answer unchanged.
    """
    tokenizer = service.searcher.tokenizer
    counts: dict[str, float] = {}
    previous: EvalQuery | None = None

    def add(key: str, value: bool) -> None:
        counts[key] = counts.get(key, 0) + value

    for q in queries:
        asked = q.asked_at or now or service.today()
        if not q.answers:
            continue
        alone = service.ask(q.question, now=asked)
        in_alone = alone.answered and any(a in strip_tags(render_telegram(alone)) for a in q.answers)
        year = _YEAR.search(tokenizer.normalize(q.question))
        if year:
            other = int(year.group(1)) - 1 if int(year.group(1)) > 2022 else int(year.group(1)) + 1
            moved = tokenizer.normalize(q.question).replace(year.group(0), f"{other}年", 1)
            second = service.ask(f"那{year.group(0)}呢？", now=asked, after=service.ask(moved, now=asked))
            add("time: conversations", True)
            add(
                "time: understood",
                year.group(0) in second.understood and f"{other}年" not in second.understood,
            )
            add(
                "time: answer_in_reply",
                second.answered and any(a in strip_tags(render_telegram(second)) for a in q.answers),
            )
            add("time: asked in full, answer_in_reply", in_alone)
        if previous is not None:
            second = service.ask(q.question, now=asked, after=service.ask(previous.question, now=asked))
            add("new: conversations", True)
            add("new: left alone", not second.understood)
            add(
                "new: answer_in_reply",
                second.answered and any(a in strip_tags(render_telegram(second)) for a in q.answers),
            )
            add("new: asked alone, answer_in_reply", in_alone)
        previous = q
    out: dict[str, float] = {}
    for kind in ("time", "new"):
        n = counts.get(f"{kind}: conversations", 0)
        if n:
            out[f"{kind}: conversations"] = n
            out.update(
                {
                    k: round(v / n, 4)
                    for k, v in counts.items()
                    if k.startswith(kind) and "conversations" not in k
                }
            )
    return out


def _figures(rows: list[_Row], ks: tuple[int, ...]) -> dict[str, float]:
    """Recall@k, MRR@10 and the answer figures of some rows (shares; figures with no rows left out)."""
    out: dict[str, float] = {}
    ranked = [r for r in rows if r.ranked]
    if ranked:
        for k in ks:
            out[f"recall@{k}"] = sum(r.rank is not None and r.rank <= k for r in ranked) / len(ranked)
        out["mrr@10"] = sum(1 / r.rank for r in ranked if r.rank is not None and r.rank <= 10) / len(ranked)
    answerable = [r for r in rows if r.answerable]
    if answerable:
        out["answer_in_reply"] = sum(r.in_reply for r in answerable) / len(answerable)
        out["answerable_refused"] = sum(not r.answered for r in answerable) / len(answerable)
        removed = [r for r in answerable if r.own_removed_answered is not None]
        if removed:
            out["unanswerable_answered"] = sum(bool(r.own_removed_answered) for r in removed) / len(removed)
        answered = [r for r in answerable if r.answered]
        if answered:
            out["short_shown"] = sum(r.short_shown for r in answered) / len(answered)
            shown = [r for r in answered if r.short_shown]
            if shown:
                out["short_right"] = sum(r.short_right for r in shown) / len(shown)
        dated = [r for r in answerable if r.right_date is not None]
        if dated:
            out["right_date"] = sum(bool(r.right_date) for r in dated) / len(dated)
        times = [r.ask_ms for r in answerable if r.ask_ms is not None]
        if times and len(rows) > 1:
            out["ask_ms_p50"], out["ask_ms_p95"] = _percentiles(times)
    no_answer = [r for r in rows if r.no_answer]
    if no_answer:
        out["no_answer_refused"] = sum(not r.answered for r in no_answer) / len(no_answer)
    out["questions"] = len(rows)
    return out


_NOT_COMPARED = re.compile(r"[\s，,。、“”\"'《》「」『』()（）]")


def _comparable(text: str, normalize: Callable[[str], str]) -> str:
    return _NOT_COMPARED.sub("", normalize(text))


def _percentiles(ms: list[float]) -> tuple[float, float]:
    if not ms:
        return 0.0, 0.0
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
