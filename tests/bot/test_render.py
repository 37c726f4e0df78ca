"""Rendering: escaped Telegram HTML within 4096, terminal colours, JSON round trip, article pages."""

from __future__ import annotations

import json
import re

import pytest

from bot import sessions
from bot.render.json import answer_json
from bot.render.telegram import TELEGRAM_LIMIT, article_pages, render_telegram, strip_tags, telegram_length
from bot.render.terminal import article_text, render_terminal
from corpus import Article, Paragraph
from retrieval.compose import Answer, Passage, Source

ALLOWED = re.compile(r"</?(b|i|u|a|blockquote)( href=\"[^\"]*\")?>")


def source(**kw: object) -> Source:
    base: dict[str, object] = dict(article_id=7, external_id="x-1", headline="标题<b>", kicker="", subtitle="",
                                   date="2023-08-21", publication="工人日报", page="3", url=None, paragraph=4,
                                   paragraph_id=99)  # fmt: skip
    base.update(kw)
    return Source(**base)  # type: ignore[arg-type]


def answer(*quotes: str, highlights: tuple[tuple[int, int], ...] = ()) -> Answer:
    passages = tuple(
        Passage(quote=q, highlights=highlights, source=source(), score=1.0, matched=()) for q in quotes
    )
    return Answer(
        question="问题<i>?", answered=True, passages=passages, per_page=3, terms=("问题",), coverage=1.0
    )


def assert_valid_html(text: str) -> None:
    assert telegram_length(text) <= TELEGRAM_LIMIT
    tags = re.findall(r"<[^>]+>", text)
    assert all(ALLOWED.fullmatch(t) for t in tags), tags
    stack: list[str] = []
    for t in tags:
        name = re.match(r"</?(\w+)", t).group(1)  # type: ignore[union-attr]
        if t.startswith("</"):
            assert stack and stack.pop() == name
        else:
            stack.append(name)
    assert not stack
    assert not re.search(r"&(?!(lt|gt|amp|quot|#\d+);)", text)


def test_everything_is_escaped_and_highlights_are_bold() -> None:
    quote = "<script>alert('x')</script> & 680万元"
    a = answer(quote, highlights=((quote.index("680"), len(quote)),))
    html = render_telegram(a)
    assert_valid_html(html)
    assert "&lt;script&gt;" in html and "<b>680万元</b>" in html
    assert "标题&lt;b&gt;" in html and "问题&lt;i&gt;?" in html
    assert "第4段" in html and "工人日报" in html and "第3版" in html and "#7 (x-1)" in html
    assert strip_tags(html).count("<script>") == 1


def test_a_url_becomes_a_link_with_an_escaped_href() -> None:
    passage = Passage(
        quote="quote", highlights=(), source=source(url='https://x.cn/a?b=1&c="2"'), score=1.0, matched=()
    )
    a = Answer(question="q", answered=True, passages=(passage,), per_page=3, terms=(), coverage=1.0)
    html = render_telegram(a)
    assert_valid_html(html)
    assert 'href="https://x.cn/a?b=1&amp;c=&quot;2&quot;"' in html


def test_long_passages_are_dropped_or_cut_never_over_the_limit() -> None:
    long_sentence = "很长的句子，" * 300 + "。"
    a = answer(long_sentence * 2, long_sentence, long_sentence)
    html = render_telegram(a)
    assert_valid_html(html)
    assert html.count("<blockquote>") >= 1


@pytest.mark.parametrize("filler", ["👩‍👩‍👧‍👦", "é", "<&>", "🇨🇳"])
def test_cutting_never_splits_an_emoji_or_an_entity(filler: str) -> None:
    quote = filler * 5000
    html = render_telegram(answer(quote))
    assert_valid_html(html)
    body = strip_tags(html)
    if filler == "👩‍👩‍👧‍👦":
        assert "\u200d…" not in body and "\u200d\n" not in body


def test_not_found_shows_the_suggestions() -> None:
    a = Answer(
        question="上海地铁<票价>",
        answered=False,
        per_page=3,
        coverage=0.1,
        reason="low_coverage",
        suggestions=("地铁", "票价调整"),
    )
    html = render_telegram(a)
    assert_valid_html(html)
    assert "没有找到" in html and "「地铁」" in html and "&lt;票价&gt;" in html


def test_terminal_colour_only_when_asked() -> None:
    a = answer("投入680万元加强建设", highlights=((2, 7),))
    assert "\033[" not in render_terminal(a)
    assert "\033[1;33m680万元\033[0m" in render_terminal(a, color=True)


def test_a_stored_session_gives_back_everything_the_buttons_need() -> None:
    a = answer("一", "二", "三", "四", highlights=((0, 1),))
    back = sessions.decode(sessions.encode(a))
    assert back == a
    assert back is not None and render_telegram(back, 1) == render_telegram(a, 1)


def test_sessions_stored_before_versioning_still_open_and_unknown_ones_expire() -> None:
    a = answer("一", "二", highlights=((0, 1),))
    legacy = json.dumps(
        answer_json(a), ensure_ascii=False
    )  # what the bot stored before sessions had versions
    assert sessions.decode(legacy) == a
    assert sessions.decode(json.dumps({"v": sessions.VERSION + 1, "question": "?"})) is None
    assert sessions.decode("{not json") is None
    assert sessions.decode(json.dumps({"v": 1, "question": "缺了字段"})) is None


def test_the_cli_json_is_not_the_session_format() -> None:
    a = answer("一", highlights=((0, 1),))
    data = answer_json(a)
    assert data["passages"][0]["highlighted"] == ["一"]  # for scripts; sessions do not keep it
    assert "highlighted" not in sessions.encode(a)


