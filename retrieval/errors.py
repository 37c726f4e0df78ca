"""Exceptions of the retrieval package.

RetrievalError
├── IndexCorrupt     a persisted index does not match its manifest (it is rebuilt, never trusted)
├── QueryError       a question cannot be searched as given (the message says why)
└── ClusterUnavailable  Ray is missing or its cluster does not answer (NEWSBOT_RAY_ADDRESS)
"""

from __future__ import annotations


class RetrievalError(Exception):
    """Base class for every error the retrieval package raises on purpose."""


class IndexCorrupt(RetrievalError):
    """A persisted index is missing files, has wrong sizes or checksums, or arrays that disagree."""


class QueryError(RetrievalError):
    """A question cannot be searched as given."""


class ClusterUnavailable(RetrievalError):
    """The Ray cluster named by ``NEWSBOT_RAY_ADDRESS`` cannot be used (Ray missing, nobody answering)."""
