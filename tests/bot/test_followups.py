"""Follow-up questions over the sample page and the follow-up fixtures (tests/data/followups/): each
conversation's second question is completed from the first (its time, its subject, the person its
short answer names) — or left alone when it has a subject of its own — and then answered."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.render.terminal import render_terminal
from bot.service import NewsService
from corpus import ingest_paths
from retrieval.tokenize import Tokenizer

DATA = Path(__file__).resolve().parents[1] / "data" / "followups"
CONVERSATIONS = [json.loads(line) for line in (DATA / "conversations.jsonl").read_text("utf-8").splitlines()]
NOW = dt.date(2025, 6, 1)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, tok: Tokenizer) -> Iterator[NewsService]:
    folder = tmp_path_factory.mktemp("followups")
    service = NewsService.open(
        load_settings(env={}, db=str(folder / "f.db")), tokenizer=tok
    )  # sample page in
    ingest_paths(service.store, [DATA / "articles.jsonl"], now="2025-06-01T00:00:00+00:00")
    service.refresh()
    yield service
    service.close()


def test_the_table_has_every_kind_of_follow_up() -> None:
    kinds = [c["kind"] for c in CONVERSATIONS]
    assert len(kinds) >= 30 and {"time", "subject", "pronoun", "new"} <= set(kinds)


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=lambda c: f"{c['kind']}:{c['second']}")
def test_a_follow_up_is_understood_and_answered(service: NewsService, conversation: dict[str, Any]) -> None:
    first = service.ask(conversation["first"], now=NOW)
    second = service.ask(conversation["second"], now=NOW, after=first)
    if conversation["kind"] == "new":
        assert second.understood == ""  # its own subject: asked as it is
    else:
        assert conversation["understood"] in second.understood, second.understood
        assert render_terminal(second).splitlines()[1].startswith("（接着上一个问题")
    assert second.answered, render_terminal(second)
    assert conversation["answer"] in render_terminal(second), render_terminal(second)


def test_without_a_previous_answer_a_fragment_is_just_a_question(service: NewsService) -> None:
    alone = service.ask("那去年呢？", now=NOW)
    assert alone.understood == "" and not alone.answered
