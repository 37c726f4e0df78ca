"""The corpus commands of the CLI: ingest, articles, show, stats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_PAGE
from tests.conftest import run_cli as run


def test_ingest_prints_a_summary_and_json_keeps_chinese(
    capsys: pytest.CaptureFixture[str], db_path: Path, small_corpus_file: Path
) -> None:
    code, out, _ = run(capsys, "--db", str(db_path), "ingest", str(small_corpus_file))
    assert code == 0 and "1 added" in out and "5 articles" in out
    code, out, _ = run(capsys, "--db", str(db_path), "articles", "--json")
    data = json.loads(out)
    assert code == 0 and "上海地铁票价调整听证会召开" in out  # not \\u escaped
    assert {a["external_id"] for a in data} == {"n1", "n2", "n3", "n4", "n5"}


def test_ingest_with_problems_exits_non_zero_and_names_the_line(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"title": "t", "text": "好。"}\n{oops\n', encoding="utf-8")
    code, out, err = run(capsys, "--db", str(db_path), "ingest", str(feed))
    assert code == 1
    assert f"{feed}:2: not valid JSON" in err
    assert "1 articles" in out


def test_missing_path_is_one_line(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, _, err = run(capsys, "--db", str(db_path), "ingest", "/no/such/file.jsonl")
    assert code == 1 and err.strip() == "newsbot: no such file or folder: /no/such/file.jsonl"


def test_first_use_of_an_empty_database_ingests_the_sample(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    code, out, _ = run(capsys, "--db", str(db_path), "articles")
    assert code == 0 and "大安山里的“清淤战”" in out and out.count("\n") == 6


def test_show_by_id_and_external_id(
    capsys: pytest.CaptureFixture[str], db_path: Path, small_corpus_file: Path
) -> None:
    run(capsys, "--db", str(db_path), "ingest", str(SAMPLE_PAGE), str(small_corpus_file))
    code, out, _ = run(capsys, "--db", str(db_path), "show", "n3", "--json")
    assert code == 0 and json.loads(out)["paragraphs"][1]["text"].startswith("南京市总工会")
    code, out, _ = run(capsys, "--db", str(db_path), "show", "5")
    assert "■ 和时间赛跑" in out and "本报记者 王伟伟" in out
    code, _, err = run(capsys, "--db", str(db_path), "show", "999")
    assert code == 1 and "no article '999'" in err


def test_stats(capsys: pytest.CaptureFixture[str], db_path: Path, small_corpus_file: Path) -> None:
    run(capsys, "--db", str(db_path), "ingest", str(small_corpus_file))
    code, out, _ = run(capsys, "--db", str(db_path), "stats", "--json")
    stats = json.loads(out)
    assert (code, stats["articles"], stats["paragraphs"]) == (0, 5, 10)
    assert (stats["first_day"], stats["last_day"]) == ("2023-08-20", "2023-08-21")


def test_ingest_indexes_each_file_as_it_commits_and_the_saved_index_answers(
    capsys: pytest.CaptureFixture[str],
    db_path: Path,
    small_corpus_file: Path,
    rows_read_while_writing: list[int],
) -> None:
    seen = rows_read_while_writing
    code, out, _ = run(capsys, "--db", str(db_path), "ingest", str(SAMPLE_PAGE), str(small_corpus_file))
    assert code == 0 and "2 added" in out
    assert seen == sorted(seen) and len(seen) == 67  # every paragraph of both files, once, in id order
    manifest = json.loads(db_path.with_name(db_path.name + ".index").joinpath("manifest.json").read_text())
    assert manifest["paragraphs"] == 67
    code, out, _ = run(capsys, "--db", str(db_path), "search", "上海地铁票价调整听证会", "-k", "1")
    assert code == 0 and "上海地铁票价调整听证会召开" in out
