"""Rules about running text that ingestion needs: where sentences end, and how a long paragraph splits.

A paragraph longer than ``MAX_PARAGRAPH_CHARS`` (a run-together dump, a table flattened into one line)
would make every question that touches it slow and its quote unreadable; it is stored as consecutive
paragraphs cut at sentence ends, else at clause marks, else at the limit. Nothing is dropped: the pieces
laid end to end are the text.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_PARAGRAPH_CHARS", "SENTENCE_ENDS", "split_long"]

MAX_PARAGRAPH_CHARS = 2000
SENTENCE_ENDS = "。！？!?；;…"
_SENTENCE_END = re.compile(rf"[{SENTENCE_ENDS}]+[”’」』）)》\"'】]*")
_CLAUSE_END = re.compile(r"[，,、：:]")


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
