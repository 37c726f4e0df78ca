"""Telegram HTML: answers, whole articles, digests and timelines, escaped, within Telegram's limits.

Every piece of text is escaped; the short answer is ``<b><u>`` in its quote and on a line of its own above
the quotes, the question's words ``<b>``, quotes ``<blockquote>``; no message exceeds 4096
characters (as Telegram counts them, in UTF-16 code units): whole passages are dropped from the end first,
and a single passage too long for a message is cut at a sentence end (or, failing that, between characters
that are not part of one emoji or one combining sequence), never inside a tag or an entity.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Sequence

from corpus import Article
from corpus.text import CLAUSE_END, SENTENCE_END
from retrieval.compose import Answer, Passage, Source
from retrieval.digest import Digest, DigestArticle
from retrieval.timeline import Period, Timeline

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
    safe_cut,
    short,
    source_parts,
    timeline_refusal,
)

__all__ = [
    "TELEGRAM_LIMIT",
    "article_pages",
    "digest_messages",
    "render_telegram",
    "source_line",
    "strip_tags",
    "telegram_length",
    "timeline_message",
]

TELEGRAM_LIMIT = 4096
_TAG = re.compile(r"<[^>]+>")
_SENTENCE_ENDS = re.compile(f"[{SENTENCE_END}{CLAUSE_END}]")
_AFTER_SENTENCE = re.compile(f"(?<=[{SENTENCE_END}{CLAUSE_END}])")


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units): an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def strip_tags(rendered: str) -> str:
    """The text a reader sees in a rendered Telegram message."""
    return html.unescape(_TAG.sub("", rendered))


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def marked_html(passage: Passage) -> str:
    """The quote escaped, the question's words in ``<b>``, the short answer in ``<b><u>``."""
    tags = {TERM: ("<b>", "</b>"), ANSWER: ("<b><u>", "</u></b>")}
    out: list[str] = []
    pos = 0
    for start, end, what in marks(passage):
        open_, close = tags[what]
        out += [_esc(passage.quote[pos:start]), open_, _esc(passage.quote[start:end]), close]
        pos = end
    out.append(_esc(passage.quote[pos:]))
    return "".join(out)


def source_line(source: Source) -> str:
    """📰 date · headline (a link when the article has a URL) · publication · page · paragraph · #id"""
    date, headline, *rest = source_parts(source)
    title = (
        f'<a href="{html.escape(source.url, quote=True)}">{_esc(headline)}</a>'
        if source.url
        else _esc(headline)
    )
    return "📰 " + " · ".join([_esc(date), title, *map(_esc, rest)])


def _telegram_passage(p: Passage) -> str:
    return f"<blockquote>{marked_html(p)}</blockquote>\n{source_line(p.source)}"


def render_telegram(answer: Answer, page: int = 0, limit: int = TELEGRAM_LIMIT) -> str:
    """The Telegram message (HTML) for one page of an answer."""
    if not answer.answered:
        return _esc(not_found_text(answer))[:limit]
    header = _esc(msg.ANSWER_HEADER.format(question=short(answer.question)))
    if answer.understood:
        header += "\n" + _esc(msg.UNDERSTOOD.format(question=short(answer.understood)))
    if answer.short and page == 0:
        header += "\n" + msg.SHORT_ANSWER.format(answer=f"<b>{_esc(answer.short)}</b>")
    footer = msg.ANSWER_PAGE.format(page=page + 1, pages=answer.pages) if answer.pages > 1 else ""
    blocks: list[str] = []
    for passage in answer.page(page):
        block = _telegram_passage(passage)
        candidate = "\n\n".join([header, *blocks, block, footer]).strip()
        if telegram_length(candidate) <= limit:
            blocks.append(block)
            continue
        if not blocks:  # even one passage is too long: shorten its quote to fit
            room = limit - telegram_length("\n\n".join([header, footer, source_line(passage.source)])) - 40
            blocks.append(_telegram_passage(_shortened(passage, room)))
        break
    return "\n\n".join([header, *blocks, footer]).strip()


