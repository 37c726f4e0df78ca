"""Shared fixtures: a clean environment, temp databases, a small Chinese corpus, the sample page."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.config import Settings, load_settings
from bot.service import NewsService
from corpus import Store, sample_paths
from retrieval import kernels
from retrieval.tokenize import Tokenizer, default_userdict

kernels.warm_up()  # numba compiles once (~25 s in a fresh clone), not inside a test that has a deadline

DATA = Path(__file__).resolve().parent / "data"
CMRC = DATA / "cmrc2018"  # an excerpt of cmrc2018-train (CC BY-SA 4.0, see its README)
SEEDS = [
    json.loads(line) for line in (DATA / "seed-questions.jsonl").read_text(encoding="utf-8").splitlines()
]
SAMPLE_PAGE = sample_paths()[0]
SAMPLE_HEADLINES = (  # the six articles of the sample page, in page order
    "浙江安吉县工会服务触角向新业态乡村就业创业者延伸",
    "天津市总与市审计局建立协同贯通工作机制 合力监督工会经费管理使用",
    "广西象州县“三融合”加强工会建设",
    "深圳坪山区举办青年职工交友活动",
    "大安山里的“清淤战”",
    "加强思想政治引领 凝聚发展“工力量”",
)
NOW = "2023-08-21T02:00:00+00:00"

SMALL_CORPUS = [
    {
        "id": "n1",
        "title": "上海地铁票价调整听证会召开",
        "date": "2023-08-20",
        "source": "新民晚报",
        "text": "上海市发展改革委召开轨道交通票价调整听证会。\n起步价拟由3元调整为4元,每10公里加价1元。",
    },
    {
        "id": "n2",
        "title": "杭州亚运会志愿者招募完成",
        "date": "2023-08-20",
        "source": "浙江日报",
        "text": "杭州亚运会志愿者招募工作近日完成,共有3.76万名志愿者入选。\n志愿者将在56个竞赛场馆提供服务。",
    },
    {
        "id": "n3",
        "title": "暑期高温 户外劳动者防暑降温",
        "date": "2023-08-21",
        "source": "工人日报",
        "text": "连日高温,多地工会为户外劳动者送去清凉。\n南京市总工会发放防暑降温物资2000余份。",
    },
    {
        "id": "n4",
        "title": "黄河流域生态保护持续推进",
        "date": "2023-08-21",
        "source": "人民日报",
        "text": "沿黄九省区推进生态保护和高质量发展。\n今年上半年共完成水土流失治理面积1.2万平方公里。",
    },
    {
        "id": "n5",
        "title": "新能源汽车下乡活动启动",
        "date": "2023-08-21",
        "source": "经济日报",
        "text": "2023年新能源汽车下乡活动在湖北襄阳启动。\n活动将持续到12月,覆盖100多个县区。",
    },
]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``newsbot ARGS`` in this process: its exit code, what it printed and what it complained about."""
    code = main([*args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "NEWSBOT_")):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def tok() -> Tokenizer:
    """One tokenizer for the tests that need one (loading jieba's dictionaries takes half a second)."""
    return Tokenizer(default_userdict())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "newsbot.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as s:
        yield s


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return load_settings(env={}, db=str(db_path))


@pytest.fixture
def small_corpus_file(tmp_path: Path) -> Path:
    path = tmp_path / "feed.jsonl"
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in SMALL_CORPUS), encoding="utf-8")
    return path


@pytest.fixture
def rows_read_while_writing(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The paragraph ids the thread indexing an ingest (``IndexManager.follow``) reads, in order, as it reads them."""
    from retrieval import index as index_module

    seen: list[int] = []
    following = index_module._committed_rows

    def watched(*args: Any) -> Iterator[Any]:
        for row in following(*args):
            seen.append(row.paragraph_id)
            yield row

    monkeypatch.setattr(index_module, "_committed_rows", watched)
    return seen


@pytest.fixture
def sample_text() -> str:
    return SAMPLE_PAGE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sample_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewsService]:
    """A service over the bundled sample page (seeded on first open), shared by a module's tests."""
    folder = tmp_path_factory.mktemp("hard")
    service = NewsService.open(load_settings(env={}, db=str(folder / "h.db")))
    yield service
    service.close()
