"""The composer: answers quoted from the right sentences, honest refusals, reprints and per-article limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.render.telegram import render_telegram, strip_tags
from bot.service import NewsService, QuestionTooLong
from corpus import Store, ingest_paths
from retrieval.lexicon import question_kind
from tests.conftest import CMRC, NOW, SAMPLE_PAGE, SEEDS


def open_service(tmp: Path, *paths: Path) -> NewsService:
    store = Store(tmp / "t.db")
    ingest_paths(store, list(paths), now=NOW)
    return NewsService.open(load_settings(env={}, db=str(tmp / "t.db")), store=store, persist=False)


@pytest.fixture(scope="module")
def with_distractors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewsService]:
    """The sample page among 300 cmrc2018 paragraphs as distractors."""
    service = open_service(tmp_path_factory.mktemp("seed"), SAMPLE_PAGE, CMRC / "corpus.jsonl")
    yield service
    service.close()


@pytest.fixture
def sample(tmp_path: Path) -> Iterator[NewsService]:
    service = open_service(tmp_path, SAMPLE_PAGE)
    yield service
    service.close()


@pytest.mark.parametrize("seed", [s for s in SEEDS if s["answers"]], ids=lambda s: s["qid"])
def test_seed_answers_are_in_the_first_reply(with_distractors: NewsService, seed: dict[str, object]) -> None:
    answer = with_distractors.ask(str(seed["question"]))
    shown = strip_tags(render_telegram(answer))
    assert answer.answered
    assert any(str(a) in shown for a in seed["answers"]), shown  # type: ignore[attr-defined]
    assert str(seed["article"]) in answer.passages[0].source.headline


@pytest.mark.parametrize("seed", [s for s in SEEDS if not s["answers"]], ids=lambda s: s["qid"])
def test_seed_questions_the_corpus_cannot_answer_are_refused(
    with_distractors: NewsService, seed: dict[str, object]
) -> None:
    answer = with_distractors.ask(str(seed["question"]))
    assert not answer.answered and answer.reason in ("low_coverage", "no_match")
    assert "没有找到" in render_telegram(answer)


def test_the_answer_sentence_is_quoted_verbatim_and_trimmed_at_sentence_ends(sample: NewsService) -> None:
    answer = sample.ask("象州县投入多少钱加强实体平台建设?")
    first = answer.passages[0]
    assert "线下,投入680万元加强实体平台建设" in first.quote
    assert first.source.headline == "广西象州县“三融合”加强工会建设" and first.source.paragraph == 2
    paragraph = sample.article(str(first.source.article_id)).paragraphs[first.source.paragraph - 1].text  # type: ignore[union-attr]
    inner = first.quote.strip("…")
    assert inner in paragraph
    if first.quote.startswith("…"):
        assert paragraph[paragraph.index(inner) - 1] in "。!?！？;；”"
    assert len(inner) <= 200


def test_highlights_mark_the_question_terms(sample: NewsService) -> None:
    answer = sample.ask("象州县投入多少钱加强实体平台建设?")
    marked = [answer.passages[0].quote[s:e] for s, e in answer.passages[0].highlights]
    assert "实体平台建设" in "".join(marked) or {"实体", "平台", "建设"} <= set(
        "".join(marked).split()
    ) | set(marked)
    assert "象州县" in marked


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   \n",
        "😀😀😀",
        "<b>bold</b> **md** _x_ [a](b) &amp;",
        "what is this",
        "的了是吗呢",
        "？！。，",
        "<script>alert(1)</script>",
    ],
)
def test_odd_questions_get_a_sensible_reply(sample: NewsService, question: str) -> None:
    answer = sample.ask(question)
    reply = render_telegram(answer)
    assert not answer.answered
    assert reply and "<script>" not in reply and "<b>bold" not in reply


def test_traditional_characters_find_simplified_text(sample: NewsService) -> None:
    answer = sample.ask("象州縣投入多少錢加強實體平台建設？")
    assert answer.answered and "680万元" in answer.passages[0].quote


def test_an_overlong_question_is_refused_with_its_length(sample: NewsService) -> None:
    with pytest.raises(QuestionTooLong) as info:
        sample.ask("象州" * 5000)
    assert info.value.length == 10_000 and info.value.limit == 500


def test_reprints_are_quoted_once_and_one_article_fills_at_most_two_slots(tmp_path: Path) -> None:
    text = "杭州亚运会志愿者招募工作近日完成,共有3.76万名志愿者入选。"
    rows = [
        {"id": "a", "title": "亚运志愿者招募完成", "text": text},
        {"id": "b", "title": "亚运志愿者招募完成(转载)", "text": text},
        {
            "id": "c",
            "title": "亚运会志愿者",
            "text": "\n".join(
                [
                    "亚运会志愿者第一批名单公布,大学生占多数。",
                    "志愿者培训分三个阶段进行,亚运会开幕前结束。",
                    "亚运会志愿者的服装由本地企业设计制作。",
                    "退休教师报名成为亚运会城市志愿者。",
                ]
            ),
        },
        {"id": "d", "title": "志愿者服务", "text": "亚运会志愿者将在56个竞赛场馆提供服务。"},
    ]
    feed = tmp_path / "f.jsonl"
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    service = open_service(tmp_path, feed)
    answer = service.ask("亚运会志愿者")
    quotes = [p.quote for p in answer.passages]
    assert sum(text in q for q in quotes) == 1
    first_page = [p.source.external_id for p in answer.page(0)]
    assert first_page.count("c") <= 2
    assert len(answer.passages) > 3  # the rest of c is on later pages
    service.close()


@pytest.mark.parametrize(
    ("question", "kind"),
    [("象州县投入多少钱?", "number"), ("园长是谁?", "person"), ("抢险队员晚上睡在哪里?", "place"),
     ("什么时候完成清淤?", "time"), ("为什么要清淤?", "reason"), ("大庆油田通过什么APP开展活动?", "what"),
     ("大庆油田开展活动", None)],
)  # fmt: skip
def test_question_kinds(question: str, kind: str | None) -> None:
    assert question_kind(question) == kind
