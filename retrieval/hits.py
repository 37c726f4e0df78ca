"""What a search returns: ranked paragraphs with their articles."""

from __future__ import annotations

from dataclasses import dataclass

from corpus import Article, Paragraph

__all__ = ["Hit", "SearchResult"]


@dataclass(frozen=True)
class Hit:
    """A ranked paragraph with its article and the query terms it holds."""

    rank: int
    score: float
    paragraph: Paragraph
    article: Article
    matched: tuple[str, ...]


@dataclass(frozen=True)
class SearchResult:
    """What a question found: its search terms and the hits, best first."""

    question: str
    terms: tuple[str, ...]
    hits: tuple[Hit, ...]
