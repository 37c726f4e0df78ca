"""Searching a store: question in, ranked paragraphs with their articles out."""

from __future__ import annotations

from pathlib import Path

from corpus import Store

from .bm25 import BM25Params
from .hits import Hit, SearchResult
from .index import IndexManager, Ranked, SearchIndex
from .rerank import rerank
from .tokenize import Tokenizer, default_userdict

__all__ = ["Hit", "SearchResult", "Searcher"]


class Searcher:
    """Ranks the paragraphs of one store. Open it once at start-up (it loads or builds the index)."""

    def __init__(self, store: Store, manager: IndexManager) -> None:
        self.store = store
        self.manager = manager
        self.tokenizer = manager.tokenizer

    @classmethod
    def open(
        cls,
        store: Store,
        index_dir: Path | None,
        *,
        tokenizer: Tokenizer | None = None,
        params: BM25Params | None = None,
        title_copies: int = 2,
    ) -> Searcher:
        """Open the index beside the database (``index_dir=None`` keeps it in memory only)."""
        manager = IndexManager(
            index_dir, tokenizer or Tokenizer(default_userdict()), params or BM25Params(), title_copies
        )
        manager.open(store)
        return cls(store, manager)

    @property
    def index(self) -> SearchIndex:
        return self.manager.current

    def refresh(self) -> SearchIndex:
        """Bring the index up to date with the store (new and replaced articles)."""
        return self.manager.refresh(self.store)

    def rank(
        self,
        question: str,
        k: int = 10,
        *,
        day_from: str | None = None,
        day_to: str | None = None,
        source: str | None = None,
        exclude_articles: frozenset[int] = frozenset(),
    ) -> tuple[list[str], list[Ranked]]:
        """The question's search terms and its top ``k`` paragraphs as ids and scores (no database reads)."""
        terms = self.tokenizer.query_terms(question)
        ranked = self.index.rank(
            terms, k, day_from=day_from, day_to=day_to, source=source, exclude_articles=exclude_articles
        )
        return terms, ranked

    def search(
        self,
        question: str,
        k: int = 10,
        *,
        day_from: str | None = None,
        day_to: str | None = None,
        source: str | None = None,
        exclude_articles: frozenset[int] = frozenset(),
        second_stage: bool = True,
    ) -> SearchResult:
        """The top ``k`` paragraphs with their articles (``exclude_articles``: as if they were not there).

        With ``second_stage`` the BM25 top is re-ordered by sentence evidence (``retrieval.rerank``).
        """
        terms, ranked = self.rank(
            question, k, day_from=day_from, day_to=day_to, source=source, exclude_articles=exclude_articles
        )
        found = self.store.paragraphs_with_articles([r.paragraph_id for r in ranked])
        hits: list[Hit] = []
        for r in ranked:
            if r.paragraph_id in found:  # a paragraph deleted after the snapshot was taken is skipped
                paragraph, article = found[r.paragraph_id]
                hits.append(Hit(len(hits) + 1, r.score, paragraph, article, r.matched))
        if second_stage:
            hits = rerank(question, hits, self.tokenizer, self.index.idf)
        return SearchResult(question, tuple(terms), tuple(hits))
