"""A question parsed once: roles of its words, search terms, focus, names, numbers, times, date fit."""

from __future__ import annotations

import datetime as dt

import pytest

from retrieval.question import ASKING_ROLE, CONTENT, FILLER, TIME_ROLE, Question, parse_question
from retrieval.tokenize import Tokenizer, default_userdict

NOW = dt.date(2025, 3, 10)


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer(default_userdict())


def parse(tok: Tokenizer, text: str, now: dt.date = NOW) -> Question:
    return parse_question(text, tok, now)


def role_of(q: Question, word: str) -> str:
    return q.roles[q.words.index(word)]


def test_a_question_without_time_or_fillers_searches_what_the_tokenizer_gives(tok: Tokenizer) -> None:
    for text in ["大安山乡中心幼儿园的园长是谁?", "范廷颂担任什么职务", "黄河流域生态保护"]:
        assert list(parse(tok, text).terms) == tok.query_terms(text)
    assert "钱" not in parse(tok, "象州县投入多少钱加强实体平台建设?").terms  # how it asks, not what about


def test_time_words_are_times_not_content(tok: Tokenizer) -> None:
    q = parse(tok, "2023年五一假期全国铁路发送旅客多少人次？")
    assert role_of(q, "2023") == TIME_ROLE and role_of(q, "五一") == TIME_ROLE
    assert "铁路" in q.content_words and "2023" not in q.content_words
    assert "五一" in q.terms  # an absolute time is still searched for as the words it is
    assert [t.label() for t in q.times] == ["2023-04-29 至 2023-05-03"]


def test_relative_time_words_are_not_searched_for(tok: Tokenizer) -> None:
    q = parse(tok, "上个月全国居民消费价格同比上涨多少？")
    assert "上个月" not in q.terms and q.times[0].label() == "2025-02"
    assert "去年" not in parse(tok, "去年全国早稻产了多少斤？").terms


def test_asking_and_filler_words_are_neither_searched_for_nor_required(tok: Tokenizer) -> None:
    q = parse(tok, "最近听说我国卫星数量排到世界第二，具体有多少颗？")
    assert role_of(q, "听说") == FILLER and role_of(q, "具体") == FILLER
    assert role_of(q, "多少") == ASKING_ROLE and role_of(q, "颗") == ASKING_ROLE
    assert role_of(q, "卫星") == CONTENT
    assert not {"听说", "具体", "多少", "颗"} & set(q.terms)
    assert role_of(parse(tok, "石油输出国组织秘书长叫什么？"), "叫") == ASKING_ROLE  # the frame 叫什么


@pytest.mark.parametrize(
    ("text", "focus"),
    [
        ("英特尔公司的股价现在是多少？", ("股价",)),
        ("硅谷银行倒闭前有多少名员工？", ("员工",)),
        ("参观贵州的中国天眼要买多少钱的门票？", ("门票",)),
        ("眉山三苏祠的门票多少钱？", ("门票",)),
        ("美国景顺集团管理的资产规模有多大？", ("资产",)),  # 规模 only says "how much"
        ("微信账号要怎么注销？", ("注销",)),  # advice on doing something
        ("如何办理护照？", ("办理",)),
        ("白荡湖是怎样形成的？", ()),  # a description, answered in other words
        ("高铁网主通道的里程占规划总里程的比例是多少？", ()),
        ("江西对全程机械作业的按亩给多少钱补助？", ()),  # a verb: texts say 补贴
        ("大安山乡中心幼儿园的园长是谁？", ()),
    ],
)
def test_the_focus_is_the_attribute_asked_about(tok: Tokenizer, text: str, focus: tuple[str, ...]) -> None:
    assert parse(tok, text).focus == focus


def test_names_and_numbers_the_question_gives(tok: Tokenizer) -> None:
    q = parse(tok, "神舟二十五号载人飞船是哪一天发射升空的？")
    assert q.numbers == ("二十五",)
    assert "深圳" in parse(tok, "深圳地铁的票价是多少?").names
    assert "城市" not in parse(tok, "安哥拉受灾的首都是哪座城市？").names  # the kind asked for, not a name
    assert "五一" not in parse(tok, "2023年五一假期铁路客流").names  # a time, not a name


def test_latest_and_kind(tok: Tokenizer) -> None:
    assert parse(tok, "小米公司的股价现在多少钱？").latest
    assert not parse(tok, "小米公司的股价是多少？").latest
    assert parse(tok, "2024年9月24日至27日召开的会议是哪几天开的？").kind == "time"


def test_an_articles_date_fits_the_period_or_its_text_spells_it_out(tok: Tokenizer) -> None:
    q = parse(tok, "2023年五一假期全国铁路发送旅客多少人次？")
    assert q.fits("2023-05-04") and not q.fits("2024-05-04") and not q.fits(None)
    assert q.fits("2024-02-01", "2023年五一假期全国铁路共发送旅客")  # spelled out in the paragraph
    assert parse(tok, "全国铁路发送旅客多少人次？").fits("2024-05-04") is None  # no time: no opinion
    recent = parse(tok, "前几天五一假期返程高峰那天，全国水路客运量预计有多少？", dt.date(2024, 5, 10))
    assert recent.fits("2024-05-04") and not recent.dated  # 前几天 and 五一 of any year pick no period
    assert parse(tok, "2028年的政府工作报告把GDP增长目标定为多少？").dated[0].label() == "2028"


def test_traditional_characters_parse_like_simplified(tok: Tokenizer) -> None:
    assert (
        parse(tok, "2024年巴黎奧運網球女單決賽，鄭欽文擊敗了哪位選手？").content_words
        == parse(tok, "2024年巴黎奥运网球女单决赛，郑钦文击败了哪位选手？").content_words
    )
