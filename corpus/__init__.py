"""Getting articles in and keeping them: page dumps and article files, decoding, the SQLite store."""

from .aliases import AliasCount, MinedAlias, mine_aliases
from .errors import CorpusError, DecodeError, FormatError, StoreError
from .ingest import INGESTIBLE_SUFFIXES, ingest_file, ingest_paths, iter_ingestible, printable
from .models import (
    BODY,
    DEFAULT_TZ,
    GUIDE,
    SUBHEAD,
    Article,
    FileProblem,
    FileResult,
    IngestReport,
    Paragraph,
    ParsedArticle,
    ParsedParagraph,
)
from .pages import parse_page
from .samples import sample_paths
from .store import IndexRow, Store, StoreState

__all__ = [
    "BODY",
    "DEFAULT_TZ",
    "GUIDE",
    "INGESTIBLE_SUFFIXES",
    "SUBHEAD",
    "AliasCount",
    "Article",
    "CorpusError",
    "DecodeError",
    "FileProblem",
    "FileResult",
    "FormatError",
    "IndexRow",
    "IngestReport",
    "MinedAlias",
    "Paragraph",
    "ParsedArticle",
    "ParsedParagraph",
    "Store",
    "StoreError",
    "StoreState",
    "ingest_file",
    "ingest_paths",
    "iter_ingestible",
    "mine_aliases",
    "parse_page",
    "printable",
    "sample_paths",
]
