"""What a button carries: one small frozen dataclass per kind of button, written by ``encode()`` and read
back by ``parse()``; each kind's ``PATTERN`` routes a press to its handler
(``CallbackQueryHandler(handler, pattern=Kind.PATTERN)``, as PTB's examples do). Data that matches no
pattern (stale, forged, from an older bot) gets the "expired" alert from the catch-all handler.

Telegram allows 64 bytes of callback data; every ``encode()`` stays far below (tests check the longest).
Answer buttons point to answer sessions kept in SQLite, so they work after a restart.

    p:<token>:<page>     AnswerPage        a page of an answer (edits the answer in place)
    f:<token>:<+|->      Feedback          👍 / 👎 on an answer
    a:<article>:<page>   OpenArticle       open an article as a new message (answers, digests, /latest)
    ap:<article>:<page>  ArticlePage       page through an article (edits the article message in place)
    q:<n>                Example           ask one of /start's example questions
    s:d:<sub>            EndSubscription   end a digest subscription
    s:t:<sub>:<HHMM>     MoveSubscription  move it to another time of day
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from ..config import parse_hhmm

__all__ = [
    "KINDS",
    "MAX_BYTES",
    "AnswerPage",
    "ArticlePage",
    "Button",
    "CallbackData",
    "EndSubscription",
    "Example",
    "Feedback",
    "MoveSubscription",
    "OpenArticle",
]

MAX_BYTES = 64  # Telegram's limit on callback data

# How each type of field is written into callback data and read back (None: not a valid value).
_WRITE: dict[str, Callable[[Any], str]] = {
    "int": str,
    "str": str,
    "bool": lambda v: "+" if v else "-",
    "dt.time": lambda v: f"{v:%H%M}",
}
_READ: dict[str, Callable[[str], Any]] = {
    "int": int,
    "str": str,
    "bool": lambda g: g == "+",
    "dt.time": parse_hhmm,
}


def _pattern(prefix: str, *fields: str) -> re.Pattern[str]:
    """``prefix:field:field`` with each field's regex, anchored at both ends (PTB routes with ``match``)."""
    return re.compile(re.escape(prefix) + "".join(f":({f})" for f in fields) + r"\Z", re.ASCII)


@dataclass(frozen=True)
class CallbackData:
    """A kind of button: its fields, in order, after a prefix, separated by colons."""

    PREFIX: ClassVar[str]
    PATTERN: ClassVar[re.Pattern[str]]

    def __init_subclass__(cls, *, prefix: str, fields: tuple[str, ...]) -> None:
        """``prefix`` and one regex per field, in order: what the data looks like and how it is routed."""
        cls.PREFIX, cls.PATTERN = prefix, _pattern(prefix, *fields)

    def encode(self) -> str:
        values = (_WRITE[str(f.type)](getattr(self, f.name)) for f in dataclasses.fields(self))
        return ":".join([self.PREFIX, *values])

    @classmethod
    def parse(cls, data: str | None) -> Self | None:
        """The button ``data`` encodes, or None when it is not one of this kind."""
        m = cls.PATTERN.match(data or "")
        if m is None:
            return None
        values = [_READ[str(f.type)](g) for f, g in zip(dataclasses.fields(cls), m.groups(), strict=True)]
        return None if None in values else cls(*values)


@dataclass(frozen=True)
class AnswerPage(CallbackData, prefix="p", fields=(r"[\w-]{4,16}", r"\d{1,2}")):
    token: str
    page: int


@dataclass(frozen=True)
class Feedback(CallbackData, prefix="f", fields=(r"[\w-]{4,16}", r"[+-]")):
    token: str
    helpful: bool


@dataclass(frozen=True)
class OpenArticle(CallbackData, prefix="a", fields=(r"\d{1,12}", r"\d{1,4}")):
    article_id: int
    page: int = 0


@dataclass(frozen=True)
class ArticlePage(CallbackData, prefix="ap", fields=(r"\d{1,12}", r"\d{1,4}")):
    article_id: int
    page: int


@dataclass(frozen=True)
class Example(CallbackData, prefix="q", fields=(r"\d",)):
    index: int


@dataclass(frozen=True)
class EndSubscription(CallbackData, prefix="s:d", fields=(r"\d{1,12}",)):
    subscription_id: int


@dataclass(frozen=True)
class MoveSubscription(CallbackData, prefix="s:t", fields=(r"\d{1,12}", r"\d{4}")):
    subscription_id: int
    at: dt.time


Button = AnswerPage | Feedback | OpenArticle | ArticlePage | Example | EndSubscription | MoveSubscription
KINDS: tuple[type[Button], ...] = (
    AnswerPage,
    Feedback,
    OpenArticle,
    ArticlePage,
    Example,
    EndSubscription,
    MoveSubscription,
)
