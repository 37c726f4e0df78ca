"""Ingesting files and folders into the store: format detection, decoding, idempotency, reports."""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from .decode import decode_bytes, detect_bom
from .errors import CorpusError, DecodeError, FormatError
from .files import date_from_path, parse_jsonl_record, parse_text_file
from .models import FileProblem, FileResult, IngestReport, ParsedArticle, ParsedParagraph
from .store import Store
from .text import MAX_PARAGRAPH_CHARS, split_long

__all__ = ["INGESTIBLE_SUFFIXES", "ingest_file", "ingest_paths", "iter_ingestible", "printable"]

INGESTIBLE_SUFFIXES = (".txt", ".md", ".markdown", ".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")  # archives come gzipped; read as a stream
DEFAULT_MAX_TEXT_BYTES = 20 * 1024 * 1024
_SAMPLE = 65536


def iter_ingestible(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Expand folders recursively (sorted, hidden entries skipped); files given by name are kept as is."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(p.startswith(".") for p in child.relative_to(path).parts)
                if child.is_file() and not hidden and child.name.lower().endswith(INGESTIBLE_SUFFIXES):
                    yield child
        else:
            yield path


def ingest_paths(
    store: Store,
    paths: Iterable[str | Path],
    *,
    now: str,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
    on_file: Callable[[FileResult], None] | None = None,
) -> IngestReport:
    """Ingest files and folders; every file is its own transaction, and one bad file stops nothing."""
    report = IngestReport()
    for path in iter_ingestible(paths):
        result = ingest_file(store, path, now=now, max_text_bytes=max_text_bytes)
        report.results.append(result)
        if on_file:
            on_file(result)
    return report


def ingest_file(
    store: Store,
    path: str | Path,
    *,
    now: str,
    key: str | None = None,
    name: str | None = None,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
) -> FileResult:
    """Ingest one file.

    Args:
        key: what identifies the file in the store (default: its absolute path); a changed file with
            the same key replaces its own articles.
        name: the name used for format detection, dates and messages (default: the path).
    """
    path = Path(path)
    shown = printable(name or str(path))
    key = printable(key or str(path.resolve()))
    is_jsonl = shown.lower().endswith(_JSONL_SUFFIXES)
    try:
        size = path.stat().st_size
        if size == 0:
            return _failed(shown, "skipped", "is empty")
        if not is_jsonl and size > max_text_bytes:  # refused before a byte is read
            return _failed(
                shown,
                "skipped",
                f"is {size / 1e6:.0f} MB, over the {max_text_bytes / 1e6:.0f} MB limit for text "
                "files; split it or convert it to JSON Lines, which is read line by line",
            )
        # JSON Lines are hashed as bytes and streamed; a text file is decoded first and hashed as text,
        # so the same page saved in GBK and in UTF-8 is recognised as the same content.
        raw = None if is_jsonl else path.read_bytes()
        sha256 = _sha256(path) if raw is None else ""
    except OSError as exc:
        return _failed(shown, "skipped", f"cannot read: {exc.strerror or exc}")
    day = date_from_path(shown)
    problems: list[FileProblem] = []
    try:
        if raw is None:
            if (same := store.file_by_hash(sha256)) is not None:
                return FileResult(
                    path=shown, status="unchanged", articles=same.articles, paragraphs=same.paragraphs
                )
            fmt, encoding = "jsonl", _jsonl_encoding(path)
            articles: Iterable[ParsedArticle] = _jsonl_articles(path, encoding, shown, day, problems)
        else:
            decoded = decode_bytes(raw)
            sha256 = hashlib.sha256(decoded.text.encode("utf-8")).hexdigest()
            if (same := store.file_by_hash(sha256)) is not None:
                return FileResult(
                    path=shown, status="unchanged", articles=same.articles, paragraphs=same.paragraphs
                )
            if decoded.warning:
                problems.append(FileProblem(shown, decoded.warning))
            parsed, fmt = parse_text_file(decoded.text, shown)
            encoding = decoded.encoding
            articles = [_with_default_date(a, day) for a in parsed]
            if not articles:
                return _failed(shown, "skipped", "holds no text to ingest")
        capped = (_capped(a) for a in articles)
        written = store.write_file(key, sha256, size, fmt, encoding, _counting(capped), now)
    except (DecodeError, FormatError) as exc:
        return _failed(shown, "skipped", str(exc).removeprefix(f"{shown}: "))
    except _NothingUsable:
        return FileResult(
            path=shown, status="failed", problems=(*problems, FileProblem(shown, "no line could be ingested"))
        )
    except CorpusError as exc:
        return _failed(shown, "failed", str(exc))
    return FileResult(
        path=shown,
        status=written.status,
        articles=written.articles,
        paragraphs=written.paragraphs,
        problems=tuple(problems),
    )


class _NothingUsable(Exception):
    """Raised inside the write transaction so that a file whose every line was bad leaves no trace."""


def _counting(articles: Iterable[ParsedArticle]) -> Iterator[ParsedArticle]:
    any_article = False
    for a in articles:
        any_article = True
        yield a
    if not any_article:
        raise _NothingUsable


def printable(name: str) -> str:
    """A file name as it can be stored and printed, losslessly: bytes that are not UTF-8 (which Python
    keeps as lone surrogates) and control characters (a terminal escape in a name) become backslash
    escapes."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def _capped(article: ParsedArticle) -> ParsedArticle:
    """The article with every paragraph over ``MAX_PARAGRAPH_CHARS`` split at sentence ends (nothing lost)."""
    if all(len(p.text) <= MAX_PARAGRAPH_CHARS for p in article.paragraphs):
        return article
    paragraphs = tuple(
        ParsedParagraph(p.kind, piece) for p in article.paragraphs for piece in split_long(p.text)
    )
    return replace(article, paragraphs=paragraphs)


def _failed(path: str, status: str, message: str) -> FileResult:
    return FileResult(path=path, status=status, problems=(FileProblem(path, message),))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _with_default_date(article: ParsedArticle, day: str | None) -> ParsedArticle:
    return article if article.date or not day else replace(article, date=day)


def _open(path: Path) -> BinaryIO:
    """The file's bytes, decompressed on the fly when it is gzipped."""
    if path.name.lower().endswith(".gz"):
        return io.BufferedReader(_Gunzip(path.open("rb")), buffer_size=1 << 16)
    return path.open("rb")


def _damage(f: BinaryIO) -> str | None:
    raw = getattr(f, "raw", None)
    return raw.damage if isinstance(raw, _Gunzip) else None


class _Gunzip(io.RawIOBase):
    """gzip decompression as a stream that ends where the data does, however the file ends.

    ``gzip.open`` raises on a file cut short and loses what it had decompressed; this gives every byte it
    can, then ends, keeping in ``damage`` what was wrong (cut short, or not gzip data), so the lines
    before the damage are read. Concatenated gzip members are read one after another.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""
        self.damage: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and self.damage is None:
            chunk = self._z.unconsumed_tail or self._raw.read(1 << 16)
            if not chunk:
                if not self._z.eof:
                    self.damage = "the compressed data ends before its end marker (a cut file?)"
                return 0
            try:
                self._pending = self._z.decompress(chunk, 1 << 18)
                if self._z.eof and self._z.unused_data:  # the next member of a concatenated file
                    rest = self._z.unused_data
                    self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    self._pending += self._z.decompress(rest, 1 << 18)
            except zlib.error as exc:
                self.damage = f"the compressed data is damaged ({exc})"
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _jsonl_encoding(path: Path) -> str:
    with _open(path) as f:
        sample = f.read(_SAMPLE)
        damage = _damage(f)
    if damage and not sample:
        raise DecodeError(f"is not a readable gzip file: {damage}")
    encoding, _ = detect_bom(sample)
    if encoding:
        return encoding
    if b"\x00" in sample:
        raise DecodeError("looks binary (contains NUL bytes); expected UTF-8 JSON Lines")
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(sample) - 3:
            return "utf-8"  # the sample cut a character in two
    try:
        sample.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        return "utf-8"  # mostly UTF-8 with bad lines: those lines are reported one by one


def _jsonl_articles(
    path: Path, encoding: str, shown: str, day: str | None, problems: list[FileProblem]
) -> Iterator[ParsedArticle]:
    """Stream a JSON Lines file; bad lines are reported with their number and the others go in."""
    for lineno, line in _jsonl_lines(path, encoding, shown, problems):
        if not line.strip():
            continue
        try:
            yield _with_default_date(parse_jsonl_record(line, f"line {lineno}"), day)
        except FormatError as exc:
            problems.append(FileProblem(shown, str(exc).removeprefix(f"line {lineno}: "), lineno))


def _jsonl_lines(
    path: Path, encoding: str, shown: str, problems: list[FileProblem]
) -> Iterator[tuple[int, str]]:
    lineno = 0
    with _open(path) as f:
        if encoding.startswith(("utf-16", "utf-32")):
            f.read(len(codecs.BOM_UTF32_LE) if encoding.startswith("utf-32") else len(codecs.BOM_UTF16_LE))
            text = io.TextIOWrapper(f, encoding=encoding, errors="replace", newline=None)
            for lineno, line in enumerate(text, start=1):
                yield lineno, line
        else:
            for lineno, raw_line in enumerate(f, start=1):
                if lineno == 1 and raw_line.startswith(codecs.BOM_UTF8):
                    raw_line = raw_line[len(codecs.BOM_UTF8) :]
                try:
                    yield lineno, raw_line.decode(encoding)
                except UnicodeDecodeError:
                    problems.append(FileProblem(shown, f"is not valid {encoding}", lineno))
        # A gzip file cut short or damaged: what came before went in, as with a truncated text file.
        if damage := _damage(f):
            problems.append(FileProblem(shown, f"{damage}; kept what the {lineno} lines before it held"))
