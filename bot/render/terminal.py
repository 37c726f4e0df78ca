"""Plain text for a terminal (``newsbot ask``, ``show``, ``digest``, ``timeline`` and ``chat``): answers with
optional colour, whole articles, digests and timelines. Nothing is escaped: a terminal shows text as it is."""

from __future__ import annotations

from corpus import Article
from retrieval.compose import Answer, Passage, Source
from retrieval.digest import Digest
from retrieval.timeline import Timeline

from .. import messages as msg
from .common import (
    ANSWER,
    TERM,
    headline_of,
    marks,
    month_lines,
    not_found_text,
    passage_parts,
    period_label,
    short,
    source_parts,
    timeline_refusal,
)

__all__ = ["article_text", "digest_text", "render_terminal", "source_text", "timeline_text"]

_COLOURS = {TERM: "\033[1;33m", ANSWER: "\033[1;4;32m"}  # the question's words bold yellow, the answer green
_RESET = "\033[0m"


def source_text(source: Source) -> str:
    """📰 date · headline · publication · page · paragraph · #id"""
    return "📰 " + " · ".join(source_parts(source))


def _coloured(passage: Passage) -> str:
    out: list[str] = []
    pos = 0
    for start, end, what in marks(passage):
        out += [passage.quote[pos:start], _COLOURS[what], passage.quote[start:end], _RESET]
        pos = end
    out.append(passage.quote[pos:])
    return "".join(out)


def render_terminal(answer: Answer, page: int = 0, *, color: bool = False) -> str:
    """One page of an answer, the short answer first; highlights in colour when ``color``."""
    if not answer.answered:
        return not_found_text(answer)
    lines = [msg.ANSWER_HEADER.format(question=short(answer.question))]
    if answer.understood:
        lines.append(msg.UNDERSTOOD.format(question=short(answer.understood)))
    if answer.short and page == 0:
        lines.append(msg.SHORT_ANSWER.format(answer=answer.short))
    lines.append("")
    for passage in answer.page(page):
        quote = _coloured(passage) if color else passage.quote
        lines.append(f"  「{quote}」")
        lines.append("  " + source_text(passage.source))
        lines.append("")
    if answer.pages > 1:
        lines.append(msg.ANSWER_PAGE.format(page=page + 1, pages=answer.pages))
    return "\n".join(lines).rstrip()


def article_text(article: Article) -> str:
    """A whole article: kicker, headline, subtitle, byline, where and when, then its paragraphs."""
    lines = [
        line
        for line in (
            article.kicker,
            headline_of(article.headline, article.headline_derived),
            article.subtitle,
            article.byline,
        )
        if line
    ]
    page = msg.SOURCE_PAGE.format(page=article.page) if article.page else ""
    lines.append(" · ".join(x for x in (article.day, article.source or "", page, article.url or "") if x))
    lines.append("")
    for p in article.paragraphs:
        prefix = {"guide": f"【{article.guide_label or msg.GUIDE_LABEL}】", "subhead": "■ "}.get(p.kind, "")
        lines += [f"{prefix}{p.text}", ""]
    return "\n".join(lines).rstrip()


def digest_text(digest: Digest, title: str) -> str:
    """A digest: numbered topics, each with its articles' headlines and key sentences."""
    lines = [title, ""]
    for n, topic in enumerate(digest.topics, start=1):
        if len(topic.articles) == 1 and topic.name == topic.articles[0].headline:  # a one-story topic
            a = topic.articles[0]
            lines.append(msg.DIGEST_TOPIC.format(n=n, name=topic.name) + f"  #{a.article_id}")
            lines += [f"  {a.sentence}", ""] if a.sentence else [""]
            continue
        lines.append(msg.DIGEST_TOPIC.format(n=n, name=topic.name))
        for a in topic.articles:
            lines.append(f"  • {headline_of(a.headline, a.headline_derived)}  #{a.article_id}")
            if a.sentence:
                lines.append(f"    {a.sentence}")
        if topic.size > len(topic.articles):
            lines.append("  " + msg.DIGEST_MORE_ARTICLES.format(n=topic.size))
        lines.append("")
    if digest.other:
        lines.append(msg.DIGEST_OTHER)
        lines += [f"  • {headline_of(a.headline, a.headline_derived)}  #{a.article_id}" for a in digest.other]
    return "\n".join(lines).rstrip()


def timeline_text(timeline: Timeline) -> str:
    """A timeline: first and last mention, a line of monthly bars per year, then each period's key passage."""
    if not timeline.found or timeline.peak is None:
        return timeline_refusal(timeline)
    peak = timeline.peak
    lines = [
        msg.TIMELINE_TITLE.format(keyword=short(timeline.keyword, 30)),
        msg.TIMELINE_SPAN.format(first=timeline.first_day, last=timeline.last_day, total=timeline.articles),
        "",
        msg.TIMELINE_MONTHS.format(peak=peak.articles, month=peak.month),
        *(f"  {line}" for line in month_lines(timeline)),
    ]
    for n, period in enumerate(timeline.periods, start=1):
        lines += ["", period_label(n, period)]
        if period.passage is None:
            lines.append("  " + msg.TIMELINE_NO_PASSAGE)
            continue
        lines.append(f"  「{period.passage.quote}」")
        lines.append("  📰 " + " · ".join(passage_parts(period.passage)))
    if timeline.active > len(timeline.periods):
        lines += ["", msg.TIMELINE_MORE.format(n=timeline.active - len(timeline.periods))]
    return "\n".join(lines)
