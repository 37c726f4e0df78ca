"""Daily digests: the day's articles grouped into topics, each with its key sentence.

``build_digest`` is pure: articles and corpus statistics in, a ``Digest`` out.

1. Keywords per article: nouns and names (jieba POS, HMM on so unknown names count) of two or more
   characters, weighted by term frequency (headline words count ``HEADLINE_BOOST`` times) times their IDF in
   the *whole corpus* — the corpus's own statistics, not a general-purpose IDF, so words every article of
   this archive uses (工会, 记者) sink and the day's specific subjects rise.
2. Topics: average-linkage agglomerative clustering of the articles' keyword vectors (cosine); two groups
   merge while their average similarity is at least ``MERGE_SIMILARITY``.
3. Each topic is named as a reader would title it: by the 2–4 heaviest keywords several of its articles
   share, or else by the headline of its most salient article (a one-story topic by its headline); never
   by a fragment across words (jieba's HMM makes 总与市 of 市总与市审计局). Topics are ordered by size, then
   salience (summed keyword weight); beyond ``max_topics`` the rest go to 其他.
4. Each article shows one key sentence: the composer's window choice with the topic's keywords as terms.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpus import Article

from .compose import CorpusStats, key_sentence
from .tokenize import Tokenizer

__all__ = ["Digest", "DigestArticle", "Topic", "article_keywords", "build_digest"]

HEADLINE_BOOST = 3
# Two groups merge when their articles share several of their most specific keywords: with 20 keywords
# an article, unrelated stories stay below ~0.03 and stories on one subject score 0.07 and far above.
MERGE_SIMILARITY = 0.07
KEYWORDS_PER_ARTICLE = 20
# Nouns, places, organisations, other proper nouns, verbal nouns, abbreviations, idioms, Latin words.
# Person names (nr) only when the dictionary has them (马拉松 is tagged nr there): a name guessed from
# the text is rarely what a reader calls a topic.
_NOUNISH = ("n", "ns", "nt", "nz", "vn", "j", "l", "eng")
_SENTENCE_CHARS = 90
_FUNCTION_CHARS = frozenset("与和及或的了在是对把被从向于为以将并而且")


@dataclass(frozen=True)
class DigestArticle:
    article_id: int
    external_id: str | None
    headline: str
    date: str
    sentence: str  # the key sentence, verbatim (trimmed at sentence ends with … marks)
    headline_derived: bool = False  # the article has no title: the headline is its first sentence


@dataclass(frozen=True, kw_only=True)
class Topic:
    name: str
    keywords: tuple[str, ...]
    articles: tuple[DigestArticle, ...]  # the most salient ones, at most ``per_topic``
    salience: float
    size: int  # how many articles the topic holds in all


@dataclass(frozen=True, kw_only=True)
class Digest:
    title_day: str
    topics: tuple[Topic, ...]
    other: tuple[DigestArticle, ...]

    @property
    def article_ids(self) -> tuple[int, ...]:
        return tuple(a.article_id for t in self.topics for a in t.articles) + tuple(
            a.article_id for a in self.other
        )

    @property
    def empty(self) -> bool:
        return not self.topics and not self.other


def article_keywords(article: Article, tokenizer: Tokenizer, stats: CorpusStats) -> dict[str, float]:
    """The article's keywords with TF × corpus-IDF weights (the heaviest ``KEYWORDS_PER_ARTICLE``)."""
    counts: Counter[str] = Counter()
    for text, boost in ((article.headline, HEADLINE_BOOST), (article.subtitle, 2), (article.kicker, 1)):
        counts.update({w: boost for w in _nouns(text, tokenizer)})
    for p in article.paragraphs:
        counts.update(_nouns(p.text, tokenizer))
    weights = {w: (1 + math.log(c)) * stats.weight(w) for w, c in counts.items()}
    top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:KEYWORDS_PER_ARTICLE]
    return dict(top)


def _nouns(text: str, tokenizer: Tokenizer) -> list[str]:
    return [
        w
        for w, tag in tokenizer.tag_names(text)
        if len(w) >= 2 and (tag in _NOUNISH or (tag == "nr" and tokenizer.in_dictionary(w)))
    ]


