"""Saving and loading a search index beside the database: numpy arrays, no pickle, never trusted blindly.

Layout of ``<db>.index/``::

    manifest.json            format version, fingerprint of the corpus (store id, generation, paragraph
                             count), tokenizer signature, BM25 parameters, segment list with each file's
                             size and Adler-32 checksum, sources table
    seg-<n>/                 one immutable segment: postings (indptr and the blocks of ``retrieval.postings``:
                             first, last, at, width, words), per-document arrays
                             (doc_len, paragraph_id, article_id, day, source) and the terms it added
                             (words.txt + word_ids.npy, pairs.npy + pair_ids.npy)
    deleted-<g>.npy          document numbers deleted since the segments were written

    .lock                    what processes take (``FolderLock``): several at once to read, one to write

Segments are written to a temporary folder and renamed into place, then the manifest is replaced
atomically; a crash leaves the previous index intact. Loading checks the format, the sizes and checksums
and the arrays' shapes, and raises ``IndexCorrupt`` on any mismatch so the caller rebuilds. Writers hold
the folder's lock, so one process never removes the temporary files of another that is still writing.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .bm25 import Segment
from .errors import IndexCorrupt
from .postings import ARRAYS, Postings

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "FolderLock",
    "SegmentFiles",
    "load_segment",
    "read_manifest",
    "write_segment",
]

FORMAT = "newsbot-bm25"
# 2: undated paragraphs carry their ingest day; 3: uint16 tf, Adler-32; 4: postings packed in blocks
FORMAT_VERSION = 4
_POSTING_ARRAYS = ("doc_len", *ARRAYS)
_DOC_ARRAYS = ("paragraph_id", "article_id", "day", "source")
_TERM_ARRAYS = ("word_ids", "pairs", "pair_ids")


@dataclass(frozen=True)
class SegmentFiles:
    """A segment as loaded: its postings, per-document arrays and the vocabulary terms it introduced."""

    name: str
    segment: Segment
    paragraph_id: npt.NDArray[np.int64]
    article_id: npt.NDArray[np.int64]
    day: npt.NDArray[np.int32]
    source: npt.NDArray[np.int32]
    words: list[str]
    word_ids: npt.NDArray[np.int64]
    pairs: npt.NDArray[np.int64]
    pair_ids: npt.NDArray[np.int64]
    term_range: tuple[int, int]


def write_segment(
    folder: Path,
    segment: Segment,
    doc_arrays: dict[str, npt.NDArray[Any]],
    terms: tuple[list[str], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]],
    term_range: tuple[int, int],
) -> dict[str, Any]:
    """Write a segment into ``folder/seg-<id>`` atomically; return its manifest entry."""
    name = f"seg-{uuid.uuid4().hex[:12]}"
    tmp = folder / f".tmp-{name}"
    tmp.mkdir(parents=True)
    files: dict[str, Any] = {}
    arrays: dict[str, npt.NDArray[Any]] = {
        "doc_len": segment.doc_len,
        **segment.packed.arrays(),
        **doc_arrays,
        "word_ids": terms[1],
        "pairs": terms[2],
        "pair_ids": terms[3],
    }
    for key, array in arrays.items():
        path = tmp / f"{key}.npy"
        np.save(path, np.ascontiguousarray(array), allow_pickle=False)
        files[key] = _describe(path)
    words_path = tmp / "words.txt"
    words_path.write_text("\n".join(terms[0]), encoding="utf-8")
    files["words"] = _describe(words_path)
    _fsync_dir(tmp)
    os.rename(tmp, folder / name)
    return {
        "name": name,
        "first_doc": segment.first_doc,
        "n_docs": segment.n_docs,
        "n_terms": segment.n_terms,
        "terms": list(term_range),
        "new_words": len(terms[0]),
        "files": files,
    }


def load_segment(folder: Path, entry: dict[str, Any], verify: bool = True) -> SegmentFiles:
    """Memory-map one segment, checking sizes, checksums and shapes against its manifest entry."""
    base = folder / entry["name"]
    arrays: dict[str, npt.NDArray[Any]] = {}
    for key in (*_POSTING_ARRAYS, *_DOC_ARRAYS, *_TERM_ARRAYS):
        path = base / f"{key}.npy"
        _check(path, entry["files"][key], verify)
        try:
            # A plain ndarray view of the mapping: np.memmap's subclass hooks cost a few microseconds on
            # every slice, and a query slices postings dozens of times.
            arrays[key] = np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
        except (ValueError, OSError) as exc:
            raise IndexCorrupt(f"{path}: {exc}") from exc
    words_path = base / "words.txt"
    _check(words_path, entry["files"]["words"], verify)
    text = words_path.read_text(encoding="utf-8")
    words = text.split("\n") if text else []
    n_docs, n_terms = int(entry["n_docs"]), int(entry["n_terms"])
    first = int(entry["first_doc"])
    start, end = (int(x) for x in entry["terms"])
    try:
        packed = Postings(*(arrays[key] for key in ARRAYS))
        consistent = packed.consistent()
    except (ValueError, IndexError, TypeError) as exc:
        raise IndexCorrupt(f"{base}: {exc}") from exc
    seg = Segment(first, arrays["doc_len"], packed)
    term_ids = np.concatenate([arrays["word_ids"], arrays["pair_ids"]])
    if (
        seg.n_docs != n_docs
        or seg.n_terms != n_terms
        or len(words) != int(entry["new_words"])
        or len(words) != arrays["word_ids"].shape[0]
        or arrays["pairs"].shape != arrays["pair_ids"].shape
        or term_ids.shape[0] != end - start
        or (term_ids.shape[0] and (int(term_ids.min()) < start or int(term_ids.max()) >= end))
        or not consistent
        or any(arrays[k].shape[0] != n_docs for k in _DOC_ARRAYS)
        # Not scanned here: the postings' words (reading them through the mapping would make the whole
        # file resident). Their bytes are checksummed above, and a block that does not fit its words or
        # a posting outside the segment raises IndexError where it is read (the kernels check), which
        # rebuilds the index.
    ):
        raise IndexCorrupt(f"{base}: arrays do not match the manifest")
    return SegmentFiles(
        entry["name"],
        seg,
        arrays["paragraph_id"],
        arrays["article_id"],
        arrays["day"],
        arrays["source"],
        words,
        np.asarray(arrays["word_ids"]),
        np.asarray(arrays["pairs"]),
        np.asarray(arrays["pair_ids"]),
        (start, end),
    )


def write_deleted(folder: Path, deleted: npt.NDArray[np.int64]) -> dict[str, Any]:
    name = f"deleted-{uuid.uuid4().hex[:12]}.npy"
    tmp = folder / f".tmp-{name}"
    np.save(tmp, deleted.astype(np.int64), allow_pickle=False)
    os.replace(tmp, folder / name)
    return {"name": name, **_describe(folder / name)}


def load_deleted(folder: Path, entry: dict[str, Any] | None, verify: bool = True) -> npt.NDArray[np.int64]:
    if not entry:
        return np.zeros(0, dtype=np.int64)
    path = folder / entry["name"]
    _check(path, entry, verify)
    try:
        return np.asarray(np.load(path, allow_pickle=False), dtype=np.int64)
    except (ValueError, OSError) as exc:
        raise IndexCorrupt(f"{path}: {exc}") from exc


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest, or None when there is no index yet.

    Raises:
        IndexCorrupt: the manifest is unreadable or of another format or version.
    """
    path = folder / "manifest.json"
    if not path.exists():
        return None
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise IndexCorrupt(f"{path}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise IndexCorrupt(f"{path}: not a manifest")
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise IndexCorrupt(f"{path}: format {manifest.get('format')} v{manifest.get('version')} is not ours")
    return manifest


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest atomically, then remove files no manifest refers to any more."""
    manifest = {"format": FORMAT, "version": FORMAT_VERSION, **manifest}
    tmp = folder / f".tmp-manifest-{uuid.uuid4().hex[:8]}.json"
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / "manifest.json")
    _fsync_dir(folder)
    keep = {s["name"] for s in manifest["segments"]} | {"manifest.json", _LOCK}
    if manifest.get("deleted"):
        keep.add(manifest["deleted"]["name"])
    for child in folder.iterdir():
        # Processes that memory-mapped a removed segment keep reading it: unlinking does not unmap.
        if child.name not in keep and not child.name.startswith(".tmp-"):
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def remove_stale_temp(folder: Path) -> None:
    """Delete temporary files left by a writer that crashed."""
    for child in folder.glob(".tmp-*"):
        shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)


_LOCK = ".lock"


class FolderLock:
    """An advisory lock on an index folder across processes (``flock``): shared to read, exclusive to
    write. A folder that cannot hold a lock file (read-only) is used unlocked: reading it is safe."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / _LOCK

    @contextmanager
    def hold(self, *, exclusive: bool) -> Iterator[bool]:
        """Hold the lock (waiting for it); yields whether it is held."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            yield False
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def mapped_files(folder: Path, manifest: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    """Every array file a loaded index memory-maps, with the size the manifest gives it."""
    return tuple(
        (str(folder / entry["name"] / f"{key}.npy"), int(info["size"]))
        for entry in manifest["segments"]
        for key, info in entry["files"].items()
        if key != "words"  # read whole, not mapped
    )


def _describe(path: Path) -> dict[str, Any]:
    return {"size": path.stat().st_size, "adler32": _checksum(path)}


def _checksum(path: Path) -> int:
    """Adler-32 of the file: catches damage, and is cheap enough to check a gigabyte at every start-up."""
    value = 1
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            value = zlib.adler32(chunk, value)
    return value


def _check(path: Path, expected: dict[str, Any], verify: bool) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IndexCorrupt(f"{path}: missing ({exc.strerror})") from exc
    if size != expected["size"]:
        raise IndexCorrupt(f"{path}: {size} bytes, manifest says {expected['size']}")
    if verify and _checksum(path) != expected.get("adler32"):
        raise IndexCorrupt(f"{path}: checksum mismatch")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
