"""Splitting Chinese text into sentences by the usual conventions.

A sentence ends after 。！？ (and their half-width forms), after …… or …, and after ； (a clause boundary:
quotes may be trimmed there). Closing quotes and brackets (”’」』）》) stay with the sentence they close, as
does trailing space. A half-width full stop ends a sentence only before a space or the end of the text, so
"4.3万" and "example.com" stay whole.
"""

from __future__ import annotations

import re

from corpus.text import CLAUSE_END, CLOSERS, SENTENCE_END

__all__ = ["split_sentences"]

_END = re.compile(
    rf"(?:[{SENTENCE_END}{CLAUSE_END}]+|\.(?=\s|$))"  # the terminator itself
    rf"[{re.escape(CLOSERS)}]*"  # closers that belong to the sentence
    r"\s*"
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences of ``text``, covering it without gaps."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        end = m.end()
        if end > start:
            spans.append((start, end))
            start = end
    if start < len(text):
        spans.append((start, len(text)))
    return spans
