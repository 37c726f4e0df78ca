"""Sentence splitting by Chinese conventions."""

from __future__ import annotations

import itertools

import pytest

from retrieval.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("第一句。第二句！第三句？", ["第一句。", "第二句！", "第三句？"]),
        ("他说：“我们是在和时间赛跑。”曹志怀说。", ["他说：“我们是在和时间赛跑。”", "曹志怀说。"]),
        ("情况复杂……回忆起来", ["情况复杂……", "回忆起来"]),
        ("线下,投入680万元;线上,开发平台。", ["线下,投入680万元;", "线上,开发平台。"]),
        ("宣讲4.3万场次,辐射430.7万人次。", ["宣讲4.3万场次,辐射430.7万人次。"]),
        ("It works. Really!  Yes?", ["It works. ", "Really!  ", "Yes?"]),
        ("visit example.com today", ["visit example.com today"]),
        ("「好」。『对』", ["「好」。", "『对』"]),
        ("", []),
    ],
)
def test_split(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_spans_cover_the_text_without_gaps() -> None:
    text = "一。二！三？“四。”五；六……七"
    spans = split_sentences(text)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
