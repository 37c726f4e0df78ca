"""Short answers: the one span that answers, of the asked kind, or nothing when unsure."""

from __future__ import annotations

import datetime as dt

import pytest

from retrieval.question import parse_question
from retrieval.shortanswer import short_answer
from retrieval.tokenize import Tokenizer

TODAY = dt.date(2024, 10, 1)


def short(tok: Tokenizer, question: str, quote: str) -> str | None:
    found = short_answer(parse_question(question, tok, TODAY), quote, tok)
    if found is not None:
        assert quote[found.start : found.end] == found.text  # it points into the quote
    return found.text if found else None


@pytest.mark.parametrize(
    ("question", "quote", "expected"),
    [
        # a number with the unit the question names, not another number of the sentence
        ("滨江区今年改造了多少户老旧住房？", "滨江区今年改造老旧住房320户，加装电梯48部。", "320户"),
        ("滨江区今年加装了几部电梯？", "滨江区今年改造老旧住房320户，加装电梯48部。", "48部"),
        ("这座桥的主跨有多长？", "大桥全长2.3公里，主跨长度为1200米，两年建成。", "1200米"),
        ("项目总投资多少钱？", "项目总投资12.5亿元，占地300亩。", "12.5亿元"),
        # a date or period for 哪几天 / 哪一年
        ("论坛是哪几天举行的？", "本届论坛于9月24日至27日在杭州举行，30个国家的代表参加。", "9月24日至27日"),
        ("这座图书馆是哪一年建成的？", "这座图书馆于1998年建成，2015年扩建。", "1998年"),  # the gap
        ("这座图书馆是哪一年扩建的？", "这座图书馆在1998年和2015年两次扩建。", None),  # two years: unsure
        # a person beside the role the question names
        ("幼儿园的园长是谁？", "眼看临近开学，园长王青急得上火。", "王青"),
        # a place of the type asked for
        ("合作社在哪个村？", "这家合作社设在桃源村，带动周边农户200多户。", "桃源村"),
        # a title in 《》 for a work
        ("他们排演了哪部话剧？", "剧团今年排演了话剧《春风》，在全省巡演。", "《春风》"),
    ],
)
def test_the_span_that_answers(tok: Tokenizer, question: str, quote: str, expected: str | None) -> None:
    assert short(tok, question, quote) == expected


@pytest.mark.parametrize(
    ("question", "quote"),
    [
        ("为什么要改造老旧住房？", "改造老旧住房是为了让居民住得更舒心。"),  # a reason: no short answer
        ("滨江区今年改造了多少户老旧住房？", "滨江区今年改造老旧住房，居民很满意。"),  # no number at all
        ("哪几个城市参加了联赛？", "共有6个城市参加联赛。"),  # the items, not their number
        ("项目一期和二期分别投资多少？", "一期投资5亿元，二期投资8亿元。"),  # two answers
        ("大桥投资12亿元，主跨多长？", "大桥投资12亿元。"),  # the question's own number is not an answer
    ],
)
def test_nothing_when_unsure(tok: Tokenizer, question: str, quote: str) -> None:
    assert short(tok, question, quote) is None
