"""JSON-ready data for scripts (``newsbot … --json``): answers, articles, digests and timelines, every field
kept.

This is the CLI's output format; the bot keeps its answer sessions in ``bot.sessions``' own versioned
format, so this one can grow for scripts without breaking stored sessions.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from corpus import Article
from retrieval.compose import Answer, Source
from retrieval.digest import Digest, DigestArticle
from retrieval.timeline import Timeline

__all__ = ["answer_json", "article_json", "digest_json", "source_json", "timeline_json"]


def source_json(source: Source) -> dict[str, Any]:
    return dataclasses.asdict(source)


def answer_json(answer: Answer, page: int | None = None) -> dict[str, Any]:
    """The answer (all pages unless ``page`` is given), with why it was refused when it was."""
    passages = answer.passages if page is None else answer.page(page)
    return {
        "question": answer.question,
        "answered": answer.answered,
        "reason": answer.reason,
        "suggestions": list(answer.suggestions),
        "period": answer.period,
        "focus": list(answer.focus),
        "archive": list(answer.archive) if answer.archive else None,
        "short_answer": answer.short or None,
        "understood": answer.understood or None,
        "coverage": round(answer.coverage, 4),
        "terms": list(answer.terms),
        "pages": answer.pages,
        "per_page": answer.per_page,
        "passages": [
            {
                "quote": p.quote,
                "highlights": [list(s) for s in p.highlights],
                "highlighted": [p.quote[s:e] for s, e in p.highlights],
                "answer_span": list(p.answer_span) if p.answer_span else None,
                "score": round(p.score, 4),
                "source": source_json(p.source),
                "matched": list(p.matched),
            }
            for p in passages
        ],
    }


def article_json(article: Article) -> dict[str, Any]:
    """An article's fields; its paragraphs too when it was read whole."""
    data: dict[str, Any] = {
        "id": article.id,
        "external_id": article.external_id,
        "headline": article.headline,
        "headline_derived": article.headline_derived,
        "kicker": article.kicker,
        "subtitle": article.subtitle,
        "byline": article.byline,
        "date": article.date,
        "day": article.day,
        "source": article.source,
        "page": article.page,
        "url": article.url,
        "author": article.author,
        "ingested_at": article.ingested_at,
    }
    if article.paragraphs:
        data["guide_label"] = article.guide_label
        data["jumps"] = list(article.jumps)
        data["paragraphs"] = [
            {"ordinal": p.ordinal, "kind": p.kind, "text": p.text} for p in article.paragraphs
        ]
    return data


def digest_json(digest: Digest) -> dict[str, Any]:
    def article(a: DigestArticle) -> dict[str, Any]:
        return {
            "article_id": a.article_id,
            "external_id": a.external_id,
            "headline": a.headline,
            "date": a.date,
            "sentence": a.sentence,
        }

    return {
        "day": digest.title_day,
        "topics": [
            {
                "name": t.name,
                "keywords": list(t.keywords),
                "salience": round(t.salience, 3),
                "articles": [article(a) for a in t.articles],
            }
            for t in digest.topics
        ],
        "other": [article(a) for a in digest.other],
    }


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    """The timeline's fields (months and periods in chronological order), with whether one was found."""
    return {"found": timeline.found, **dataclasses.asdict(timeline)}
