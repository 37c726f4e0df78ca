"""Exceptions of the corpus package.

CorpusError
├── DecodeError      a file is binary or in an encoding we cannot read
├── FormatError      a file or line is not in an ingestible shape (missing title, bad JSON…)
└── StoreError       the database cannot be opened, is too new, or a write failed
"""

from __future__ import annotations


class CorpusError(Exception):
    """Base class for every error the corpus package raises on purpose."""


class DecodeError(CorpusError):
    """The bytes are not text we can decode."""


class FormatError(CorpusError):
    """The text is not in an ingestible format."""


class StoreError(CorpusError):
    """The SQLite store cannot do what was asked."""
