"""Classes of characters in Chinese text, and how a long paragraph splits: one place for the rules every
package shares (where a sentence ends, what closes it, what is a CJK character).

- ``SENTENCE_END``: 。！？ and their half-width forms, …; ``CLAUSE_END``: ；; (a quote may be trimmed
  there); ``CLOSERS``: quotes and brackets that belong to the sentence they close.
- ``CJK``: the ranges of CJK ideographs (a regex class body), ``CJK_WORD`` a whole word of them.

A paragraph longer than ``MAX_PARAGRAPH_CHARS`` (a run-together dump, a table flattened into one line)
would make every question that touches it slow and its quote unreadable; it is stored as consecutive
paragraphs cut at sentence ends, else at clause marks, else at the limit. Nothing is dropped: the pieces
laid end to end are the text.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "CJK",
    "CJK_WORD",
    "CLAUSE_END",
    "CLOSERS",
    "MAX_PARAGRAPH_CHARS",
    "PAUSE",
    "SENTENCE_END",
    "split_long",
]

SENTENCE_END = "。！？!?…"
CLAUSE_END = "；;"
PAUSE = "，,、：:"  # where a clause pauses: a long quote is cut there when no sentence ends near
CLOSERS = "”’」』)）】》〉\"'"
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_WORD = re.compile(f"^[{CJK}]+$")

MAX_PARAGRAPH_CHARS = 2000
_SENTENCE_END = re.compile(rf"[{SENTENCE_END}{CLAUSE_END}]+[{re.escape(CLOSERS)}]*")
_CLAUSE_END = re.compile(f"[{PAUSE}]")


def split_long(text: str, limit: int = MAX_PARAGRAPH_CHARS) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut where a reader would pause."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = max((m.end() for m in _SENTENCE_END.finditer(window)), default=0)
        if cut < limit // 2:
            cut = max(cut, max((m.end() for m in _CLAUSE_END.finditer(window)), default=0))
        if cut < limit // 4:
            cut = limit
            while cut > 1 and unicodedata.combining(text[start + cut]):  # keep a mark with its letter
                cut -= 1
        pieces.append(text[start : start + cut])
        start += cut
    pieces.append(text[start:])
    return pieces