def _shortened(p: Passage, room: int) -> Passage:
    """The passage with its quote cut to fit ``room`` once escaped, at a sentence end or a safe boundary."""
    budget = max(room, 50)
    if telegram_length(_esc(p.quote)) <= budget:
        return p
    fits = len(p.quote)
    while fits > 1 and telegram_length(_esc(p.quote[:fits])) > budget:
        fits = fits * 3 // 4
    cut = max((m.end() for m in _SENTENCE_ENDS.finditer(p.quote[:fits])), default=0)
    if cut < fits // 2:
        cut = safe_cut(p.quote, fits)
    quote = p.quote[:cut].rstrip("…") + "…"
    spans = tuple((s, min(e, cut)) for s, e in p.highlights if s < cut)
    answer = p.answer_span if p.answer_span and p.answer_span[1] <= cut else None
    return dataclasses.replace(p, quote=quote, highlights=spans, answer_span=answer)


def article_pages(article: Article, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """A whole article as Telegram HTML messages of at most ``limit`` characters.

    Paragraphs are packed into messages whole where they fit; a paragraph that does not fit continues on
    the next message from a sentence end (a sentence longer than a message is cut between characters).
    """
    head = [f"<i>{_esc(line)}</i>" for line in article.kicker.splitlines() if line]
    head.append(f"<b>{_esc(headline_of(article.headline, article.headline_derived))}</b>")
    head += [_esc(line) for line in article.subtitle.splitlines() if line]
    meta = [article.day, article.source or "", article.byline]
    head.append(_esc(" · ".join(x for x in meta if x)))
    pages: list[str] = []
    current = "\n".join(head)
    for p in article.paragraphs:
        if p.kind == "guide":
            open_, plain, close = (
                "<blockquote>",
                f"{article.guide_label or msg.GUIDE_LABEL}：{p.text}",
                "</blockquote>",
            )
        elif p.kind == "subhead":
            open_, plain, close = "<b>", p.text, "</b>"
        else:
            open_, plain, close = "", p.text, ""
        chunk = ""
        for piece in _pieces(plain, limit - 100):
            sep = "\n\n" if current and not chunk else ""
            if telegram_length(current + sep + open_ + _esc(chunk + piece) + close) <= limit:
                chunk += piece
                continue
            if chunk:
                current += ("\n\n" if current else "") + open_ + _esc(chunk) + close
            pages.append(current)
            current, chunk = "", piece
        if chunk:
            current += ("\n\n" if current else "") + open_ + _esc(chunk) + close
    if current:
        pages.append(current)
    return pages


def _pieces(text: str, limit: int) -> list[str]:
    """Sentences of ``text``, each short enough to fit a message once escaped."""
    out: list[str] = []
    for sentence in _AFTER_SENTENCE.split(text):
        while telegram_length(_esc(sentence)) > limit:
            cut = safe_cut(sentence, limit // 5)  # escaping turns a character into at most 5 (&amp;)
            out.append(sentence[:cut])
            sentence = sentence[cut:]
        if sentence:
            out.append(sentence)
    return out


def digest_messages(digest: Digest, title: str, limit: int = TELEGRAM_LIMIT) -> list[tuple[str, list[int]]]:
    """A digest as Telegram HTML messages split at topic boundaries, each with the article ids it shows."""
    blocks: list[tuple[str, list[int]]] = []
    for n, topic in enumerate(digest.topics, start=1):
        blocks.append(
            _digest_block(msg.DIGEST_TOPIC.format(n=n, name=topic.name), topic.articles, topic.size)
        )
    if digest.other:
        blocks.append(_digest_block(msg.DIGEST_OTHER, digest.other, len(digest.other)))
    head = f"<b>{_esc(title)}</b>"
    messages: list[tuple[str, list[int]]] = []
    text, ids = head, list[int]()
    for block, block_ids in blocks:
        if telegram_length(text + "\n\n" + block) > limit and ids:
            messages.append((text, ids))
            text, ids = f"<b>{_esc(title)}{msg.DIGEST_CONTINUED}</b>", []
        while telegram_length(text + "\n\n" + block) > limit:  # one topic longer than a message
            block = block[: block.rfind("\n")] if "\n" in block else block[: limit // 2]
        text += "\n\n" + block
        ids += block_ids
    messages.append((text, ids))
    return messages


def _digest_block(name: str, articles: Sequence[DigestArticle], size: int) -> tuple[str, list[int]]:
    if len(articles) == 1 and name.endswith(articles[0].headline):  # a one-story topic, named by it
        a = articles[0]
        line = f"<b>{_esc(name)}</b> #{a.article_id}" + (f"\n  {_esc(a.sentence)}" if a.sentence else "")
        return line, [a.article_id]
    lines = [f"<b>{_esc(name)}</b>"]
    for a in articles:
        line = f"• <b>{_esc(headline_of(a.headline, a.headline_derived))}</b> #{a.article_id}"
        if a.sentence:
            line += f"\n  {_esc(a.sentence)}"
        lines.append(line)
    if size > len(articles):
        lines.append(_esc(msg.DIGEST_MORE_ARTICLES.format(n=size)))
    return "\n".join(lines), [a.article_id for a in articles]


def timeline_message(timeline: Timeline, limit: int = TELEGRAM_LIMIT) -> tuple[str, list[int]]:
    """A timeline as one Telegram HTML message, with the ids of the articles it quotes (for their buttons).

    When it would not fit, quotes and headlines are shortened first, then the least busy periods dropped;
    monthly counts too long for a message on their own (a century of months) are left out.
    """
    if not timeline.found:
        return _esc(timeline_refusal(timeline)), []
    months = telegram_length(_timeline_html(timeline, [], brief=True, months=True)) <= limit
    periods, brief = list(timeline.periods), False
    text = _timeline_html(timeline, periods, brief=brief, months=months)
    while telegram_length(text) > limit and (periods or not brief):
        if brief:
            periods.remove(min(reversed(periods), key=lambda p: p.articles))
        brief = True
        text = _timeline_html(timeline, periods, brief=brief, months=months)
    return text, [p.passage.article_id for p in periods if p.passage]


def _timeline_html(timeline: Timeline, periods: list[Period], *, brief: bool, months: bool) -> str:
    lines = [
        f"<b>{_esc(msg.TIMELINE_TITLE.format(keyword=short(timeline.keyword, 30)))}</b>",
        _esc(
            msg.TIMELINE_SPAN.format(
                first=timeline.first_day, last=timeline.last_day, total=timeline.articles
            )
        ),
    ]
    if months and timeline.peak:
        peak = msg.TIMELINE_MONTHS.format(peak=timeline.peak.articles, month=timeline.peak.month)
        lines.append("<pre>" + _esc("\n".join([peak, *month_lines(timeline)])) + "</pre>")
    for n, period in enumerate(periods, start=1):
        lines += ["", f"<b>{_esc(period_label(n, period))}</b>"]
        if period.passage is None:
            lines.append(_esc(msg.TIMELINE_NO_PASSAGE))
            continue
        day, headline, *rest = passage_parts(period.passage)
        quote = short(period.passage.quote, 60) if brief else period.passage.quote
        headline = short(headline, 30) if brief else headline
        lines.append(f"<blockquote>{_esc(quote)}</blockquote>")
        lines.append("📰 " + " · ".join(_esc(x) for x in (day, headline, *rest)))
    hidden = timeline.active - len(periods)
    if hidden > 0:
        lines += ["", _esc(msg.TIMELINE_MORE.format(n=hidden))]
    return "\n".join(lines)
