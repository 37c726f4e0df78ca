"""rjieba (used for speed) yields exactly jieba's tokens with the same dictionary and user words."""

from __future__ import annotations

import json
import logging

import jieba
import pytest

from retrieval.tokenize import Tokenizer, default_userdict
from tests.conftest import CMRC, SAMPLE_PAGE


@pytest.fixture(scope="module")
def engines() -> tuple[Tokenizer, jieba.Tokenizer]:
    ours = Tokenizer(default_userdict())
    reference = jieba.Tokenizer()
    jieba.setLogLevel(logging.WARNING)
    reference.initialize()
    for word, freq, tag in ours.user_words:
        reference.add_word(word, freq, tag or None)
    return ours, reference


def _texts() -> list[str]:
    texts = [line for line in SAMPLE_PAGE.read_text(encoding="utf-8").splitlines() if line.strip()]
    with (CMRC / "corpus.jsonl").open(encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for line in f]
    with (CMRC / "queries.jsonl").open(encoding="utf-8") as f:
        texts += [json.loads(line)["question"] for line in f]
    return texts


def test_rjieba_cuts_like_jieba_on_the_sample_page_and_cmrc(
    engines: tuple[Tokenizer, jieba.Tokenizer],
) -> None:
    ours, reference = engines
    texts = _texts()
    assert len(texts) > 1_400
    differ = [t for t in texts if ours.cut(ours.normalize(t)) != reference.lcut(ours.normalize(t), HMM=False)]
    assert differ == []
