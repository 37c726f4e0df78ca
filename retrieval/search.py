"""Searching a store: question in, ranked paragraphs with their articles out."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from corpus import Store

from .aliases import AliasDictionary, AliasMap
from .bm25 import BM25Params
from .cluster import Cluster
from .hits import Hit, SearchResult
from .index import NO_FILTERS, Filters, IndexManager, Ranked, SearchIndex
from .question import Question
from .rerank import rerank
from .tokenize import Tokenizer, default_userdict

log = logging.getLogger(__name__)

__all__ = ["Filters", "Hit", "SearchResult", "Searcher"]

_CONTEXT_HITS = 30  # hits whose articles' full text comes with a search result
# With a period, the overall top joining its period's: the reports from elsewhere worth reading are an undated
# article's or a later one's that spells the period out, and they rank near the top; further down are other
# years' reports of a recurring story, refused as the wrong time. 10 rather than k (30): the same answers on
# the news dev set (both halves), and `ask`'s p95 at 1M paragraphs 22.2 → 17.8 ms (README).
_OVERALL_WITH_PERIOD = 10


class Searcher:
    """Ranks the paragraphs of one store. Open it once at start-up (it loads or builds the index)."""

    def __init__(
        self,
        store: Store,
        manager: IndexManager,
        alias_dictionary: AliasDictionary | None = None,
        cluster: Cluster | None = None,
    ) -> None:
        self.store = store
        self.manager = manager
        self.tokenizer = manager.tokenizer
        self.alias_dictionary = alias_dictionary
        self.cluster = cluster
        self._aliases: tuple[int, AliasMap] | None = None  # (index generation, map)

    @classmethod
    def open(
        cls,
        store: Store,
        index_dir: Path | None,
        *,
        tokenizer: Tokenizer | None = None,
        params: BM25Params | None = None,
        title_copies: int = 2,
        alias_dictionary: AliasDictionary | None = None,
        cluster: Cluster | None = None,
        while_writing: Callable[[Callable[[], None]], object] | None = None,
    ) -> Searcher:
        """Open the index beside the database (``index_dir=None`` keeps it in memory only);
        ``alias_dictionary`` adds and vetoes abbreviation pairs (``retrieval.aliases``); with a
        ``cluster``, builds segment text in its tasks and queries are answered by its shards.
        ``while_writing`` (an ingest, told of each commit) runs while what it writes is indexed
        (``IndexManager.follow``)."""
        manager = IndexManager(
            index_dir,
            tokenizer or Tokenizer(default_userdict()),
            params or BM25Params(),
            title_copies,
            cluster.analyse_chunks if cluster else None,
        )
        if while_writing is None:
            manager.open(store)
        else:
            manager.follow(store, while_writing)
        return cls(store, manager, alias_dictionary, cluster)

    @property
    def index(self) -> SearchIndex:
        """The current snapshot (served by the cluster's shards when there is one)."""
        current = self.manager.current
        return self.cluster.serve(current) if self.cluster else current

    @property
    def aliases(self) -> AliasMap:
        """The abbreviations questions are widened with: the store's mined pairs with the user dictionary,
        read again when the index has moved on to another generation of the store (a few hundred rows)."""
        generation = self.index.generation
        current = self._aliases
        if current is None or current[0] != generation:
            found = AliasMap(self.store.aliases(), self.alias_dictionary, self.tokenizer.normalize)
            self._aliases = current = (generation, found)
        return current[1]

    def refresh(self) -> SearchIndex:
        """Bring the index up to date with the store (new and replaced articles)."""
        return self.manager.refresh(self.store)

    def rank(self, question: Question, k: int = 10, filters: Filters = NO_FILTERS) -> list[Ranked]:
        """The question's top ``k`` paragraphs as ids and scores (no database reads). A question naming
        something the archive also calls otherwise (``Question.widened``) is ranked in both wordings, each
        paragraph keeping its better score."""
        index = self.index
        ranked = index.rank(question.terms, k, filters)
        if not question.widened:
            return ranked
        terms, weights = question.other_wording(index.idf)
        best = {r.paragraph_id: r for r in ranked}
        # A paragraph the other wording scores below the k-th best of this one cannot enter the top k.
        floor = ranked[k - 1].score if len(ranked) >= k else None
        for r in index.rank(terms, k, filters, weights, floor):
            if r.paragraph_id not in best or r.score > best[r.paragraph_id].score:
                best[r.paragraph_id] = r
        return sorted(best.values(), key=lambda r: (-r.score, r.paragraph_id))[:k]

    def search(
        self,
        question: Question,
        k: int = 10,
        *,
        filters: Filters = NO_FILTERS,
        second_stage: bool = True,
        contexts: bool = True,
    ) -> SearchResult:
        """The top ``k`` paragraphs with their articles, among those ``filters`` let through.

        When the question names a time, the top ``k`` of the days that can report on it join the
        overall top ``_OVERALL_WITH_PERIOD`` (a recurring story of the right year may rank far below other years' reports
        on words alone). With ``second_stage`` the candidates are re-ordered by sentence evidence and
        how their dates fit the question (``retrieval.rerank``); BM25 scores stay on the hits. With
        ``contexts`` the full text of the first hits' articles comes along (the composer reads names and
        figures the answering paragraph leaves to the lead).
        """
        periods = tuple(p for t in question.times for p in t.report_periods()) if second_stage else ()

        def ranking() -> list[Ranked]:
            ranked = self.rank(question, min(k, _OVERALL_WITH_PERIOD) if periods else k, filters)
            if periods:
                seen = {r.paragraph_id for r in ranked}
                within = self.rank(question, k, dataclasses.replace(filters, periods=periods))
                ranked += [r for r in within if r.paragraph_id not in seen]
            return ranked

        index = self.manager.current
        if not index.intact():  # a file truncated under the mapping would kill the process when read
            index = self.manager.rebuild(self.store, index)
        try:
            ranked = ranking()
        except (IndexError, ValueError):
            # Garbled index files give wrong positions rather than an error on loading: rebuild, once.
            log.exception("the search index failed a query")
            self.manager.rebuild(self.store, index)
            ranked = ranking()
        found = self.store.paragraphs_with_articles([r.paragraph_id for r in ranked])
        hits: list[Hit] = []
        for r in ranked:
            if r.paragraph_id in found:  # a paragraph deleted after the snapshot was taken is skipped
                paragraph, article = found[r.paragraph_id]
                hits.append(
                    Hit(
                        rank=len(hits) + 1,
                        score=r.score,
                        paragraph=paragraph,
                        article=article,
                        matched=r.matched,
                    )
                )
        if second_stage:
            hits = rerank(question, hits, self.tokenizer, self.index.idf)
        texts = self.store.article_texts([h.article.id for h in hits[:_CONTEXT_HITS]]) if contexts else {}
        return SearchResult(question=question, terms=question.all_terms, hits=tuple(hits), contexts=texts)
