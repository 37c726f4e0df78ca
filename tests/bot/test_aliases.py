"""What a user notices of the archive's abbreviations: a question saying one form of a name finds the
article that says only the other, the user dictionary adds and vetoes pairs, ``newsbot aliases`` lists them.

The fixture (tests/data/aliases/) holds two expos, each called by a short form in some articles and by
its full name in others: 海博会 (stated: 以下简称) and 茶博会 (used in two articles beside the full name),
and rival events answering the same questions with other figures.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_settings
from bot.service import NewsService
from corpus import Store, ingest_paths
from tests.conftest import DATA

FIXTURE = DATA / "aliases" / "articles.jsonl"
NOW = dt.date(2024, 8, 1)
HAIBO = ("海博会", "滨海国际海洋经济博览会")
CHABO = ("茶博会", "云川国际茶业博览会")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("aliases") / "news.db"
    with Store(path) as store:
        ingest_paths(store, [FIXTURE], now="2024-08-01T00:00:00+00:00")
    return path


def open_service(db: Path, tmp_path: Path, dictionary: str | None = None) -> NewsService:
    env = {}
    if dictionary is not None:
        (tmp_path / "aliases.txt").write_text(dictionary, encoding="utf-8")
        env["NEWSBOT_ALIASES"] = str(tmp_path / "aliases.txt")
    return NewsService.open(load_settings(env=env, db=str(db)), persist=False)


@pytest.fixture(scope="module")
def widened(db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewsService]:
    service = open_service(db, tmp_path_factory.mktemp("plain"))
    yield service
    service.close()


@pytest.fixture(scope="module")
def vetoed(db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewsService]:
    veto = "\n".join(f"-{short} {long}" for short, long in (HAIBO, CHABO))
    service = open_service(db, tmp_path_factory.mktemp("veto"), veto)
    yield service
    service.close()


def first_answer(service: NewsService, question: str) -> tuple[str | None, str]:
    answer = service.ask(question, now=NOW)
    if not answer.answered:
        return None, ""
    return answer.passages[0].source.external_id, answer.passages[0].quote


def test_the_pairs_mined_from_the_fixture(db: Path) -> None:
    with Store(db) as store:
        found = {(a.short, a.long): (a.articles, a.explicit) for a in store.aliases()}
    assert found == {HAIBO: (1, 1), CHABO: (2, 0)}


def test_a_short_form_finds_the_article_that_spells_only_the_long_one(
    widened: NewsService, vetoed: NewsService
) -> None:
    question = "海博会签约了多少个项目？"
    assert first_answer(widened, question) == (
        "hb2",
        "滨海国际海洋经济博览会今天闭幕。主办方宣布，展会期间共签约项目126个，协议金额达380亿元。",
    )
    # Without the pair, the rival fair's figure comes first.
    assert first_answer(vetoed, question)[0] == "xl1"


def test_a_long_form_finds_the_article_that_says_only_the_short_one(
    widened: NewsService, vetoed: NewsService
) -> None:
    question = "滨海国际海洋经济博览会上的智能渔船能连续作业多少天？"
    found, quote = first_answer(widened, question)
    assert found == "hb3" and "60天" in quote
    assert first_answer(vetoed, question) == (None, "")  # nothing said 滨海国际海洋经济博览会 about a boat


def test_an_implicit_pair_widens_both_ways(widened: NewsService, vetoed: NewsService) -> None:
    question = "云川国际茶业博览会期间举办的斗茶大赛有多少茶农参赛？"
    found, quote = first_answer(widened, question)
    assert found == "cb4" and "86位茶农" in quote
    assert first_answer(vetoed, question) == (None, "")
    short = widened.searcher.search(widened.parse("茶博会上签了多少订单？", NOW), k=3)
    assert short.hits[0].article.external_id == "cb3"  # the only article with orders, which says 云川国际…
    assert "云川" in short.terms  # its terms are highlighted in the quote too


def test_a_user_pair_widens_without_any_article_stating_it(db: Path, tmp_path: Path) -> None:
    service = open_service(db, tmp_path, "# 本地叫法\n海洋展 滨海国际海洋经济博览会\n")
    with service.store:
        assert first_answer(service, "海洋展签约了多少个项目？")[0] == "hb2"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args])
    out, err = capsys.readouterr()
    return code, out, err


def test_newsbot_aliases_lists_the_pairs(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, "--db", str(db), "aliases")
    assert code == 0
    assert out.splitlines()[1:] == [
        "       2      0  茶博会 → 云川国际茶业博览会",
        "       1      1  海博会 → 滨海国际海洋经济博览会",
    ]
    code, out, _ = run(capsys, "--db", str(db), "aliases", "--explicit", "--json")
    assert [(r["short"], r["used"]) for r in json.loads(out)] == [("海博会", True)]
    code, out, _ = run(capsys, "--db", str(db), "aliases", "--min", "3")
    assert code == 0 and out.strip() == "no abbreviations held by 3 or more articles"
    # The user dictionary: a veto shows as such, an added pair as the user's.
    (tmp_path / "a.txt").write_text(
        "-茶博会 云川国际茶业博览会\n海洋展 滨海国际海洋经济博览会\n", encoding="utf-8"
    )
    monkeypatch.setenv("NEWSBOT_ALIASES", str(tmp_path / "a.txt"))
    code, out, _ = run(capsys, "--db", str(db), "aliases")
    assert "茶博会 → 云川国际茶业博览会   (not used: vetoed by the user dictionary)" in out
    assert "    user         海洋展 → 滨海国际海洋经济博览会" in out


def test_newsbot_aliases_help_and_a_bad_dictionary(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit):
        main(["aliases", "--help"])
    out = capsys.readouterr().out
    assert "--min N" in out and "--explicit" in out and "--json" in out and "newsbot aliases --min 2" in out
    (tmp_path / "bad.txt").write_text("海博会\n", encoding="utf-8")
    monkeypatch.setenv("NEWSBOT_ALIASES", str(tmp_path / "bad.txt"))
    code, _, err = run(capsys, "--db", str(db), "aliases")
    assert code == 1 and err.startswith("newsbot: ") and "bad.txt:1:" in err and len(err.splitlines()) == 1
    monkeypatch.setenv("NEWSBOT_ALIASES", str(tmp_path / "missing.txt"))
    code, _, err = run(capsys, "--db", str(db), "aliases")
    assert code == 1 and "NEWSBOT_ALIASES=" in err and "is not a file" in err


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_a_widened_question_ranks_each_paragraph_by_its_better_wording(widened: NewsService, k: int) -> None:
    """Both wordings' full rankings merged, each paragraph at its better score, give the top k (the second
    wording is searched only above the first one's k-th best: what scores below it cannot enter)."""
    index = widened.searcher.index
    for text in ("茶博会签了多少订单？", "滨海国际海洋经济博览会有多少家企业参展？"):
        question = widened.parse(text, NOW)
        assert question.widened
        terms, weights = question.other_wording(index.idf)
        best: dict[int, float] = {}
        for r in [*index.rank(question.terms, 1000), *index.rank(terms, 1000, weights=weights)]:
            best[r.paragraph_id] = max(best.get(r.paragraph_id, r.score), r.score)
        expected = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]
        ranked = widened.searcher.rank(question, k)
        assert [(r.paragraph_id, r.score) for r in ranked] == expected
