"""What a search returns: ranked paragraphs with their articles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from corpus import Article, Paragraph

from .question import Question

__all__ = ["Hit", "SearchResult"]


@dataclass(frozen=True, kw_only=True)
class Hit:
    """A ranked paragraph with its article and the query terms it holds."""

    rank: int
    score: float
    paragraph: Paragraph
    article: Article
    matched: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SearchResult:
    """What a question found: its search terms and the hits, best first, with the full text of the first
    hits' articles (``contexts``: article id to headline, titles and paragraphs, one per line)."""

    question: Question
    terms: tuple[str, ...]
    hits: tuple[Hit, ...]
    contexts: Mapping[int, str] = field(default_factory=dict)
