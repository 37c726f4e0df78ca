"""Ingesting files: formats, encodings, dates, bad input, idempotency and replacement."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

import pytest

from corpus import BODY, SUBHEAD, Store, ingest_file, ingest_paths
from corpus.files import date_from_path
from tests.conftest import NOW, SAMPLE_PAGE, SMALL_CORPUS


def write_jsonl(path: Path, records: list[object], encoding: str = "utf-8") -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def test_sample_page_goes_in_as_six_articles(store: Store) -> None:
    report = ingest_paths(store, [SAMPLE_PAGE], now=NOW)
    assert (report.articles, report.failed) == (6, False)
    headlines = {a.headline for a in store.articles(limit=10)}
    assert "大安山里的“清淤战”" in headlines and len(headlines) == 6


def test_jsonl_fields_are_kept(store: Store, small_corpus_file: Path) -> None:
    report = ingest_paths(store, [small_corpus_file], now=NOW)
    assert (report.articles, report.paragraphs) == (5, 10)
    a = store.article_by_external_id("n1")
    assert a is not None
    assert (a.headline, a.date, a.source) == ("上海地铁票价调整听证会召开", "2023-08-20", "新民晚报")
    assert [p.text for p in a.paragraphs][1].startswith("起步价拟由3元")
    assert a.ingested_at == NOW


def test_paragraphs_list_page_url_author(store: Store, tmp_path: Path) -> None:
    rec = {
        "id": 7,
        "title": "标题",
        "paragraphs": ["一。", "", "二。"],
        "page": 3,
        "url": "https://x.cn/a",
        "author": "王五",
        "date": "2023-08-21T09:30:00+08:00",
    }
    ingest_paths(store, [write_jsonl(tmp_path / "a.jsonl", [rec])], now=NOW)
    a = store.article_by_external_id("7")
    assert a is not None
    assert ([p.text for p in a.paragraphs], a.page, a.url, a.author, a.date) == (
        ["一。", "二。"],
        "3",
        "https://x.cn/a",
        "王五",
        "2023-08-21",
    )


def test_malformed_jsonl_lines_are_reported_and_the_rest_goes_in(store: Store, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        [
            SMALL_CORPUS[0],
            "{not json",
            {"title": "无正文"},
            ["a list"],
            {"title": 3, "text": "标题是个数。"},
            SMALL_CORPUS[1],
        ],
    )
    report = ingest_paths(store, [path], now=NOW)
    assert report.articles == 2
    assert [p.line for p in report.problems] == [2, 3, 4, 5]
    assert "not valid JSON" in report.problems[0].message
    assert "no `text`" in report.problems[1].message
    assert "`title` is a int" in report.problems[3].message
    assert report.failed  # the CLI exits non-zero


def test_an_untitled_brief_is_titled_by_its_first_sentence_marked_as_derived(
    store: Store, tmp_path: Path
) -> None:
    brief = "国家统计局今天发布数据显示，10月份全国居民消费价格同比上涨0.2%，环比下降0.3%。其中食品价格下降。"
    path = write_jsonl(
        tmp_path / "briefs.jsonl", [{"id": "b1", "text": brief}, {"id": "b2", "title": " ", "text": "短讯。"}]
    )
    report = ingest_paths(store, [path], now=NOW)
    assert (report.articles, report.problems) == (2, [])
    first, second = store.article_by_external_id("b1"), store.article_by_external_id("b2")
    assert first is not None and second is not None
    assert (
        first.headline == "国家统计局今天发布数据显示，10月份全国居民消费价格同比上…"
        and first.headline_derived
    )
    assert second.headline == "短讯" and second.headline_derived
    titled = ingest_paths(store, [write_jsonl(tmp_path / "t.jsonl", SMALL_CORPUS[:1])], now=NOW)
    assert titled.articles == 1 and not store.article_by_external_id("n1").headline_derived  # type: ignore[union-attr]


def test_a_jsonl_with_only_bad_lines_leaves_nothing(store: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", ["{", "[]"])
    result = ingest_file(store, path, now=NOW)
    assert result.status == "failed" and store.stats()["files"] == 0


def test_bad_date_is_reported_on_its_line(store: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"title": "t", "text": "x。", "date": "21/08/2023"}])
    problems = ingest_paths(store, [path], now=NOW).problems
    assert problems[0].line == 1 and "ISO 8601" in problems[0].message
    assert problems[-1].message == "no line could be ingested"


@pytest.mark.parametrize(
    ("path", "day"),
    [
        ("feeds/2023-08-21/page1.txt", "2023-08-21"),
        ("feeds/20230821.txt", "2023-08-21"),
        ("2023/08/21/a.md", "2023-08-21"),
        ("2022-01-01/2023-08-21_p3.txt", "2023-08-21"),
        ("feeds/20231399.txt", None),
        ("feeds/page.txt", None),
    ],
)
def test_date_from_path(path: str, day: str | None) -> None:
    assert date_from_path(path) == day


def test_undated_articles_take_the_date_in_their_path(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "2023-08-21"
    folder.mkdir()
    (folder / "page.txt").write_text(SAMPLE_PAGE.read_text(encoding="utf-8"), encoding="utf-8")
    ingest_paths(store, [folder], now=NOW)
    assert {a.date for a in store.articles(limit=10)} == {"2023-08-21"}


def test_front_matter_text_and_markdown(store: Store, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "---\ntitle: 前置元数据文章\nid: fm-1\ndate: 2023-08-22\nsource: '测试报'\n---\n第一段,\n接着写。\n\n第二段。\n",
        encoding="utf-8",
    )
    (tmp_path / "b.md").write_text("# 标题来自井号\n\n正文一。\n\n## 小标题\n\n正文二。\n", encoding="utf-8")
    report = ingest_paths(store, [tmp_path], now=NOW)
    assert report.articles == 2 and not report.failed
    fm = store.article_by_external_id("fm-1")
    assert fm is not None
    assert (fm.headline, fm.date, fm.source) == ("前置元数据文章", "2023-08-22", "测试报")
    assert [p.text for p in fm.paragraphs] == ["第一段,接着写。", "第二段。"]
    (md,) = [a for a in store.articles(limit=5, with_paragraphs=True) if a.headline == "标题来自井号"]
    assert [(p.kind, p.text) for p in md.paragraphs] == [
        (BODY, "正文一。"),
        (SUBHEAD, "小标题"),
        (BODY, "正文二。"),
    ]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-8-sig"])
def test_encodings(store: Store, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(SAMPLE_PAGE.read_text(encoding="utf-8").encode(encoding))
    result = ingest_file(store, path, now=NOW)
    assert (result.status, result.articles) == ("added", 6)
    assert any(
        "象州县" in p.text for a in store.articles(limit=9, with_paragraphs=True) for p in a.paragraphs
    )


def test_gbk_jsonl(store: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "gbk.jsonl", SMALL_CORPUS[:2], encoding="gbk")
    assert ingest_file(store, path, now=NOW).articles == 2
    a = store.article_by_external_id("n2")
    assert a is not None and a.headline == "杭州亚运会志愿者招募完成"


def test_binary_and_empty_files_are_skipped_with_one_line_each(store: Store, tmp_path: Path) -> None:
    (tmp_path / "img.txt").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "bin.jsonl").write_bytes(b"\x00\x01\x02" * 50)
    (tmp_path / "ok.jsonl").write_text(json.dumps(SMALL_CORPUS[0], ensure_ascii=False), encoding="utf-8")
    report = ingest_paths(store, [tmp_path], now=NOW)
    by_name = {Path(r.path).name: r for r in report.results}
    assert by_name["ok.jsonl"].status == "added"
    for name in ("img.txt", "empty.txt", "bin.jsonl"):
        assert by_name[name].status == "skipped"
        assert len(by_name[name].problems) == 1
    assert "binary" in by_name["img.txt"].problems[0].message
    assert "empty" in by_name["empty.txt"].problems[0].message


def test_truncated_utf8_keeps_the_text_and_warns(store: Store, tmp_path: Path) -> None:
    data = "城市更新行动稳步推进\n\n本报讯(记者周琳)今年以来,全市改造老旧小区。".encode()
    path = tmp_path / "cut.txt"
    path.write_bytes(data + "惠".encode()[:2])
    result = ingest_file(store, path, now=NOW)
    assert result.status == "added" and "UTF-8" in result.problems[0].message


def test_oversized_text_file_is_refused_with_a_message(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("很长的文字。" * 1000, encoding="utf-8")
    result = ingest_file(store, path, now=NOW, max_text_bytes=1000)
    assert result.status == "skipped" and "limit" in result.problems[0].message


def test_same_content_twice_adds_nothing(store: Store, small_corpus_file: Path, tmp_path: Path) -> None:
    ingest_paths(store, [small_corpus_file], now=NOW)
    before = store.state()
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(small_corpus_file.read_bytes())
    report = ingest_paths(store, [small_corpus_file, copy], now=NOW)
    assert [r.status for r in report.results] == ["unchanged", "unchanged"]
    assert store.state() == before


def test_changed_file_replaces_its_own_articles(store: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "f.jsonl", SMALL_CORPUS[:3])
    ingest_paths(store, [path], now=NOW)
    write_jsonl(path, [*SMALL_CORPUS[1:3], {"title": "新文章", "text": "新的一段。"}])
    result = ingest_file(store, path, now=NOW)
    assert (result.status, result.articles) == ("replaced", 3)
    assert store.stats()["articles"] == 3
    assert store.article_by_external_id("n1") is None
    orphans = store.db.conn.execute(
        "SELECT count(*) FROM paragraphs WHERE article_id NOT IN (SELECT id FROM articles)"
    ).fetchone()[0]
    assert orphans == 0


def test_an_external_id_seen_again_replaces_the_old_article(store: Store, tmp_path: Path) -> None:
    ingest_paths(store, [write_jsonl(tmp_path / "a.jsonl", SMALL_CORPUS[:2])], now=NOW)
    updated = {**SMALL_CORPUS[0], "title": "上海地铁票价调整方案公布"}
    ingest_paths(store, [write_jsonl(tmp_path / "b.jsonl", [updated])], now=NOW)
    assert store.stats()["articles"] == 2
    a = store.article_by_external_id("n1")
    assert a is not None and a.headline == "上海地铁票价调整方案公布"


def test_a_crash_mid_file_leaves_nothing_of_it(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_jsonl(tmp_path / "f.jsonl", SMALL_CORPUS)

    def disk_error(self: Store, table: str, last: int) -> None:  # after every row of the file was inserted
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "_reserve_id", disk_error)
    with pytest.raises(sqlite3.OperationalError):
        ingest_file(store, path, now=NOW)
    monkeypatch.undo()
    assert store.stats()["articles"] == 0 and store.stats()["files"] == 0
    assert ingest_file(store, path, now=NOW).articles == 5


def test_folders_are_searched_recursively_and_hidden_files_skipped(store: Store, tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    write_jsonl(tmp_path / "a" / "b" / "deep.jsonl", SMALL_CORPUS[:1])
    write_jsonl(tmp_path / ".git" / "x.jsonl", SMALL_CORPUS[1:2])
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    report = ingest_paths(store, [tmp_path], now=NOW)
    assert [Path(r.path).name for r in report.results] == ["deep.jsonl"]


def test_paragraph_ids_are_never_reused(store: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "f.jsonl", SMALL_CORPUS[:2])
    ingest_paths(store, [path], now=NOW)
    first = store.state().max_paragraph_id
    write_jsonl(path, SMALL_CORPUS[2:3])
    ingest_paths(store, [path], now=NOW)
    ids = [r[0] for r in store.db.conn.execute("SELECT id FROM paragraphs")]
    assert min(ids) > first
    assert sorted(store.deleted_since(0)) == list(range(1, first + 1))


def test_gzipped_json_lines_are_streamed_and_found_in_folders(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    plain = write_jsonl(tmp_path / "feed.jsonl", SMALL_CORPUS)
    (folder / "2023.jsonl.gz").write_bytes(gzip.compress(plain.read_bytes()))
    report = ingest_paths(store, [folder], now=NOW)
    assert (report.files, report.articles, report.failed) == (1, 5, False)
    assert store.article_by_external_id("n3").source == "工人日报"  # type: ignore[union-attr]
    again = ingest_paths(store, [folder], now=NOW)
    assert again.count("unchanged") == 1 and store.stats()["articles"] == 5


def test_a_damaged_gzip_keeps_what_came_before_and_says_where_it_broke(store: Store, tmp_path: Path) -> None:
    whole = gzip.compress(write_jsonl(tmp_path / "feed.jsonl", SMALL_CORPUS * 40).read_bytes())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    result = ingest_file(store, cut, now=NOW)
    assert result.status == "added" and 0 < result.articles < 200
    assert any("ends before its end marker" in p.message for p in result.problems)
    junk = tmp_path / "junk.jsonl.gz"
    junk.write_bytes(b"this is not gzip at all\n")
    result = ingest_file(store, junk, now=NOW)
    assert result.status == "skipped" and "gzip" in result.problems[0].message
