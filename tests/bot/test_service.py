"""The newsroom service's own rules: what a subscription's digests cover."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from bot.config import load_settings
from bot.service import NewsService
from corpus import Store, ingest_paths
from corpus.botstate import Subscriptions

T = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


def _feed(path: Path, article_id: str, title: str) -> Path:
    record = {"id": article_id, "title": title, "text": f"{title}。港口集装箱吞吐量创新高。"}
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def test_the_first_digest_brings_the_day_before_subscribing_and_later_ones_what_is_new(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "n.db")
    ingest_paths(
        store,
        [_feed(tmp_path / "old.jsonl", "old", "两天前的港口新闻")],
        now=_iso(T - dt.timedelta(hours=30)),
    )
    ingest_paths(
        store,
        [_feed(tmp_path / "paper.jsonl", "paper", "今早的港口新闻")],
        now=_iso(T - dt.timedelta(hours=3)),
    )
    service = NewsService.open(load_settings(env={}, db=str(store.path)), store=store, persist=False)
    subscriptions = Subscriptions(store)
    sub = subscriptions.add(1, "09:01", "", _iso(T))

    digest, covered = service.digest_for(sub, T + dt.timedelta(minutes=1))
    headlines = {a.headline for t in digest.topics for a in t.articles} | {a.headline for a in digest.other}
    assert headlines == {"今早的港口新闻"}  # the 06:00 paper, not what came the day before
    subscriptions.plan("2026-11-20T09:01", [sub.id], _iso(T))
    subscriptions.finish(sub.id, "2026-11-20T09:01", "sent", covered, _iso(T))

    ingest_paths(
        store,
        [_feed(tmp_path / "next.jsonl", "next", "次日的港口新闻")],
        now=_iso(T + dt.timedelta(hours=20)),
    )
    service.refresh()
    _, covered = service.digest_for(sub, T + dt.timedelta(days=1, minutes=1))
    assert [a.headline for a in store.articles_by_ids(covered)] == ["次日的港口新闻"]


def test_keyword_subscriptions_exclude_words_and_keep_to_publications(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    rows = [
        {
            "id": "a",
            "title": "工会举办职工篮球赛",
            "source": "工人日报",
            "text": "工会举办职工篮球赛，体育活动丰富职工生活。",
        },
        {
            "id": "b",
            "title": "工会开展技能培训",
            "source": "工人日报",
            "text": "工会开展技能培训，三百名职工参加。",
        },
        {
            "id": "c",
            "title": "工会慰问一线职工",
            "source": "滨江日报",
            "text": "工会慰问一线职工，送去清凉用品。",
        },
        {"id": "d", "title": "港口吞吐量创新高", "source": "工人日报", "text": "港口吞吐量创新高。"},
    ]
    feed.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    store = Store(tmp_path / "n.db")
    ingest_paths(store, [feed], now=_iso(T - dt.timedelta(hours=3)))
    settings = load_settings(env={}, db=str(store.path))
    service = NewsService.open(settings, store=store, persist=False, clock=lambda: T)

    def covered(keywords: str, chat: int) -> set[str]:
        sub = service.subscribe(chat, "09:01", keywords)
        _, ids = service.digest_for(sub, T + dt.timedelta(minutes=1))
        return {a.external_id or "" for a in store.articles_by_ids(ids)}

    assert covered("工会", 1) == {"a", "b", "c"}
    assert covered("工会 -体育", 2) == {"b", "c"}  # a mentions 体育 in its text
    assert covered("工会 source:工人日报", 3) == {"a", "b"}
    assert covered("来源：工人日报", 4) == {"a", "b", "d"}  # everything from one publication
    assert covered("工会 -体育 source:工人日报", 5) == {"b"}
