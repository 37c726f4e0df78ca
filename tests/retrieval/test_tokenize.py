"""The tokenizer: normalisation, numbers, stop words, the user dictionary."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus import sample_paths
from retrieval.tokenize import STOPWORDS, Tokenizer, default_userdict, read_userdict


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer(default_userdict())


def test_traditional_and_full_width_text_gives_the_simplified_tokens(tok: Tokenizer) -> None:
    assert tok.tokens("協同機制") == tok.tokens("协同机制")
    assert tok.tokens("ＳＨＯＷ１３２００") == tok.tokens("show13200")
    assert "13200" in tok.tokens("１３２００立方米")


def test_every_full_width_character_becomes_what_nfkc_makes_it(tok: Tokenizer) -> None:
    """The shortcut for full-width ASCII (，：（Ａ１ and the ideographic space) gives NFKC's result for each,
    however they mix in a text."""
    import unicodedata

    full = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
    for c in full:
        assert tok.normalize(f"中{c}文") == "中" + unicodedata.normalize("NFKC", c).lower() + "文"
    mixed = "".join(full) + "（说明）：ＡＢＣ，１２３。" * 2
    assert tok.normalize(mixed) == unicodedata.normalize("NFKC", mixed).lower()


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("约13200立方米", "13200"),
        ("投入680万元", "680"),
        ("宣讲4.3万场次", "4.3"),
        ("辐射430.7万人次", "430.7"),
    ],
)
def test_numbers_stay_findable(tok: Tokenizer, text: str, number: str) -> None:
    assert number in tok.tokens(text)
    assert number in tok.query_terms(f"多少{number}?")


def test_punctuation_and_spaces_are_dropped(tok: Tokenizer) -> None:
    assert tok.tokens("“ ”,。!? ——《》") == []


def test_questions_lose_stop_and_question_words_and_repeats(tok: Tokenizer) -> None:
    terms = tok.query_terms("象州县投入多少钱加强实体平台建设?")
    assert "象州县" in terms and "平台" in terms
    assert not set(terms) & {"多少", "?", "什么"}
    assert len(terms) == len(set(terms))
    assert tok.query_terms("是什么?哪些?谁呢?") == []


def test_bigrams_match_names_the_dictionary_does_not_know(tok: Tokenizer) -> None:
    # HMM off splits unknown names into characters; the bigrams of the run still match.
    assert {"郭彦", "彦亮"} <= set(tok.tokens("工会干事郭彦亮说"))
    assert {"郭彦", "彦亮"} <= set(tok.query_terms("郭彦亮是谁"))


def test_stopwords_break_bigram_runs(tok: Tokenizer) -> None:
    tokens = tok.tokens("园长是谁")
    assert "长是" not in tokens and "是谁" not in tokens


def test_user_dictionary_keeps_words_whole(tmp_path: Path) -> None:
    plain = Tokenizer(None)
    assert "数字游民" not in plain.tokens("数字游民公社")
    shipped = Tokenizer(default_userdict())
    assert "数字游民" in shipped.tokens("数字游民公社")
    own = tmp_path / "dict.txt"
    own.write_text("# comment\n游民公社 50000 n\n", encoding="utf-8")
    assert "游民公社" in Tokenizer(own).tokens("数字游民公社")
    assert plain.signature != shipped.signature != Tokenizer(own).signature


def test_userdict_lines_without_frequency_get_one() -> None:
    entries = list(read_userdict(default_userdict()))
    assert all(freq > 0 for _, freq, _ in entries)
    assert ("新业态", entries[0][1], "n") == entries[0]


def test_stopwords_are_not_content(tok: Tokenizer) -> None:
    assert "谁" in STOPWORDS
    assert tok.content_words("大安山乡中心幼儿园的园长是谁?") == ["大安山乡", "中心", "幼儿园", "园长"]


def test_the_normalising_cache_is_bounded_by_characters_not_only_entries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whole article contexts pass through the cache: a serving bot must not keep thousands of them."""
    from retrieval import tokenize

    monkeypatch.setattr(tokenize, "_NORMALIZE_CACHE_CHARS", 50_000)
    fresh = Tokenizer(None)
    articles = [f"第{i}篇：" + "全国铁路发送旅客，" * 600 for i in range(40)]  # ~5,400 characters each
    for text in articles:
        assert fresh.normalize_cached(text) == fresh.normalize(text)
    held = sum(len(k) + len(v) for k, v in fresh._normalized.items())
    assert 0 < held <= 50_000 + 2 * len(articles[0])


