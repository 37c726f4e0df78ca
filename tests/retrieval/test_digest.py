"""Topic grouping: the sample page, and a multi-day corpus whose days differ."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.service import NewsService
from corpus import Store, ingest_paths
from tests.conftest import SAMPLE_PAGE

NOW = "2023-08-21T02:00:00+00:00"  # 10:00 in Shanghai

# Three days, two stories a day, each story told by two articles with shared specific words.
STORIES = {
    "2023-09-01": [
        (
            "台风",
            [
                "台风“海葵”登陆福建沿海,气象部门发布台风红色预警,沿海渔船全部回港避风。",
                "受台风影响,福建多地出现特大暴雨,防汛部门转移安置群众两万余人,台风过境后开始抢修电力设施。",
            ],
        ),
        (
            "开学",
            [
                "秋季学期开学,全市中小学新生报到,学校开展开学第一课主题教育。",
                "开学首日,教育部门检查校园安全和食堂卫生,新生家长送孩子入学。",
            ],
        ),
    ],
    "2023-09-02": [
        (
            "马拉松",
            [
                "城市马拉松鸣枪开跑,三万名跑者参赛,赛道沿途设置补给站和医疗点。",
                "马拉松赛事带动沿线商户客流,全程冠军以2小时10分夺冠,跑者称赞赛道风景。",
            ],
        ),
        (
            "粮食",
            [
                "秋粮收购启动,粮食部门设置收购网点,农民晾晒玉米等待售粮。",
                "今年粮食喜获丰收,秋粮收购价格保持稳定,粮库腾出仓容保障收购。",
            ],
        ),
    ],
    "2023-09-03": [
        (
            "地铁",
            [
                "地铁新线开通试运营,沿线市民乘坐地铁通勤时间缩短一半。",
                "地铁公司加密早高峰列车班次,新线车站增设无障碍电梯和换乘通道。",
            ],
        ),
        (
            "博物馆",
            [
                "博物馆推出青铜器特展,展出文物两百余件,观众排队预约参观。",
                "博物馆夜场开放延长至晚上九点,讲解员带领观众欣赏青铜器纹饰。",
            ],
        ),
    ],
}


def _write(tmp: Path) -> Path:
    rows = []
    for day, stories in STORIES.items():
        for story, texts in stories:
            for i, text in enumerate(texts):
                title = text.split(",")[0]  # the first clause, as a headline
                rows.append({"id": f"{day}-{story}-{i}", "title": title, "date": day, "text": text})
    path = tmp / "days.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _service(tmp: Path, *paths: Path) -> NewsService:
    store = Store(tmp / "d.db")
    ingest_paths(store, list(paths), now=NOW)
    return NewsService.open(load_settings(env={}, db=str(tmp / "d.db")), store=store, persist=False)


@pytest.fixture
def sample(tmp_path: Path) -> Iterator[NewsService]:
    service = _service(tmp_path, SAMPLE_PAGE)
    yield service
    service.close()


def test_the_sample_page_groups_as_a_reader_would(sample: NewsService) -> None:
    digest = sample.digest_of_day(dt.date(2023, 8, 21))  # the page is undated: it counts on its ingest day
    groups = [{a.headline for a in t.articles} for t in digest.topics]
    assert sum(len(g) for g in groups) + len(digest.other) == 6
    service_work = next(g for g in groups if any("安吉" in h for h in g))
    assert any("象州" in h for h in service_work)  # both: unions reaching new kinds of workers
    flood = next(g for g in groups if "大安山里的“清淤战”" in g)
    education = next(g for g in groups if any("思想政治引领" in h for h in g))
    assert len(flood) == 1 and len(education) == 1 and flood != education
    assert all(2 <= len(t.keywords) <= 4 for t in digest.topics)
    assert digest.topics[0].size >= digest.topics[-1].size  # bigger topics first


def test_topics_are_named_by_shared_words_or_a_headline_never_a_fragment(sample: NewsService) -> None:
    digest = sample.digest_of_day(dt.date(2023, 8, 21))
    for topic in digest.topics:
        headlines = {a.headline for a in topic.articles}
        texts = [
            "".join(p.text for p in sample.article(str(a.article_id)).paragraphs) for a in topic.articles
        ]  # type: ignore[union-attr]
        if topic.name not in headlines:  # named by words several of its articles share
            assert all(sum(word in t for t in texts) >= 2 for word in topic.name.split(" · ")), topic.name
    assert "大安山里的“清淤战”" in {t.name for t in digest.topics}  # a one-story topic: its headline
    # jieba's guess across 市总 | 与 | 市审计局 is no keyword (the headline holds it as text, which is fine)
    assert "总与市" not in {k for t in digest.topics for k in t.keywords}


def test_each_article_shows_a_verbatim_key_sentence(sample: NewsService) -> None:
    digest = sample.digest_of_day(dt.date(2023, 8, 21))
    for topic in digest.topics:
        for entry in topic.articles:
            article = sample.article(str(entry.article_id))
            assert article is not None
            assert entry.sentence.strip("…") in "".join(p.text for p in article.paragraphs)


def test_days_have_their_own_topics(tmp_path: Path) -> None:
    service = _service(tmp_path, _write(tmp_path))
    seen: list[set[str]] = []
    for day in STORIES:
        digest = service.digest_of_day(dt.date.fromisoformat(day))
        assert len(digest.topics) == 2 and not digest.other
        for topic in digest.topics:
            story = {str(a.external_id).split("-")[3] for a in topic.articles}
            assert len(story) == 1 and topic.size == 2  # the two articles of one story together
            assert story.pop() in topic.name
        seen.append({k for t in digest.topics for k in t.keywords})
    assert not seen[0] & seen[1] and not seen[1] & seen[2]
    assert service.digest_of_day(dt.date(2023, 9, 4)).empty
    service.close()


def test_more_topics_than_the_limit_go_to_other(tmp_path: Path) -> None:
    from retrieval.digest import build_digest

    service = _service(tmp_path, _write(tmp_path))
    articles = service.store.articles(limit=20, with_paragraphs=True)
    digest = build_digest("x", articles, service.searcher.tokenizer, service.searcher.index, max_topics=4)
    assert len(digest.topics) == 4 and len(digest.other) == 4
    assert len(set(digest.article_ids)) == 12
    service.close()
