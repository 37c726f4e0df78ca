"""Which mined abbreviations widen questions, the user dictionary, and how a question is widened."""

from __future__ import annotations

import datetime as dt

import pytest

from corpus import AliasCount
from retrieval.aliases import (
    USED,
    AliasDictionary,
    AliasDictionaryError,
    AliasMap,
    Widening,
    parse_alias_dictionary,
)
from retrieval.question import parse_question
from retrieval.tokenize import Tokenizer, default_userdict

NOW = dt.date(2024, 8, 1)


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer(default_userdict())


def pair(short: str, long: str, articles: int = 2, explicit: int = 0) -> AliasCount:
    return AliasCount(short=short, long=long, articles=articles, explicit=explicit)


def test_the_user_dictionary_adds_and_vetoes() -> None:
    text = "# 我们的简称\n海博会 滨海国际海洋经济博览会\n\n-市总 天津市总工会  # 本地另有所指\n"
    d = parse_alias_dictionary(text)
    assert d.adds == (("海博会", "滨海国际海洋经济博览会"),)
    assert d.vetoes == {("市总", "天津市总工会")}


@pytest.mark.parametrize("line", ["海博会", "海博会 滨海 博览会", "滨海国际海洋经济博览会 海博会"])
def test_a_bad_dictionary_line_is_named(line: str) -> None:
    with pytest.raises(AliasDictionaryError, match=r"my\.txt:2: .*短 长"):
        parse_alias_dictionary(f"渔博会 东海国际渔业博览会\n{line}\n", "my.txt")


def test_which_pairs_are_used() -> None:
    generic = [pair("市委", f"中共{c}市委员会", 5) for c in "甲乙丙丁"]
    pairs = [
        pair("农博会", "西部农业科技博览会", 1, 1),  # stated once: used
        pair("渔博会", "东海国际渔业博览会", 1),  # guessed from one article: not yet
        pair("茶博会", "云川国际茶业博览会", 2),  # guessed from two: used
        pair("市总", "天津市总工会", 9),  # vetoed
        *generic,  # 市委 of every city: a generic word
    ]
    aliases = AliasMap(pairs, AliasDictionary(vetoes=frozenset({("市总", "天津市总工会")})))
    assert [aliases.status(p) == USED for p in pairs[:4]] == [True, False, True, False]
    assert "generic" in aliases.status(generic[0])
    assert aliases.other_forms("茶博会") == ("云川国际茶业博览会",)
    assert aliases.other_forms("云川国际茶业博览会") == ("茶博会",)  # both ways
    assert aliases.other_forms("市总") == () and aliases.other_forms("渔博会") == ()


def test_a_user_pair_is_used_without_articles() -> None:
    aliases = AliasMap([], AliasDictionary(adds=(("海洋展", "滨海国际海洋经济博览会"),)))
    assert aliases.other_forms("海洋展") == ("滨海国际海洋经济博览会",)


def test_a_question_is_widened_both_ways(tok: Tokenizer) -> None:
    aliases = AliasMap([pair("茶博会", "云川国际茶业博览会")], normalize=tok.normalize)
    short = parse_question("茶博会签了多少订单？", tok, NOW, aliases=aliases)
    assert [(w.said, w.means) for w in short.widened] == [("茶博会", ("云川国际茶业博览会",))]
    assert set(tok.query_terms("云川国际茶业博览会")) <= set(short.all_terms)
    long = parse_question("雲川國際茶業博覽會簽了多少訂單？", tok, NOW, aliases=aliases)  # traditional too
    assert [(w.said, w.means) for w in long.widened] == [("云川国际茶业博览会", ("茶博会",))]
    # A word inside the name is also said by the other form.
    assert short.alternatives("茶博会") == ("云川国际茶业博览会",) and short.alternatives("订单") == ()
    # Ranked a second time as if it said the long form: the short form's terms give way to the long one's.
    terms, weights = short.other_wording(lambda t: 1.0)
    assert not set(short.widened[0].said_terms) & set(terms)
    assert set(tok.query_terms("云川国际茶业博览会")) <= set(terms)
    assert dict(zip(terms, weights, strict=True))["订单"] == 1.0


def test_a_form_inside_another_word_is_not_widened(tok: Tokenizer) -> None:
    aliases = AliasMap([pair("北大", "北京大学")], normalize=tok.normalize)
    assert parse_question("东北大学在哪里？", tok, NOW, aliases=aliases).widened == ()
    assert parse_question("北大在哪里？", tok, NOW, aliases=aliases).widened != ()


def test_the_other_wording_weighs_what_the_question_said() -> None:
    idf = {"茶博": 6.0, "博会": 4.0, "云川": 5.0, "茶业": 5.0, "博览会": 2.0, "签": 1.0}.get
    w = Widening(
        said="茶博会",
        means=("云川国际茶业博览会",),
        said_terms=("茶博", "博会"),
        terms=("云川", "茶业", "博览会"),
    )
    assert w.weight(lambda t: idf(t, 0.0)) == pytest.approx(10 / 12)  # the same IDF in all
    rare = Widening(said="茶博会", means=("博览会",), said_terms=("茶博", "博会"), terms=("博览会",))
    assert rare.weight(lambda t: idf(t, 0.0)) == 1.0  # never above a term of the question itself
