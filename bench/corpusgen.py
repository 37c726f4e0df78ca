"""A generated Chinese news corpus for benchmarks: deterministic, any size, never committed.

Paragraphs are built from a vocabulary of real Chinese words with a Zipf-like frequency, so segmentation
and BM25 statistics look like news text (long-tailed vocabulary, ~100–200 characters per paragraph).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path

import jieba

__all__ = ["generate_articles", "write_jsonl"]

_PUNCT = "，，，、。"


def _vocabulary() -> list[str]:
    """Two- to four-character words from jieba's dictionary, most frequent first."""
    words: list[tuple[int, str]] = []
    with open(jieba.get_dict_file().name, encoding="utf-8") as f:  # type: ignore[no-untyped-call]
        for line in f:
            word, freq, *_ = line.split()
            if 2 <= len(word) <= 4 and all("\u4e00" <= c <= "\u9fff" for c in word):
                words.append((int(freq), word))
    words.sort(reverse=True)
    return [w for _, w in words[:60000]]


def generate_articles(
    paragraphs: int,
    *,
    seed: int = 7,
    per_article: int = 8,
    start: dt.date = dt.date(2023, 1, 1),
    per_day: int = 1000,
    start_id: int = 0,
) -> Iterator[dict[str, object]]:
    """Yield JSONL article records holding ``paragraphs`` paragraphs in all, ~``per_day`` paragraphs a day."""
    rng = random.Random(seed)
    vocab = _vocabulary()
    cumulative = list(itertools.accumulate(1.0 / (rank + 10) for rank in range(len(vocab))))
    made = 0
    n = 0
    while made < paragraphs:
        count = min(per_article, paragraphs - made)
        body = []
        for _ in range(count):
            words = rng.choices(vocab, cum_weights=cumulative, k=rng.randint(30, 70))
            for i in range(6, len(words), rng.randint(5, 9)):
                words[i] += rng.choice(_PUNCT)
            body.append("".join(words) + "。")
        title = "".join(rng.choices(vocab, cum_weights=cumulative, k=5))
        day = start + dt.timedelta(days=made // per_day)
        yield {
            "id": f"g{start_id + n}",
            "title": title,
            "date": day.isoformat(),
            "source": "生成报",
            "text": "\n".join(body),
        }
        made += count
        n += 1


def write_jsonl(path: Path, paragraphs: int, **kwargs: object) -> Path:
    """Write a generated corpus to ``path`` (reused when it already has the requested size)."""
    marker = path.with_suffix(".size")
    if path.exists() and marker.exists() and marker.read_text() == str(paragraphs):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for record in generate_articles(paragraphs, **kwargs):  # type: ignore[arg-type]
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    marker.write_text(str(paragraphs))
    return path
