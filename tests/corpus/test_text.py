"""Long paragraphs split where a reader would pause, and nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus import Store, ingest_paths
from corpus.text import MAX_PARAGRAPH_CHARS, split_long
from tests.conftest import NOW
from tests.corpus.test_ingest import write_jsonl


@pytest.mark.parametrize(
    "text",
    [
        "短句。" * 2000,  # many sentences
        "很长的分句，" * 1000 + "。",  # no sentence end, clause marks
        "字" * 5000,  # nothing to cut at
        "e\u0301" * 3000,  # combining marks stay with their letters
        "一句话。",
    ],
)
def test_pieces_stay_within_the_limit_and_lay_end_to_end_as_the_text(text: str) -> None:
    pieces = split_long(text)
    assert "".join(pieces) == text
    assert all(0 < len(p) <= MAX_PARAGRAPH_CHARS for p in pieces)
    assert all(not p.startswith("\u0301") for p in pieces)


def test_cuts_fall_at_sentence_ends_when_there_are_some() -> None:
    pieces = split_long("短句。" * 2000)
    assert len(pieces) == 4 and all(p.endswith("。") for p in pieces)  # 1,998 characters, three times, and 6


def test_an_overlong_paragraph_is_stored_as_several(store: Store, tmp_path: Path) -> None:
    body = "象州县投入680万元加强实体平台建设。" * 300  # one 5,700-character line
    report = ingest_paths(
        store, [write_jsonl(tmp_path / "long.jsonl", [{"id": "L", "title": "长段", "text": body}])], now=NOW
    )
    assert report.articles == 1 and not report.problems
    article = store.article_by_external_id("L")
    assert article is not None and len(article.paragraphs) == 3
    assert "".join(p.text for p in article.paragraphs) == body
    assert max(len(p.text) for p in article.paragraphs) <= MAX_PARAGRAPH_CHARS
