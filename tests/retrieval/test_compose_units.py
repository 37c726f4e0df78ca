"""The answer composer: the question's units, relevance, windows, second windows, refusals."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest

from bot.config import Settings
from bot.service import NewsService
from corpus import Store, ingest_paths
from retrieval.compose import ComposeOptions, question_units
from retrieval.question import parse_question
from retrieval.sentences import split_sentences
from retrieval.tokenize import Tokenizer
from tests.conftest import NOW, SAMPLE_PAGE, SMALL_CORPUS

FAN = {
    "id": "fan",
    "title": "范廷颂",
    "text": (
        "范廷颂枢机是越南罗马天主教枢机。范廷颂于1919年6月15日在越南宁平省出生，童年时接受良好教育后，"
        "被一位越南神父带到河内继续其学业。范廷颂于1940年在河内大修道院完成神学学业。范廷颂于1949年6月6日"
        "在河内的主教座堂晋铎，及后被派到圣女小德兰孤儿院服务。1950年代，范廷颂在河内堂区创建移民接待中心"
        "以收容到河内避战的难民。1963年4月5日，教宗任命范廷颂为天主教北宁教区主教，同年8月15日就任。"
        "由于范廷颂被越南政府软禁差不多30年，因此他无法到所属堂区进行牧灵工作。范廷颂在2009年2月22日离世。"
    ),
}

GAME = {
    "id": "game",
    "title": "云起游戏",
    "text": (
        "云起游戏代理有限公司简称云起游戏，于2002年成立，主要业务为营运线上游戏以及代理销售其相关产品。"
        "云起游戏扎根于香港，乃香港少数的本土游戏代理公司之一，直至近年积极于开拓海外的游戏市场，"
        "业务已经拓展至亚洲多个地区，而且更先后于上海、深圳、台湾、马来西亚及新加坡等地开设分公司。"
        "公司早年以代理日本与韩国的单机游戏为主，其后转向网络游戏，并设立自己的客户服务中心。"
        "2007年12月，云起游戏成功将《幻想学园Online》打进港澳市场，成为公司的代表作品。"
    ),
}


TODAY = dt.date(2026, 12, 2)


def units_of(question: str, tok: Tokenizer, stats: Stats) -> dict[str, float]:
    return question_units(parse_question(question, tok, TODAY), stats)


class Stats:
    """Corpus statistics from a table of document frequencies (unknown terms: absent)."""

    def __init__(self, df: dict[str, int], n: int = 1000) -> None:
        self._df, self._n = df, n

    def df(self, term: str) -> int:
        return self._df.get(term, 0)

    def weight(self, term: str) -> float:
        return math.log((self._n + 1) / (self.df(term) + 0.5))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> NewsService:
    folder = tmp_path_factory.mktemp("compose")
    feed = folder / "feed.jsonl"
    feed.write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in [*SMALL_CORPUS, FAN, GAME]),
        encoding="utf-8",
    )
    store = Store(folder / "news.db")
    ingest_paths(store, [SAMPLE_PAGE, feed], now=NOW)
    return NewsService.open(Settings(db=Path(store.path)), store=store, persist=False)


def test_units_leave_out_asking_and_pointing_words_and_halve_the_kind_asked_for(tok: Tokenizer) -> None:
    stats = Stats({"范廷": 3, "廷颂": 3, "担任": 40, "职务": 30, "1990": 20, "游戏": 50, "台湾": 80})
    units = units_of("1990年，范廷颂担任什么职务？", tok, stats)
    assert "什么" not in units and "1990" not in units  # a time is matched against dates, not words
    assert {"范廷", "廷颂"} <= units.keys()  # the name jieba splits is found by its pairs
    assert units["职务"] == pytest.approx(stats.weight("职务") / 2)
    assert units["担任"] == pytest.approx(stats.weight("担任"))
    assert "这儿" not in units_of("这儿游戏什么时候在台湾推广的？", tok, stats)


def test_a_word_the_corpus_lacks_is_looked_for_by_its_parts_or_counts_against(tok: Tokenizer) -> None:
    stats = Stats({"题目": 12, "高考": 2, "今年": 10, "技术": 30})
    units = units_of("今年高考作文题目是什么?", tok, stats)
    assert "题目" in units and "作文题目" not in units and "作文" not in units
    units = units_of("区块链技术是什么?", tok, stats)
    assert units["区块"] == pytest.approx(max(units.values()))  # no known part: absent, weighs most


def test_the_window_lands_on_the_answer_not_on_the_subject(service: NewsService) -> None:
    answer = service.ask("范廷颂是什么时候被任为主教的？")
    assert answer.answered
    first = answer.passages[0]
    assert first.source.external_id == "fan" and "1963年" in first.quote


def test_the_window_follows_the_words_of_the_question_not_the_lead(service: NewsService) -> None:
    answer = service.ask("2007年12月云起游戏成功将哪款作品打进港澳市场？")
    assert answer.answered
    assert "《幻想学园Online》" in answer.passages[0].quote
    assert not answer.passages[0].quote.startswith("云起游戏代理")


def test_a_clearly_best_paragraph_gives_two_windows_without_overlap(service: NewsService) -> None:
    answer = service.ask("范廷颂于哪一年完成神学学业？")
    one, two = answer.page(0)[:2]
    assert one.source.paragraph_id == two.source.paragraph_id
    assert set(one.quote.strip("…").split("。")) & set(two.quote.strip("…").split("。")) <= {""}


def test_quotes_are_verbatim_sentence_windows(service: NewsService) -> None:
    options = ComposeOptions()
    for question in [
        "象州县投入多少钱加强实体平台建设?",
        "范廷颂是什么时候被任为主教的？",
        "抢险队员晚上睡在哪里?",
    ]:
        answer = service.ask(question)
        per_article: dict[int, int] = {}
        for passage in answer.page(0):
            per_article[passage.source.article_id] = per_article.get(passage.source.article_id, 0) + 1
            text = service.store.paragraphs_with_articles([passage.source.paragraph_id])[
                passage.source.paragraph_id
            ][0].text
            inner = passage.quote.removeprefix("…").removesuffix("…")
            assert inner in text
            start, end = text.index(inner), text.index(inner) + len(inner)
            spans = split_sentences(text)
            assert any(text[s:start].strip() == "" for s, _ in spans if s <= start)  # cut at sentence ends
            assert any(text[end:e].strip() == "" for _, e in spans if e >= end)
            assert len(inner) <= options.window_chars
        # Two passages of one article on the first page, unless no other article has one to give.
        others = {p.source.article_id for p in answer.passages} - set(per_article)
        assert all(n <= options.per_article_first_page for n in per_article.values()) or (
            len(per_article) == 1 and not others
        )


def test_questions_about_what_the_archive_lacks_are_refused(service: NewsService) -> None:
    for question in ["今年高考作文题目是什么?", "北京冬奥会的吉祥物叫什么名字?", "广州塔有多高?"]:
        answer = service.ask(question, now=dt.date(2023, 8, 21))  # this year is in the archive
        assert not answer.answered and answer.reason in ("low_coverage", "no_match")  # no_match: no word
        assert answer.coverage < ComposeOptions().min_coverage


def test_a_name_the_question_gives_must_be_in_the_article(tok: Tokenizer) -> None:
    assert "深圳" in parse_question("深圳地铁的票价是多少?", tok, TODAY).names


RAILWAY = [
    {
        "id": f"rail-{year}",
        "title": f"{year}年“五一”假期全国铁路发送旅客{count}",
        "date": f"{year}-05-06",
        "source": "新闻联播",
        "text": f"“五一”假期，全国铁路累计发送旅客{count}人次，客流高峰出现在5月1日。",
    }
    for year, count in ((2022, "3286万"), (2024, "1.2亿"))
]


@pytest.fixture(scope="module")
def railway(tmp_path_factory: pytest.TempPathFactory) -> NewsService:
    folder = tmp_path_factory.mktemp("railway")
    feed = folder / "rail.jsonl"
    feed.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in RAILWAY), encoding="utf-8")
    store = Store(folder / "news.db")
    ingest_paths(store, [feed], now=NOW)
    return NewsService.open(Settings(db=Path(store.path)), store=store, persist=False)


def test_the_report_of_the_year_asked_about_answers(railway: NewsService) -> None:
    for year, count in ((2022, "3286万"), (2024, "1.2亿")):
        answer = railway.ask(f"{year}年五一假期全国铁路发送旅客多少人次？", now=TODAY)
        assert answer.answered and count in answer.passages[0].quote
        assert answer.passages[0].source.date == f"{year}-05-06"


def test_a_recurring_story_is_answered_from_its_year_below_forty_other_years_reports(tmp_path: Path) -> None:
    """Forty other years' holiday reports outrank 2023's on words alone: the question about 2023 is answered
    from 2023's report (its period's top k), and of the others only the overall top 10 are read."""
    others = [
        {
            "id": f"rail-{year}",
            "title": f"{year}年“五一”假期全国铁路发送旅客",
            "date": f"{year}-05-06",
            "text": f"“五一”假期，全国铁路发送旅客{year - 1900}00万人次，全国铁路发送旅客再创新高。",
        }
        for year in (*range(1983, 2023), 2024)
    ]
    own = {
        "id": "rail-2023",
        "title": "假期出行",
        "date": "2023-05-06",
        "text": "今年“五一”假期，全国铁路发送旅客1.2亿人次，各地景区游人如织，道路交通总体平稳有序。",
    }
    feed = tmp_path / "rail.jsonl"
    feed.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in [*others, own]), "utf-8")
    store = Store(tmp_path / "news.db")
    ingest_paths(store, [feed], now=NOW)
    service = NewsService.open(Settings(db=Path(store.path)), store=store, persist=False)
    question = service.parse("2023年五一假期全国铁路发送旅客多少人次？", TODAY)
    words_top10 = {r.paragraph_id for r in service.searcher.rank(question, 10)}
    hits = service.searcher.search(question, k=30).hits
    (from_2023,) = (h.paragraph.id for h in hits if h.article.date == "2023-05-06")
    assert from_2023 not in words_top10
    assert {h.paragraph.id for h in hits} - {from_2023} == words_top10
    answer = service.ask("2023年五一假期全国铁路发送旅客多少人次？", now=TODAY)
    assert answer.answered and "1.2亿" in answer.passages[0].quote
    assert answer.passages[0].source.date == "2023-05-06"


def test_a_year_between_the_reports_is_refused_with_them_as_suggestions(railway: NewsService) -> None:
    answer = railway.ask("2023年五一假期全国铁路发送旅客多少人次？", now=TODAY)
    assert (
        not answer.answered and answer.reason == "wrong_time" and answer.period == "2023-04-29 至 2023-05-03"
    )
    assert answer.suggestions == (
        "2024年“五一”假期全国铁路发送旅客1.2亿（2024-05-06）",
        "2022年“五一”假期全国铁路发送旅客3286万（2022-05-06）",
    )


def test_a_period_beyond_the_archive_is_refused_naming_the_archives_range(railway: NewsService) -> None:
    for question, now in (
        ("2028年五一假期全国铁路发送旅客多少人次？", TODAY),
        ("今年五一假期全国铁路发送旅客多少人次？", TODAY),  # 2026: after the archive's last day
        ("2021年五一假期全国铁路发送旅客多少人次？", TODAY),  # before its first
        ("上个月全国铁路发送旅客多少人次？", dt.date(2024, 8, 1)),  # July 2024
    ):
        answer = railway.ask(question, now=now)
        assert not answer.answered and answer.reason == "out_of_range", question
        assert answer.archive == ("2022-05-06", "2024-05-06")
        assert answer.suggestions[0].endswith("（2024-05-06）")  # the nearest reports, newest first


def test_with_no_time_the_newest_report_comes_first(railway: NewsService) -> None:
    answer = railway.ask("五一假期全国铁路发送旅客多少人次？", now=TODAY)
    assert answer.answered and answer.passages[0].source.date == "2024-05-06"


def test_a_sentence_longer_than_a_quote_is_quoted_by_its_stretch_that_answers(tmp_path: Path) -> None:
    filler = "，".join(f"第{i}项工作稳步推进" for i in range(60))  # ~600 characters, no sentence end
    text = filler + "，全年共建成新型智能充电桩3.2万个，" + filler + "。"
    feed = tmp_path / "long.jsonl"
    feed.write_text(
        json.dumps({"id": "L", "title": "城市建设", "text": text}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    store = Store(tmp_path / "l.db")
    ingest_paths(store, [feed], now=NOW)
    service = NewsService.open(Settings(db=Path(store.path)), store=store, persist=False)
    answer = service.ask("全年共建成多少新型智能充电桩？")
    assert answer.answered
    quote = answer.passages[0].quote
    assert "3.2万个" in quote and quote.strip("…") in text
    assert len(quote.strip("…")) <= ComposeOptions().window_chars