def article_of(paragraphs: tuple[Paragraph, ...], **fields: object) -> Article:
    base: dict[str, object] = dict(id=1, headline="标题", kicker="", subtitle="", byline="", guide_label="",
                                   external_id=None, date=None, source=None, page=None, url=None, author=None,
                                   jumps=(), file_id=None, ingested_at="2023-08-21T00:00:00+00:00", day="2023-08-21")  # fmt: skip
    base.update(fields)
    return Article(**base, paragraphs=paragraphs)  # type: ignore[arg-type]


def test_article_pages_split_between_paragraphs_within_the_limit() -> None:
    paragraphs = tuple(
        Paragraph(id=i, article_id=1, ordinal=i, kind="body", text=f"第{i}段<内容>" + "字" * 900)
        for i in range(1, 15)
    )
    article = article_of(paragraphs, kicker="引题", byline="本报记者 某某", date="2023-08-21", source="报")
    pages = article_pages(article)
    assert len(pages) >= 3
    for page in pages:
        assert_valid_html(page)
    text = "".join(strip_tags(p) for p in pages)
    assert all(f"第{i}段<内容>" in text for i in range(1, 15))


def test_a_giant_paragraph_is_cut_at_sentence_ends() -> None:
    article = article_of((Paragraph(id=1, article_id=1, ordinal=1, kind="body", text="短句。" * 3000),))
    pages = article_pages(article)
    assert len(pages) >= 3
    for page in pages:
        assert_valid_html(page)
    assert all(strip_tags(p).rstrip().endswith("。") for p in pages)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("out_of_range", "资料库收录的是 2022-01-01 至 2026-08-21 的报道，没有「2028」的"),
        ("wrong_time", "没有找到「2028」的相关报道"),
        ("focus_missing", "都没有提到「股价」"),
    ],
)
def test_refusals_say_why_and_offer_the_nearest_reports_as_such(reason: str, expected: str) -> None:
    a = Answer(
        question="2028年英特尔的股价是多少？",
        answered=False,
        per_page=3,
        reason=reason,
        suggestions=("韩正会见美国英特尔公司首席执行官（2023-04-12）",),
        period="2028",
        focus=("股价",),
        archive=("2022-01-01", "2026-08-21"),
    )
    for text in (strip_tags(render_telegram(a)), render_terminal(a)):
        assert expected in text
        assert "相近的报道（不是答案）：「韩正会见美国英特尔公司首席执行官（2023-04-12）」" in text
    assert sessions.decode(sessions.encode(a)) == a


def test_an_untitled_article_is_shown_by_its_first_sentence_marked_as_such() -> None:
    a = answer("某地发布暴雨预警。")
    derived = Answer(
        question=a.question,
        answered=True,
        passages=(
            Passage(
                quote="某地发布暴雨预警。",
                highlights=(),
                source=source(headline="某地发布暴雨预警", headline_derived=True),
                score=1.0,
                matched=(),
            ),
        ),
        per_page=3,
    )
    for text in (strip_tags(render_telegram(derived)), render_terminal(derived)):
        assert "〔无标题〕某地发布暴雨预警" in text
    assert "〔无标题〕" not in render_terminal(a)
    assert sessions.decode(sessions.encode(derived)) == derived


def test_one_article_renderer_per_target_shows_the_same_article() -> None:
    paragraphs = (
        Paragraph(id=1, article_id=1, ordinal=1, kind="guide", text="导读的话"),
        Paragraph(id=2, article_id=1, ordinal=2, kind="subhead", text="小标题"),
        Paragraph(id=3, article_id=1, ordinal=3, kind="body", text="正文<第一段>。"),
    )
    untitled = article_of(paragraphs, headline="", kicker="引题", source="工人日报", page="3")
    text = article_text(untitled)
    assert text.splitlines()[:3] == ["引题", "（无标题）", "2023-08-21 · 工人日报 · 第3版"]
    assert "【导读】导读的话" in text and "■ 小标题" in text and "正文<第一段>。" in text
    html_text = strip_tags("".join(article_pages(untitled)))
    assert "（无标题）" in html_text and "导读：导读的话" in html_text and "正文<第一段>。" in html_text


def test_the_short_answer_comes_first_and_is_underlined_in_its_quote() -> None:
    quote = "象州县投入680万元加强实体平台建设"
    at = quote.index("680万元")
    passage = Passage(
        quote=quote,
        highlights=((0, 3), (at - 2, at + 5)),  # 象州县, and 投入680万元 overlapping the answer
        source=source(),
        score=1.0,
        matched=(),
        answer_span=(at, at + 5),
    )
    a = Answer(question="象州县投入多少钱？", answered=True, passages=(passage,), per_page=3, short="680万元")
    html = render_telegram(a)
    assert_valid_html(html)
    assert strip_tags(html).splitlines()[1] == "答：680万元"
    assert "<b>象州县</b><b>投入</b><b><u>680万元</u></b>加强" in html
    text = render_terminal(a)
    assert text.splitlines()[1] == "答：680万元"
    assert "\033[1;4;32m680万元\033[0m" in render_terminal(a, color=True)
    data = answer_json(a)
    assert data["short_answer"] == "680万元" and data["passages"][0]["answer_span"] == [at, at + 5]
    assert sessions.decode(sessions.encode(a)) == a


def test_no_short_answer_line_when_there_is_none() -> None:
    a = answer("投入680万元加强建设")
    assert "答：" not in strip_tags(render_telegram(a)) and "答：" not in render_terminal(a)
