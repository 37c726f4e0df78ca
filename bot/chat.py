"""``newsbot chat``: the bot's conversation in a terminal, over the same composer and timelines."""

from __future__ import annotations

import datetime as dt
from typing import TextIO

from retrieval.compose import Answer

from . import messages as msg
from .render.terminal import article_text, render_terminal, timeline_text
from .service import NewsService, QuestionTooLong

__all__ = ["run_chat"]

_MORE = {"更多", "more", "/more", "下一页"}
_QUIT = {"/quit", "/exit", "/q", "退出"}


def run_chat(
    service: NewsService, stdin: TextIO, stdout: TextIO, *, color: bool = False, now: dt.date | None = None
) -> None:
    """Read questions line by line until /quit or end of input; answer each like the bot would
    (``now``: the day the questions count as asked on, default today)."""
    stats = service.stats()
    say = _Printer(stdout)
    say(msg.CHAT_WELCOME.format(articles=stats["articles"], paragraphs=stats["paragraphs"]))
    last: Answer | None = None
    page = 0
    while True:
        if stdin.isatty():
            stdout.write(msg.CHAT_PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text in _QUIT:
            break
        if text in _MORE:
            if last is None or not last.answered:
                say(msg.CHAT_NOTHING_MORE)
            elif page + 1 >= last.pages:
                say(msg.NO_MORE)
            else:
                page += 1
                say(render_terminal(last, page, color=color))
            continue
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            if command in ("/article", "/show"):
                say(_article(service, rest))
            elif command == "/timeline":
                say(timeline_text(service.timeline(rest, now=now)))  # an empty keyword: the usage
            elif command in ("/help", "/start"):
                say(msg.CHAT_WELCOME.format(articles=stats["articles"], paragraphs=stats["paragraphs"]))
            else:
                say(msg.CHAT_UNKNOWN_COMMAND.format(command=command))
            continue
        try:
            last, page = service.ask(text, now=now, after=last), 0  # 那去年呢？ follows the last answer
        except QuestionTooLong as exc:
            say(msg.QUESTION_TOO_LONG.format(length=exc.length, limit=exc.limit))
            continue
        say(render_terminal(last, 0, color=color))
    say(msg.CHAT_BYE)


def _article(service: NewsService, ref: str) -> str:
    if not ref.strip():
        return msg.ARTICLE_USAGE
    article = service.article(ref)
    if article is None:
        return msg.ARTICLE_NOT_FOUND.format(ref=ref.strip())
    return article_text(article)


class _Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, text: str) -> None:
        self.out.write(text + "\n\n")
        self.out.flush()
