"""The faults found by probing (issue D1–D11), each reproduced: a clear message, nothing lost, nobody blocked.

The Telegram-side probes (D3's event loop, D9's inline allowance) are in tests/bot/; the index's
faults (D4–D8) in tests/retrieval/test_index_faults.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.service import NewsService
from corpus import Store, ingest_paths
from tests.conftest import NOW, SMALL_CORPUS


def _line(record: object) -> str:
    return json.dumps(record, ensure_ascii=False)


def test_d1_a_deeply_nested_json_line_is_one_bad_line_and_the_run_goes_on(
    store: Store, tmp_path: Path
) -> None:
    nested = '{"title": "t", "text": "x", "a": ' + "[" * 2000 + "]" * 2000 + "}"
    first = tmp_path / "a.jsonl"
    first.write_text(
        "\n".join([_line(SMALL_CORPUS[0]), nested, _line(SMALL_CORPUS[1])]) + "\n", encoding="utf-8"
    )
    second = tmp_path / "b.jsonl"
    second.write_text(_line(SMALL_CORPUS[2]) + "\n", encoding="utf-8")
    report = ingest_paths(store, [first, second], now=NOW)
    assert report.articles == 3  # both good lines of the first file, and the later file
    (problem,) = report.problems
    assert problem.line == 2 and "nested too deeply" in problem.message


def test_d2_a_file_name_that_is_not_utf8_is_stored_losslessly(store: Store, tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/bad\xff.jsonl"
    with open(raw, "wb") as f:
        f.write((_line(SMALL_CORPUS[0]) + "\n").encode())
    path = Path(os.fsdecode(raw))
    report = ingest_paths(store, [path], now=NOW)
    assert (report.articles, report.failed) == (1, False)
    assert report.results[0].path.endswith("bad\\xff.jsonl")
    again = ingest_paths(store, [path], now=NOW)
    assert again.count("unchanged") == 1 and store.stats()["files"] == 1


def test_d10_a_lone_surrogate_in_a_question_is_replaced_not_raised(
    sample_service: NewsService, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    answer = sample_service.ask("象州县\ud800投入多少钱加强实体平台建设？")
    assert answer.answered and "680万元" in answer.passages[0].quote and "\ufffd" in answer.question
    code = main(["--db", str(tmp_path / "s.db"), "ask", "\udcff"])  # what `newsbot ask $'\xff'` passes
    assert code in (0, 3) and "请输入" in capsys.readouterr().out


def test_d11_control_characters_in_file_names_are_printed_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = tmp_path / "a\x1b[31mred.txt"
    evil.write_bytes(b"\x00\x01binary\x00")
    code = main(["--db", str(tmp_path / "e.db"), "ingest", str(evil)])
    err = capsys.readouterr().err
    assert code == 1 and "\x1b" not in err and "a\\x1b[31mred.txt" in err
