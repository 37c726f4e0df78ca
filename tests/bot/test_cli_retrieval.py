"""The retrieval commands of the CLI: search and eval; ingest keeps the saved index current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_PAGE
from tests.conftest import run_cli as run


def test_search_prints_ranked_paragraphs_with_sources(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    code, out, _ = run(capsys, "--db", str(db_path), "search", "象州县投入多少钱加强实体平台建设", "-k", "2")
    assert code == 0
    first = out.split("\n\n")[0]
    assert "广西象州县“三融合”加强工会建设" in first and "680万元" in first and "第2段" in first
    assert "matched: 象州县 投入" in first


def test_search_json_and_filters(
    capsys: pytest.CaptureFixture[str], db_path: Path, small_corpus_file: Path
) -> None:
    run(capsys, "--db", str(db_path), "ingest", str(small_corpus_file))
    code, out, _ = run(
        capsys,
        "--db",
        str(db_path),
        "search",
        "志愿者",
        "--from",
        "2023-08-20",
        "--to",
        "2023-08-20",
        "--json",
    )
    data = json.loads(out)
    assert code == 0 and data["hits"][0]["external_id"] == "n2"
    assert {h["date"] for h in data["hits"]} == {"2023-08-20"}
    assert {"rank", "score", "article_id", "headline", "paragraph", "matched", "text"} <= set(data["hits"][0])


def test_ingest_updates_the_saved_index(
    capsys: pytest.CaptureFixture[str], db_path: Path, small_corpus_file: Path
) -> None:
    run(capsys, "--db", str(db_path), "ingest", str(SAMPLE_PAGE))
    manifest = db_path.with_name(db_path.name + ".index") / "manifest.json"
    assert json.loads(manifest.read_text())["paragraphs"] == 57
    run(capsys, "--db", str(db_path), "ingest", str(small_corpus_file))
    assert json.loads(manifest.read_text())["paragraphs"] == 67


def test_eval_on_a_corpus_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, small_corpus_file: Path
) -> None:
    queries = tmp_path / "q.jsonl"
    rows = [
        {"qid": "1", "question": "上海地铁起步价调整为多少?", "answers": ["4元"], "positive_ids": ["n1"]},
        {"qid": "2", "question": "亚运会志愿者有多少名?", "answers": ["3.76万名"], "positive_ids": ["n2"]},
        {
            "qid": "3",
            "question": "沿黄九省区治理了多少水土流失?",
            "answers": ["1.2万平方公里"],
            "positive_ids": ["n4"],
        },
        {"qid": "4", "question": "南京发放了多少防暑物资", "answers": ["2000余份"], "positive_ids": ["n5"]},
    ]
    queries.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    code, out, _ = run(
        capsys, "eval", "--corpus", str(small_corpus_file), "--queries", str(queries), "--k", "1,3", "--json"
    )
    report = json.loads(out)
    assert code == 0 and report["queries"] == 4
    # The fourth names an article that shares no word with it (n3 holds the answer): never found.
    assert (report["recall@1"], report["recall@3"], report["mrr@10"]) == (0.75, 0.75, 0.75)
    assert report["latency_ms_p50"] > 0


def test_eval_rejects_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, small_corpus_file: Path
) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"qid": 1}\n', encoding="utf-8")
    code, _, err = run(capsys, "eval", "--corpus", str(small_corpus_file), "--queries", str(queries))
    assert code == 1 and "q.jsonl:1: needs a JSON object with `question`" in err
    code, _, err = run(
        capsys, "eval", "--corpus", str(small_corpus_file), "--queries", str(queries), "--k", "a"
    )
    assert code == 1 and "--k" in err
