"""Turning file bytes into text: BOMs, UTF-8, GB18030/GBK, UTF-16, and refusing binary data."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from .errors import DecodeError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Control characters other than tab, newline, carriage return and form feed; a text file has almost none.
_CONTROL = {chr(c) for c in range(32) if c not in (9, 10, 12, 13)} | {"\x7f"}


@dataclass(frozen=True)
class Decoded:
    """Decoded text, the encoding that worked, and a warning when something had to be repaired."""

    text: str
    encoding: str
    warning: str | None = None


def detect_bom(data: bytes) -> tuple[str | None, int]:
    """Return the encoding named by a byte-order mark and the mark's length, or (None, 0)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, len(bom)
    return None, 0


def decode_bytes(data: bytes) -> Decoded:
    """Decode a whole file.

    Raises:
        DecodeError: the data is binary or in no encoding we read (UTF-8/16/32, GB18030).
    """
    encoding, skip = detect_bom(data)
    if encoding:
        try:
            return _checked(data[skip:].decode(encoding), encoding)
        except UnicodeDecodeError as exc:
            raise DecodeError(f"has a {encoding} byte-order mark but is not valid {encoding}") from exc
    if b"\x00" in data[:8192]:
        raise DecodeError("looks binary (contains NUL bytes); expected UTF-8, GB18030 or UTF-16 text")
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        # A file cut off in the middle of a multi-byte character: keep everything before it.
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            text = data[: exc.start].decode("utf-8")
            return _checked(
                text, "utf-8", "ends in the middle of a UTF-8 character; the last bytes were dropped"
            )
        utf8_error = exc
    try:
        return _checked(data.decode("gb18030"), "gb18030")
    except UnicodeDecodeError:
        pass
    raise DecodeError(
        f"is not valid UTF-8 (byte {utf8_error.start}) nor GB18030; save it as UTF-8 and ingest it again"
    )


def _checked(text: str, encoding: str, warning: str | None = None) -> Decoded:
    sample = text[:65536]
    if sample:
        controls = sum(1 for ch in sample if ch in _CONTROL)
        if controls > max(2, len(sample) // 200):
            raise DecodeError("looks binary (many control characters); expected a text file")
    return Decoded(text, encoding, warning)
