"""newsbot ask, ask --batch and chat over the bundled sample."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.chat import run_chat
from bot.config import load_settings
from bot.service import NewsService
from tests.conftest import run_cli as run


def test_ask_prints_the_quote_and_its_source(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, out, _ = run(capsys, "--db", str(db_path), "ask", "象州县投入多少钱加强实体平台建设？")
    assert code == 0
    assert "680万元" in out and "广西象州县“三融合”加强工会建设" in out and "第2段" in out
    assert "\033[" not in out  # not a terminal: no colour codes


def test_ask_json_and_not_found_exit_code(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, out, _ = run(
        capsys, "--db", str(db_path), "ask", "大安山乡中心幼儿园的园长是谁？", "--json", "-n", "2"
    )
    data = json.loads(out)
    assert code == 0 and data["answered"] and len(data["passages"]) <= 2
    assert "王青" in data["passages"][0]["quote"]
    code, out, _ = run(capsys, "--db", str(db_path), "ask", "今年高考作文题目是什么？")
    assert code == 3 and "没有找到" in out


def test_batch_gives_one_line_per_input_line_in_order(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "q.jsonl"
    lines = [
        json.dumps({"question": "象州县投入多少钱加强实体平台建设？"}, ensure_ascii=False),
        "",
        "{broken json",
        "抢险队员晚上睡在哪里？",
        json.dumps({"question": "x" * 600}),
        json.dumps({"nope": 1}),
        "   ",
    ]
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "--db", str(db_path), "ask", "--batch", str(batch))
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["line"] for r in records] == list(range(1, 8))
    assert [r["answered"] for r in records] == [True, False, False, True, False, False, False]
    assert "680万元" in records[0]["rendered"] and "<blockquote>" in records[0]["rendered"]
    assert "error" in records[2] and "error" in records[5]
    assert "运动馆" in records[3]["rendered"]
    assert "问题太长" in records[4]["rendered"]


def test_ask_needs_exactly_one_of_question_or_batch(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    code, _, err = run(capsys, "--db", str(db_path), "ask")
    assert code == 1 and "--batch" in err


def test_chat_answers_pages_and_reads_articles(db_path: Path) -> None:
    service = NewsService.open(load_settings(env={}, db=str(db_path)))
    script = "\n".join(
        ["北京环卫集团清淤", "更多", "/article 5", "/article 999", "/what", "/quit", "不会读到这里"]
    )
    out = io.StringIO()
    run_chat(service, io.StringIO(script + "\n"), out)
    service.close()
    text = out.getvalue()
    assert "第 1/3 页" in text and "第 2/3 页" in text
    assert "大安山里的“清淤战”" in text and "■ 和时间赛跑" in text
    assert "没有编号为 999 的文章" in text and "不认识的命令 /what" in text
    assert text.rstrip().endswith("再见。") and "不会读到这里" not in text


def test_more_before_any_question(db_path: Path) -> None:
    service = NewsService.open(load_settings(env={}, db=str(db_path)))
    out = io.StringIO()
    run_chat(service, io.StringIO("更多\n"), out)
    service.close()
    assert "请先提问" in out.getvalue()


def test_ask_after_completes_a_follow_up(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, out, _ = run(
        capsys,
        "--db",
        str(db_path),
        "ask",
        "她为什么急得上火？",
        "--after",
        "大安山乡中心幼儿园的园长是谁？",
        "--json",
    )
    data = json.loads(out)
    assert (
        code == 0 and data["understood"] == "王青为什么急得上火?" and "开学" in data["passages"][0]["quote"]
    )


def test_chat_follows_up_on_the_last_answer(db_path: Path) -> None:
    service = NewsService.open(load_settings(env={}, db=str(db_path)))
    out = io.StringIO()
    run_chat(service, io.StringIO("大安山乡中心幼儿园的园长是谁？\n她为什么急得上火？\n"), out)
    service.close()
    assert "答：王青" in out.getvalue() and "按「王青为什么急得上火?」理解" in out.getvalue()


def test_ask_source_quotes_only_that_publication(
    capsys: pytest.CaptureFixture[str], db_path: Path, small_corpus_file: Path
) -> None:
    run(capsys, "--db", str(db_path), "ingest", str(small_corpus_file))
    code, out, err = run(capsys, "--db", str(db_path), "ask", "工会志愿者", "--source", "浙江日报", "--json")
    data = json.loads(out)
    assert code == 0 and {p["source"]["publication"] for p in data["passages"]} == {"浙江日报"}
    code, _, err = run(capsys, "--db", str(db_path), "ask", "工会志愿者", "--source", "不存在的报纸")
    assert code == 1 and "不存在的报纸" in err and "浙江日报" in err