def build_digest(
    title_day: str,
    articles: Sequence[Article],
    tokenizer: Tokenizer,
    stats: CorpusStats,
    *,
    max_topics: int = 8,
    per_topic: int = 5,
) -> Digest:
    """Group ``articles`` (with paragraphs) into at most ``max_topics`` topics plus 其他."""
    if not articles:
        return Digest(title_day=title_day, topics=(), other=())
    vectors = [article_keywords(a, tokenizer, stats) for a in articles]
    groups = _cluster([_pieces(v) for v in vectors])
    topics: list[tuple[int, float, Topic]] = []
    for members in groups:
        headline_words = {
            w: stats.weight(w) for i in members for w in _nouns(articles[i].headline, tokenizer)
        }
        texts = [_plain(articles[i], tokenizer) for i in members]
        keywords = _topic_keywords([vectors[i] for i in members], headline_words, texts)
        salience = sum(sum(vectors[i].values()) for i in members)
        chosen = sorted(members, key=lambda i: (-sum(vectors[i].values()), articles[i].id))[:per_topic]
        weights = {k: stats.weight(k) for k in keywords}
        entries = tuple(_entry(articles[i], weights, tokenizer) for i in chosen)
        # Words several of its articles share name a topic; a topic of one story is named by its headline
        # (the most central one, when the shared words are too few to read as a title).
        shared = [k for k in keywords if sum(k in t for t in texts) >= 2]
        name = (
            " · ".join(shared) if len(shared) >= 2 else (articles[chosen[0]].headline or " · ".join(keywords))
        )
        topics.append(
            (
                len(members),
                salience,
                Topic(name=name, keywords=keywords, articles=entries, salience=salience, size=len(members)),
            )
        )
    topics.sort(key=lambda t: (-t[0], -t[1], t[2].articles[0].article_id))
    kept = [t for _, _, t in topics[:max_topics]]
    other = tuple(a for _, _, t in topics[max_topics:] for a in t.articles)
    return Digest(title_day=title_day, topics=tuple(kept), other=other)


def _entry(article: Article, weights: dict[str, float], tokenizer: Tokenizer) -> DigestArticle:
    body = [p.text for p in article.paragraphs if p.kind == "body"]
    best = ""
    best_score = -1.0
    for text in body[:8]:  # the lead paragraphs: where a news story says what happened
        sentence, score = key_sentence(text, weights, tokenizer, _SENTENCE_CHARS)
        if score > best_score:
            best, best_score = sentence, score
    return DigestArticle(
        article.id, article.external_id, article.headline, article.day, best, article.headline_derived
    )


def _pieces(vector: dict[str, float]) -> dict[str, float]:
    """Keyword weights spread over the keywords' character bigrams, so that one subject segmented two ways
    (马拉松 / 马拉松赛, 粮食 / 粮食部门) still matches."""
    out: dict[str, float] = {}
    for word, weight in vector.items():
        grams = (
            [word[i : i + 2] for i in range(len(word) - 1)]
            if len(word) > 2 and not word.isascii()
            else [word]
        )
        for g in grams:
            out[g] = out.get(g, 0.0) + weight / len(grams)
    return out


def _cluster(vectors: list[dict[str, float]]) -> list[list[int]]:
    """Average-linkage agglomerative clustering of keyword vectors (cosine); stops when no pair of groups
    is similar enough. Lance-Williams updates keep it O(n²) per merge in numpy."""
    n = len(vectors)
    if n == 1:
        return [[0]]
    vocab = {k: i for i, k in enumerate(sorted({k for v in vectors for k in v}))}
    matrix = np.zeros((n, len(vocab)))
    for row, v in enumerate(vectors):
        for k, w in v.items():
            matrix[row, vocab[k]] = w
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    sim = matrix @ matrix.T
    np.fill_diagonal(sim, -np.inf)
    sizes = np.ones(n)
    alive = np.ones(n, dtype=bool)
    members: list[list[int]] = [[i] for i in range(n)]
    while alive.sum() > 1:
        flat = int(np.argmax(sim))
        x, y = divmod(flat, n)
        if sim[x, y] < MERGE_SIMILARITY:
            break
        merged = (sizes[x] * sim[x] + sizes[y] * sim[y]) / (sizes[x] + sizes[y])
        sim[x], sim[:, x] = merged, merged
        sim[x, x] = -np.inf
        sim[y], sim[:, y] = -np.inf, -np.inf
        sizes[x] += sizes[y]
        alive[y] = False
        members[x] = sorted(members[x] + members[y])
        members[y] = []
    return [members[i] for i in range(n) if alive[i]]


def _plain(article: Article, tokenizer: Tokenizer) -> str:
    return tokenizer.normalize("\n".join([article.headline, *(p.text for p in article.paragraphs)]))


def is_word(candidate: str) -> bool:
    """Whether a keyword reads as a word: not a fragment across words that holds a function word
    (jieba's guesses with HMM make 总与市 of 市总与市审计局, 至今 of 成立至今)."""
    return not any(c in _FUNCTION_CHARS for c in candidate[1:-1]) and not (
        len(candidate) > 2 and candidate[0] in _FUNCTION_CHARS
    )


def _topic_keywords(
    vectors: list[dict[str, float]], headline_words: dict[str, float], texts: list[str]
) -> tuple[str, ...]:
    """2–4 names for a topic: words found in most of its articles first, then headline words, then weight."""
    weight: dict[str, float] = dict(headline_words)
    for v in vectors:
        for k, w in v.items():
            weight[k] = weight.get(k, 0.0) + w
    reach = {k: sum(k in t for t in texts) for k in weight}
    ranked = sorted(weight, key=lambda k: (-reach[k], -(k in headline_words), -weight[k], k))
    names: list[str] = []
    for k in ranked:
        if any(k in n or n in k for n in names) or not is_word(k):
            continue  # 安吉县 and 安吉: one is enough; 总与市 (from 市总与市审计局) is no word
        names.append(k)
        if len(names) == 4:
            break
    return tuple(names)
