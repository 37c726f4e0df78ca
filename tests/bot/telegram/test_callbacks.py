"""Typed buttons (``bot/telegram/callbacks.py``): every kind reads back what it wrote, stays within
Telegram's 64 bytes at its largest values, and no kind reads another's data or forged data."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.telegram import callbacks as cb
from bot.telegram.callbacks import Button

LARGEST: list[Button] = [
    cb.AnswerPage("A" * 16, 99),
    cb.Feedback("z" * 16, False),
    cb.OpenArticle(10**12 - 1, 9999),
    cb.ArticlePage(10**12 - 1, 9999),
    cb.Example(9),
    cb.EndSubscription(10**12 - 1),
    cb.MoveSubscription(10**12 - 1, dt.time(23, 59)),
]


def test_every_kind_is_covered() -> None:
    assert {type(b) for b in LARGEST} == set(cb.KINDS)


@pytest.mark.parametrize("button", LARGEST, ids=lambda b: type(b).__name__)
def test_a_button_reads_back_what_it_wrote_within_64_bytes(button: Button) -> None:
    data = button.encode()
    assert len(data.encode()) <= cb.MAX_BYTES
    assert type(button).parse(data) == button
    assert [kind for kind in cb.KINDS if kind.PATTERN.match(data)] == [type(button)]  # routed to one handler


@pytest.mark.parametrize(
    "data",
    ["", "nonsense", "p:x:1", "p:AAAA:100", "f:AAAA:*", "a:1", "a:1:2:3", "ap:-1:0", "q:10", "q:x",
     "s:d:²", "s:d:" + "9" * 40, "s:x:1", "s:t:1", "s:t:1:2460", "p:AAAAAAAA:1\n"],
)  # fmt: skip
def test_forged_data_is_read_by_no_kind(data: str) -> None:
    assert [kind for kind in cb.KINDS if kind.parse(data) is not None] == []


def test_a_move_to_an_impossible_time_matches_its_route_but_does_not_parse() -> None:
    assert cb.MoveSubscription.PATTERN.match("s:t:1:9999")  # so its handler answers with the expired alert
    assert cb.MoveSubscription.parse("s:t:1:9999") is None
    assert cb.MoveSubscription.parse("s:t:1:0730") == cb.MoveSubscription(1, dt.time(7, 30))
