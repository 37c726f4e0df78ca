"""Mining the archive's abbreviations from an article's text, and keeping their counts in the store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from corpus import AliasCount, Store, ingest_paths, mine_aliases
from corpus.aliases import MINER_VERSION, explicit_mentions
from tests.conftest import NOW, SAMPLE_PAGE


def pairs(text: str) -> set[tuple[str, str, bool]]:
    return {(a.short, a.long, a.explicit) for a in mine_aliases(text)}


@pytest.mark.parametrize(
    ("text", "short", "long"),
    [
        # The edition goes: 农博会 names every year's expo.
        (
            "第五届西部农业科技博览会（以下简称“农博会”）今天在兰州开幕。农博会为期五天。",
            "农博会",
            "西部农业科技博览会",
        ),
        (
            "省里启动“乡村青年教师培育计划”（简称“青师计划”），首批青年教师已经到岗。",
            "青师计划",
            "乡村青年教师培育计划",
        ),
        # What leads up to the name (近日召开的) is not part of it.
        (
            "近日召开的滨海新区科技创新促进会（下称“科促会”）提出，科促会每年举办一次。",
            "科促会",
            "滨海新区科技创新促进会",
        ),
        ("该市成立了城市数据运营中心，简称为“数运中心”。", "数运中心", "城市数据运营中心"),
        ("全市推进的“河湖长制信息平台”（以下称“河长平台”）上线。", "河长平台", "河湖长制信息平台"),
        # An edition the short form keeps (十四) stays in the long one.
        ("第十四届全省冬季运动会（以下简称“十四冬”）开幕。", "十四冬", "第十四届全省冬季运动会"),
    ],
)
def test_explicit_pairs_are_mined(text: str, short: str, long: str) -> None:
    assert (short, long, True) in pairs(text)


@pytest.mark.parametrize(
    "text",
    [
        "《城市绿化养护管理办法》（以下简称《办法》）自下月起施行。",  # a document named by its kind
        "长江沿线港口合作联盟（以下称“联盟”）成立。",  # the long form's last word
        "江南机械学校在1952年迁往南京，简称“宁机校”。",  # a clause before the marker, not a name
    ],
)
def test_explicit_patterns_that_are_not_aliases(text: str) -> None:
    assert pairs(text) == set()
    assert [kept for *_, kept in explicit_mentions(text)] == [False]


def test_a_headline_abbreviates_what_the_body_spells_out() -> None:
    text = (
        "河源市总与市人社局签约\n"
        "日前，河源市总工会与河源市人力资源和社会保障局签订合作协议，市人社局将为职工提供培训。"
        "河源市总工会负责组织报名。"
    )
    assert pairs(text) == {
        ("河源市总", "河源市总工会", False),
        ("市人社局", "河源市人力资源和社会保障局", False),  # 与 joins two names: the second starts after it
    }


def test_a_short_form_used_after_the_name() -> None:
    text = "第九届东海国际渔业博览会今天开幕。本届渔博会吸引了两百多家企业。渔博会期间还将举办论坛。"
    # Not 渔博 (always followed by 会), not the edition.
    assert pairs(text) == {("渔博会", "东海国际渔业博览会", False)}


@pytest.mark.parametrize(
    "text",
    [
        # 省总工会 and 总工会 are the name without its place, not abbreviations.
        "黑山省总工会召开全委会。省总工会主席在会上讲话，总工会将继续开展送温暖活动。",
        # 川总 fits two names of the article: left out.
        "东川市总工会和西川市总工会联合举办活动。川总表示，活动将持续一周。",
        # The 市总 of 市总工会 is the start of another name, not a form of its own.
        "帮助市总工会比对财务数据，天津市总工会表示。",
        # 政协委 is a piece of 政协委员; 委员 a common word.
        "政协委员们来到滨江区人民政府协商委员会，政协委员表示赞同。",
        # 中国银行 is another bank, not a form of 中国人民银行.
        "中国人民银行今天发布数据。中国银行表示将跟进。",
    ],
)
def test_what_is_not_an_abbreviation(text: str) -> None:
    assert pairs(text) == set()


def test_the_sample_page() -> None:
    with Store(":memory:") as store:
        ingest_paths(store, [SAMPLE_PAGE], now=NOW)
        found = {(a.short, a.long) for a in store.aliases()}
    # The headline 天津市总与市审计局… and 县总 of the 安吉 story (whose body came before its name).
    assert found == {("天津市总", "天津市总工会"), ("县总", "安吉县总工会")}


# --- the store's counts ----------------------------------------------------------------------------------

A = {
    "id": "a",
    "title": "渔博会开幕",
    "text": "第九届东海国际渔业博览会今天开幕。本届渔博会吸引了两百多家企业。",
}
B = {"id": "b", "title": "渔博会闭幕", "text": "东海国际渔业博览会今天闭幕，渔博会期间签约项目36个。"}
C = {
    "id": "c",
    "title": "农博会开幕",
    "text": "西部农业科技博览会（以下简称“农博会”）今天开幕。农博会为期五天。",
}


def write(path: Path, *records: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def counts(store: Store) -> dict[tuple[str, str], tuple[int, int]]:
    return {(a.short, a.long): (a.articles, a.explicit) for a in store.aliases()}


def test_counts_are_articles_holding_the_pair(store: Store, tmp_path: Path) -> None:
    ingest_paths(store, [write(tmp_path / "feed.jsonl", A, B, C)], now=NOW)
    assert counts(store) == {
        ("渔博会", "东海国际渔业博览会"): (2, 0),
        ("农博会", "西部农业科技博览会"): (1, 1),
    }
    assert store.aliases(min_articles=2) == [
        AliasCount(short="渔博会", long="东海国际渔业博览会", articles=2, explicit=0)
    ]
    assert [a.short for a in store.aliases(explicit=True)] == ["农博会"]
    ids = store.alias_articles("渔博会", "东海国际渔业博览会")
    assert [store.article(i, paragraphs=False).external_id for i in ids] == ["a", "b"]  # type: ignore[union-attr]


def test_counts_survive_duplicate_ingestion(store: Store, tmp_path: Path) -> None:
    feed = write(tmp_path / "feed.jsonl", A, B, C)
    ingest_paths(store, [feed], now=NOW)
    before = counts(store)
    ingest_paths(store, [feed], now=NOW)  # the same file: unchanged
    ingest_paths(store, [write(tmp_path / "copy.jsonl", A, B)], now=NOW)  # the same articles by id elsewhere
    assert counts(store) == before


def test_counts_follow_replaced_and_deleted_articles(store: Store, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    ingest_paths(store, [write(feed, A, B, C)], now=NOW)
    # The file changes: B no longer mentions the expo, C is gone.
    b2 = {"id": "b", "title": "秋收开始", "text": "东海沿岸的秋收今天开始。"}
    ingest_paths(store, [write(feed, A, b2)], now=NOW)
    assert counts(store) == {("渔博会", "东海国际渔业博览会"): (1, 0)}
    # An article of another file with the same id replaces A: no article holds a pair any more.
    ingest_paths(store, [write(tmp_path / "other.jsonl", {**A, "text": "东海沿岸的秋收今天开始。"})], now=NOW)
    assert store.aliases() == []


def test_an_older_database_is_mined_when_opened(db_path: Path, tmp_path: Path) -> None:
    with Store(db_path) as store:
        ingest_paths(store, [write(tmp_path / "feed.jsonl", A, B, C)], now=NOW)
        mined = counts(store)
    # Make it a version 4 database again: no alias tables, nothing mined.
    conn = sqlite3.connect(db_path)
    conn.executescript(
        "DROP TABLE aliases; DROP TABLE article_aliases; "
        "UPDATE meta SET value = '4' WHERE key = 'schema_version'; DELETE FROM meta WHERE key = 'aliases_miner'"
    )
    conn.close()
    with Store(db_path) as store:
        assert counts(store) == mined
        assert store.meta("schema_version") == "5" and store.meta("aliases_miner") == str(MINER_VERSION)


def test_changed_mining_rules_mine_every_article_again(db_path: Path, tmp_path: Path) -> None:
    with Store(db_path) as store:
        ingest_paths(store, [write(tmp_path / "feed.jsonl", A, B, C)], now=NOW)
        mined = counts(store)
        # As if mined by an older miner: a pair it got wrong, and a stale version.
        store.db.conn.execute("INSERT INTO article_aliases VALUES (1, '东海', '东海国际渔业博览会', 0)")
        store.db.conn.execute("UPDATE meta SET value = '0' WHERE key = 'aliases_miner'")
        store.db.conn.commit()
    with Store(db_path) as store:
        assert counts(store) == mined


# --- mining a long stream ------------------------------------------------------------------------------

_TEXTS = [
    "天津市总工会召开会议。天津市总与市审计局签署协议。",
    "中国国际进口博览会（以下简称“进博会”）在上海举行。",
    "今天天气很好，没有任何机构。",
    "中华全国总工会发布通知，全总要求各地落实。",
]


@pytest.mark.parametrize("how", ["worker processes", "workers failing midway"])
def test_a_long_stream_is_mined_in_workers_with_the_same_pairs_in_order(
    monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """An archive's file is mined ahead in worker processes: every article keeps its own pairs, in order,
    and when the workers fail the rest is mined here with nothing lost."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from corpus import aliases

    monkeypatch.setattr(aliases, "_INLINE_FIRST", 3)
    monkeypatch.setattr(aliases, "_BATCH", 4)
    items = [(n, _TEXTS[n % len(_TEXTS)] + "第" + str(n) + "条。") for n in range(41)]
    submitted: list[int] = []
    if how == "workers failing midway":
        submit = ProcessPoolExecutor.submit

        def breaking(self: Any, *args: Any) -> Any:
            submitted.append(1)
            if len(submitted) > 3:
                raise BrokenProcessPool("a worker died")
            return submit(self, *args)

        monkeypatch.setattr(ProcessPoolExecutor, "submit", breaking)
    mined = list(aliases.mine_each(items, lambda item: item[1]))
    assert [item for item, _ in mined] == items
    assert [pairs for _, pairs in mined] == [mine_aliases(text) for _, text in items]
    assert sum(len(p) for _, p in mined) >= 20  # the texts do hold pairs
    if how == "workers failing midway":
        assert len(submitted) == 4


def test_a_file_that_fails_midway_is_an_error_not_a_shorter_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """An OSError of the input (a file that cannot be read further) is the caller's, not taken for
    failing workers: nothing is silently left out."""
    from corpus import aliases

    monkeypatch.setattr(aliases, "_INLINE_FIRST", 2)
    monkeypatch.setattr(aliases, "_BATCH", 3)

    def articles() -> Any:
        for n in range(10):
            yield _TEXTS[n % len(_TEXTS)]
        raise OSError("read error")

    with pytest.raises(OSError, match="read error"):
        list(aliases.mine_each(articles(), str))
