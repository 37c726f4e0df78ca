"""One answer, three renderers: Telegram HTML, terminal text, JSON.

Telegram HTML escapes every piece of text, marks highlights with ``<b>``, quotes with ``<blockquote>`` and
never exceeds 4096 characters: whole passages are dropped from the end first, and a single passage too
long for a message is cut at a sentence end (or, failing that, between characters that are not part of
one emoji or one combining sequence), never inside a tag or an entity.
"""

from __future__ import annotations

import dataclasses
import html
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from corpus import Article
from retrieval.compose import EMPTY, FOCUS_MISSING, OUT_OF_RANGE, WRONG_TIME, Answer, Passage, Source
from retrieval.digest import Digest, DigestArticle

from . import messages as msg

__all__ = [
    "TELEGRAM_LIMIT",
    "answer_from_json",
    "answer_json",
    "article_pages",
    "digest_json",
    "digest_messages",
    "digest_text",
    "headline_of",
    "render_telegram",
    "render_terminal",
    "strip_tags",
    "telegram_length",
]

TELEGRAM_LIMIT = 4096
_TAG = re.compile(r"<[^>]+>")
_BOLD, _RESET = "\033[1;33m", "\033[0m"


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units): an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def strip_tags(rendered: str) -> str:
    """The text a reader sees in a rendered Telegram message."""
    return html.unescape(_TAG.sub("", rendered))


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _marked(quote: str, spans: tuple[tuple[int, int], ...], open_: str, close: str, escape: bool) -> str:
    out: list[str] = []
    pos = 0
    fix = _esc if escape else (lambda s: s)
    for start, end in spans:
        out.append(fix(quote[pos:start]))
        out.append(open_ + fix(quote[start:end]) + close)
        pos = end
    out.append(fix(quote[pos:]))
    return "".join(out)


def headline_of(headline: str, derived: bool = False) -> str:
    """A headline as shown: an untitled article's first sentence marked as such, no headline as 无标题."""
    if not headline:
        return msg.NO_TITLE
    return msg.DERIVED_TITLE.format(headline=headline) if derived else headline


def source_line(source: Source, *, html_links: bool) -> str:
    headline = headline_of(source.headline, source.headline_derived)
    if html_links:
        title = (
            f'<a href="{html.escape(source.url, quote=True)}">{_esc(headline)}</a>'
            if source.url
            else _esc(headline)
        )
    else:
        title = headline
    parts = [source.date, title]
    if source.publication:
        parts.append(_esc(source.publication) if html_links else source.publication)
    if source.page:
        page = msg.SOURCE_PAGE.format(page=source.page)
        parts.append(_esc(page) if html_links else page)
    parts.append(msg.SOURCE_PARAGRAPH.format(n=source.paragraph))
    ref = f"#{source.article_id}"
    if source.external_id:
        ref += f" ({source.external_id})"
    parts.append(_esc(ref) if html_links else ref)
    return "📰 " + " · ".join(parts)


def _telegram_passage(p: Passage) -> str:
    quote = _marked(p.quote, p.highlights, "<b>", "</b>", escape=True)
    return f"<blockquote>{quote}</blockquote>\n{source_line(p.source, html_links=True)}"


def render_telegram(answer: Answer, page: int = 0, limit: int = TELEGRAM_LIMIT) -> str:
    """The Telegram message (HTML) for one page of an answer."""
    if not answer.answered:
        return _esc(_not_found_text(answer))[:limit]
    header = _esc(msg.ANSWER_HEADER.format(question=_short(answer.question)))
    footer = msg.ANSWER_PAGE.format(page=page + 1, pages=answer.pages) if answer.pages > 1 else ""
    blocks: list[str] = []
    for passage in answer.page(page):
        block = _telegram_passage(passage)
        candidate = "\n\n".join([header, *blocks, block, footer]).strip()
        if telegram_length(candidate) <= limit:
            blocks.append(block)
            continue
        if not blocks:  # even one passage is too long: shorten its quote to fit
            room = (
                limit
                - telegram_length("\n\n".join([header, footer, source_line(passage.source, html_links=True)]))
                - 40
            )
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
    cut = max((m.end() for m in re.finditer(r"[。！？!?；]", p.quote[:fits])), default=0)
    if cut < fits // 2:
        cut = _safe_cut(p.quote, fits)
    quote = p.quote[:cut].rstrip("…") + "…"
    spans = tuple((s, min(e, cut)) for s, e in p.highlights if s < cut)
    return dataclasses.replace(p, quote=quote, highlights=spans)


def _safe_cut(text: str, at: int) -> int:
    """A cut position at or before ``at`` that does not split a surrogate-free grapheme: not before a
    combining mark, a variation selector, a zero-width joiner or the character after a joiner."""
    at = min(at, len(text))
    while 0 < at < len(text):
        here, before = text[at], text[at - 1]
        if unicodedata.combining(here) or here in "\u200d\ufe0e\ufe0f" or before == "\u200d":
            at -= 1
            continue
        if "\U0001f3fb" <= here <= "\U0001f3ff":  # skin-tone modifier belongs to the emoji before it
            at -= 1
            continue
        break
    return at


def _short(question: str, limit: int = 60) -> str:
    question = " ".join(question.split())
    return question if len(question) <= limit else question[: _safe_cut(question, limit)] + "…"