def test_texts_normalised_together_are_each_normalised_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A question's candidates are normalised as one text and cut apart again: each comes out as it does
    alone, texts of several lines, empty ones, repeats and the cache's clearing midway included."""
    from retrieval import tokenize

    sample = sample_paths()[0].read_text(encoding="utf-8")
    texts = [
        *sample.split("\n")[:60],
        "協同機制，ＡＢＣ１２３ ﬁnal\n第二行\u200b零宽\n\n",
        "",
        "\u0301开头的组合符号",
        "面积达到120㎡\r\n第Ⅱ期",
        "協同機制，ＡＢＣ１２３ ﬁnal\n第二行\u200b零宽\n\n",  # a repeat
        sample[:3000],  # an article's context: many lines
    ]
    alone = Tokenizer(None)
    expected = [alone.normalize(t) for t in texts]
    assert expected[-2] == "协同机制,abc123 final\n第二行零宽\n\n"  # the steps did change things
    together = Tokenizer(None)
    assert together.normalize_many(texts) == expected
    remembered = [together.normalize_cached(t) for t in texts]
    assert remembered == expected
    monkeypatch.setattr(tokenize, "_NORMALIZE_CACHE", 25)  # cleared while the batch is remembered
    small = Tokenizer(None)
    assert small.normalize_many(texts) == expected


def test_a_batch_normalised_line_by_line_is_the_whole_text_normalised(tok: Tokenizer) -> None:
    """Index builds normalise 2,000 paragraphs as one text: where a line needs NFKC (㎡, Ⅱ, ﬁ, a combining
    accent at a line's start, full-width letters) only that line is redone, with the whole text's result."""
    import unicodedata

    lines = [
        "面积达到120㎡，第Ⅱ期工程",
        "plain text 平常的一行",
        "\u0301开头的组合符号",
        "ＡＢＣ１２３ ﬁnal",
        "",
        "e\u0301",
    ]
    text = "\n".join(lines * 3)
    whole = str(tok.simplified(unicodedata.normalize("NFKC", text).lower()))
    assert tok.normalize(text) == whole
    assert "㎡" not in whole and "ⅱ" not in whole and "\u0301" in whole  # the lines did need it


def test_a_tokenizer_that_has_seen_many_words_cuts_new_ones_as_a_fresh_one_does() -> None:
    """A tokenizer numbers every word it has cut and keeps their kinds in arrays that grow: a question of
    new words asked of a long-running bot, and a batch of them in an index build, come out as they would
    from a tokenizer that has seen nothing (a new word at an array's growth once raised IndexError)."""
    seasoned = Tokenizer(None)
    for n in range(0, 5000, 250):  # 5,000 distinct numbers: past several growths of the word table
        seasoned.analyze_batch([" ".join(f"{i}号" for i in range(n, n + 250))])
    fresh = Tokenizer(None)
    for words in (["新词", "第7001号", "北京"], [f"{i}号线" for i in range(7000, 9000)]):
        text = "，".join(words)
        cut = seasoned.words(text)
        assert seasoned.search_terms(cut, [True] * len(cut)) == fresh.search_terms(
            fresh.words(text), [True] * len(cut)
        )
        assert seasoned.query_terms(text + "。") == fresh.query_terms(text + "。")
        assert seasoned.tokens(text + "！") == fresh.tokens(text + "！")


def test_words_new_to_the_tokenizer_cut_in_several_threads_at_once_keep_their_own_kinds() -> None:
    """The bot answers in threads that share one tokenizer: words first seen in two threads at once must
    not be given one number (one would take the other's kind and length, and its tokens)."""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    shared, alone = Tokenizer(None), Tokenizer(None)
    texts = [
        " ".join(f"{kind}{i}{'号' * (t % 3)}" for i in range(400))
        for t, kind in enumerate("甲乙丙丁戊己庚辛")
    ]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch often, as under load
    try:
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(shared.tokens, texts * 3))
    finally:
        sys.setswitchinterval(interval)
    assert got == [alone.tokens(t) for t in texts * 3]
