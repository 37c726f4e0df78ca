"""The stored form of an answer session: what the bot needs to page, open and rate an answer later.

Versioned and separate from the CLI's ``--json`` output (``bot.render.json``), so either can change
without the other: ``encode`` writes version ``VERSION``; ``decode`` reads every version it ever wrote
(version 0 is the pre-versioning ``answer_json`` layout, which old databases still hold) and returns
``None`` for anything it cannot read, which the bot answers as an expired session.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from retrieval.compose import Answer, Passage, Source

__all__ = ["VERSION", "decode", "encode"]

VERSION = 1
log = logging.getLogger(__name__)


def encode(answer: Answer) -> str:
    """The answer, every field of it, as compact JSON tagged with ``VERSION``."""
    data = {"v": VERSION, **dataclasses.asdict(answer)}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode(text: str) -> Answer | None:
    """The answer kept in a session, or ``None`` when the text is not a session this code can read."""
    try:
        data = json.loads(text)
        version = data.pop("v", 0)
        if version not in (0, VERSION):
            log.warning("answer session of unknown version %r", version)
            return None
        return _answer(data)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("unreadable answer session: %s", exc)
        return None


def _answer(data: dict[str, Any]) -> Answer:
    for derived in ("pages",):  # version 0 (the CLI's JSON) also held what the answer derives
        data.pop(derived, None)
    if "short_answer" in data:  # the CLI's name for it
        data["short"] = data.pop("short_answer") or ""
    if data.get("understood") is None:
        data.pop("understood", None)
    archive = data.get("archive")
    return Answer(
        **{
            **data,
            "passages": tuple(_passage(p) for p in data["passages"]),
            "terms": tuple(data.get("terms", ())),
            "suggestions": tuple(data.get("suggestions", ())),
            "focus": tuple(data.get("focus", ())),
            "archive": (archive[0], archive[1]) if archive else None,
        }
    )


def _passage(p: dict[str, Any]) -> Passage:
    p.pop("highlighted", None)  # version 0: the highlighted text, derived from the spans
    return Passage(
        **{
            **p,
            "highlights": tuple((int(a), int(b)) for a, b in p["highlights"]),
            "source": Source(**{"paragraph_id": 0, **p["source"]}),
            "matched": tuple(p.get("matched", ())),
            "answer_span": tuple(p["answer_span"]) if p.get("answer_span") else None,
        }
    )
