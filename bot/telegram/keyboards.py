"""Every inline keyboard the bot sends, built from the typed buttons of ``callbacks``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from corpus.botstate import Subscription
from retrieval.compose import Answer

from .. import messages as msg
from .callbacks import (
    AnswerPage,
    ArticlePage,
    Button,
    EndSubscription,
    Example,
    Feedback,
    MoveSubscription,
    OpenArticle,
)

__all__ = [
    "answer_keyboard",
    "article_buttons",
    "article_pager",
    "examples_keyboard",
    "subscriptions_keyboard",
]

_PER_ROW = 5
_MAX_ARTICLE_BUTTONS = 50
MOVE_TO = (dt.time(7, 0), dt.time(12, 0), dt.time(20, 0))  # the times a subscription's buttons offer


def _button(text: str, data: Button) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.encode())


def answer_keyboard(answer: Answer, token: str, page: int) -> InlineKeyboardMarkup | None:
    """全文 for each passage on the page; 👍 👎; previous and next page."""
    if not answer.answered:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    passages = answer.page(page)
    if passages:
        rows.append(
            [
                _button(
                    msg.FULL_TEXT_N.format(n=i + 1) if len(passages) > 1 else msg.FULL_TEXT,
                    OpenArticle(p.source.article_id),
                )
                for i, p in enumerate(passages)
            ]
        )
    nav = [_button("👍", Feedback(token, True)), _button("👎", Feedback(token, False))]
    if page > 0:
        nav.append(_button(msg.PREVIOUS, AnswerPage(token, page - 1)))
    if page + 1 < answer.pages:
        nav.append(_button(msg.MORE, AnswerPage(token, page + 1)))
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


def article_buttons(article_ids: Sequence[int], labels: Sequence[str] = ()) -> InlineKeyboardMarkup | None:
    """Buttons that open articles (a digest's, /latest's), five to a row, labelled ``#id`` unless given."""
    if not article_ids:
        return None
    ids = list(article_ids)[:_MAX_ARTICLE_BUTTONS]
    texts = list(labels) or [f"#{a}" for a in ids]
    buttons = [_button(text, OpenArticle(a)) for text, a in zip(texts, ids, strict=False)]
    return InlineKeyboardMarkup([buttons[i : i + _PER_ROW] for i in range(0, len(buttons), _PER_ROW)])


def article_pager(article_id: int, page: int, pages: int) -> InlineKeyboardMarkup | None:
    """Previous, the page counter (n/N) and next, for an article longer than one message."""
    if pages <= 1:
        return None
    nav = []
    if page > 0:
        nav.append(_button(msg.PREVIOUS, ArticlePage(article_id, page - 1)))
    nav.append(_button(f"{page + 1}/{pages}", ArticlePage(article_id, page)))
    if page + 1 < pages:
        nav.append(_button(msg.NEXT, ArticlePage(article_id, page + 1)))
    return InlineKeyboardMarkup([nav])


def examples_keyboard(examples: Sequence[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(q, Example(i))] for i, q in enumerate(examples)])


def subscriptions_keyboard(subscriptions: Sequence[Subscription]) -> InlineKeyboardMarkup:
    """Per subscription: delete it, or move it to one of the other usual times."""
    rows = []
    for sub in subscriptions:
        row = [_button(msg.SUBSCRIPTION_DELETE.format(id=sub.id), EndSubscription(sub.id))]
        for at in MOVE_TO:
            if f"{at:%H:%M}" != sub.at:
                row.append(
                    _button(
                        msg.SUBSCRIPTION_TIME.format(id=sub.id, at=f"{at:%H:%M}"),
                        MoveSubscription(sub.id, at),
                    )
                )
        rows.append(row)
    return InlineKeyboardMarkup(rows)
