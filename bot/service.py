"""The newsroom service every front end talks to: a store, its search index and the composer, opened once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from corpus import Article, Store, ingest_paths, sample_paths
from retrieval.bm25 import BM25Params
from retrieval.compose import Answer, ComposeOptions, compose_answer
from retrieval.search import Searcher
from retrieval.tokenize import Tokenizer, default_userdict

from .config import Settings

__all__ = ["NewsService", "QuestionTooLong", "open_store", "utc_now"]

log = logging.getLogger(__name__)
_HITS = 30  # paragraphs ranked per question: enough for three pages after de-duplication


def utc_now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def open_store(settings: Settings, *, seed: bool = True) -> Store:
    """Open the database; on first use of an empty one, ingest the bundled sample page."""
    store = Store(settings.db)
    if seed and settings.seed_sample and store.is_empty():
        report = ingest_paths(store, sample_paths(), now=utc_now())
        log.info("empty database: ingested the bundled sample (%d articles)", report.articles)
    return store


@dataclass(frozen=True)
class QuestionTooLong(Exception):
    length: int
    limit: int


class NewsService:
    """Answers questions and serves articles from one database."""

    def __init__(self, settings: Settings, store: Store, searcher: Searcher) -> None:
        self.settings = settings
        self.store = store
        self.searcher = searcher
        self.options = ComposeOptions(per_page=settings.passages_per_page, window_chars=settings.window_chars)

    @classmethod
    def open(
        cls, settings: Settings, *, seed: bool = True, persist: bool = True, store: Store | None = None
    ) -> NewsService:
        """Open the database (seeding an empty one) and its index (loaded, updated or built)."""
        store = store or open_store(settings, seed=seed)
        tokenizer = Tokenizer(settings.userdict or default_userdict())
        params = BM25Params(settings.bm25_variant, settings.bm25_k1, settings.bm25_b)
        index_dir = settings.index_dir if persist else None
        searcher = Searcher.open(
            store, index_dir, tokenizer=tokenizer, params=params, title_copies=settings.title_copies
        )
        return cls(settings, store, searcher)

    def close(self) -> None:
        self.store.close()

    def ask(self, question: str, *, exclude_articles: frozenset[int] = frozenset()) -> Answer:
        """Answer a question with quoted passages, or say plainly that nothing relevant was found.

        Raises:
            QuestionTooLong: the question is longer than ``max_question_chars``.
        """
        question = question.strip()
        if len(question) > self.settings.max_question_chars:
            raise QuestionTooLong(len(question), self.settings.max_question_chars)
        result = self.searcher.search(question, k=_HITS, exclude_articles=exclude_articles)
        return compose_answer(question, result, self.searcher.tokenizer, self.searcher.index, self.options)

    def article(self, ref: str) -> Article | None:
        """An article by number or external id, with its paragraphs."""
        ref = ref.strip().lstrip("#")
        article = self.store.article(int(ref)) if ref.isdigit() else None
        return article or (self.store.article_by_external_id(ref) if ref else None)

    def latest(self, n: int = 10) -> list[Article]:
        return self.store.articles(limit=n)

    def refresh(self) -> None:
        """Pick up articles ingested since the index was opened (by this or another process)."""
        self.searcher.refresh()