def _not_found_text(answer: Answer) -> str:
    """Why nothing is quoted, in words a reader can act on, with what the archive has instead."""
    if answer.reason == EMPTY:
        return msg.NOT_FOUND_EMPTY.format(example=msg.EXAMPLE_QUESTION)
    question = _short(answer.question)
    suggest = msg.NOT_FOUND_SUGGEST
    if answer.reason == OUT_OF_RANGE and answer.archive:
        first, last = answer.archive
        lines = [
            msg.NOT_FOUND_OUT_OF_RANGE.format(first=first, last=last, period=answer.period, question=question)
        ]
        suggest = msg.NOT_FOUND_RELATED
    elif answer.reason == WRONG_TIME and answer.period:
        lines = [msg.NOT_FOUND_WRONG_TIME.format(period=answer.period, question=question)]
        suggest = msg.NOT_FOUND_RELATED
    elif answer.reason == FOCUS_MISSING and answer.focus:
        lines = [msg.NOT_FOUND_FOCUS.format(focus="、".join(answer.focus), question=question)]
        suggest = msg.NOT_FOUND_RELATED
    else:
        lines = [msg.NOT_FOUND.format(question=question)]
    if answer.suggestions:
        lines.append(suggest + "、".join(f"「{s}」" for s in answer.suggestions))
    lines.append(msg.NOT_FOUND_HINT)
    return "\n".join(lines)


def render_terminal(answer: Answer, page: int = 0, *, color: bool = False) -> str:
    """Plain text for a terminal; highlights in bold yellow when ``color``."""
    if not answer.answered:
        return _not_found_text(answer)
    lines = [msg.ANSWER_HEADER.format(question=_short(answer.question)), ""]
    for passage in answer.page(page):
        quote = (
            _marked(passage.quote, passage.highlights, _BOLD, _RESET, escape=False)
            if color
            else passage.quote
        )
        lines.append(f"  「{quote}」")
        lines.append("  " + source_line(passage.source, html_links=False))
        lines.append("")
    if answer.pages > 1:
        lines.append(msg.ANSWER_PAGE.format(page=page + 1, pages=answer.pages))
    return "\n".join(lines).rstrip()


def answer_json(answer: Answer, page: int | None = None) -> dict[str, Any]:
    """The answer as JSON-ready data (all pages unless ``page`` is given)."""
    passages = answer.passages if page is None else answer.page(page)
    return {
        "question": answer.question,
        "answered": answer.answered,
        "reason": answer.reason,
        "suggestions": list(answer.suggestions),
        "period": answer.period,
        "focus": list(answer.focus),
        "archive": list(answer.archive) if answer.archive else None,
        "coverage": round(answer.coverage, 4),
        "terms": list(answer.terms),
        "pages": answer.pages,
        "per_page": answer.per_page,
        "passages": [
            {
                "quote": p.quote,
                "highlights": [list(s) for s in p.highlights],
                "highlighted": [p.quote[s:e] for s, e in p.highlights],
                "score": round(p.score, 4),
                "source": {
                    "article_id": p.source.article_id,
                    "external_id": p.source.external_id,
                    "headline": p.source.headline,
                    "kicker": p.source.kicker,
                    "subtitle": p.source.subtitle,
                    "date": p.source.date,
                    "publication": p.source.publication,
                    "page": p.source.page,
                    "url": p.source.url,
                    "paragraph": p.source.paragraph,
                    "paragraph_id": p.source.paragraph_id,
                    "headline_derived": p.source.headline_derived,
                },
                "matched": list(p.matched),
            }
            for p in passages
        ],
    }


def answer_from_json(data: dict[str, Any]) -> Answer:
    """The answer back from ``answer_json`` (all pages), as kept in an answer session."""
    passages = tuple(
        Passage(
            quote=p["quote"],
            highlights=tuple((int(a), int(b)) for a, b in p["highlights"]),
            source=Source(
                article_id=p["source"]["article_id"],
                external_id=p["source"]["external_id"],
                headline=p["source"]["headline"],
                kicker=p["source"]["kicker"],
                subtitle=p["source"]["subtitle"],
                date=p["source"]["date"],
                publication=p["source"]["publication"],
                page=p["source"]["page"],
                url=p["source"]["url"],
                paragraph=p["source"]["paragraph"],
                paragraph_id=p["source"].get("paragraph_id", 0),
                headline_derived=bool(p["source"].get("headline_derived", False)),
            ),
            score=float(p["score"]),
            matched=tuple(p.get("matched", ())),
        )
        for p in data["passages"]
    )
    archive = data.get("archive")
    return Answer(
        question=data["question"],
        answered=bool(data["answered"]),
        passages=passages,
        per_page=int(data["per_page"]),
        terms=tuple(data["terms"]),
        coverage=float(data["coverage"]),
        reason=data.get("reason"),
        suggestions=tuple(data.get("suggestions", ())),
        period=data.get("period", ""),
        focus=tuple(data.get("focus", ())),
        archive=(archive[0], archive[1]) if archive else None,
    )


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
                f"{article.guide_label or '导读'}：{p.text}",
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
    for sentence in re.split(r"(?<=[。！？!?；])", text):
        while telegram_length(_esc(sentence)) > limit:
            cut = _safe_cut(sentence, limit // 5)  # escaping turns a character into at most 5 (&amp;)
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


def digest_text(digest: Digest, title: str) -> str:
    """A digest for the terminal."""
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
