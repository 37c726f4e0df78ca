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
