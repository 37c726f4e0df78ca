"""What a digest subscription asks for, from the words given to /subscribe: words of interest (an
article any of them finds, the way questions find, counts), excluded words (``-体育``: no article that
mentions it) and publications (``source:工人日报`` or ``来源:工人日报``: only articles from them)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Interest"]

_SOURCE = re.compile(r"^(?:source|来源)[:：](.+)$", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class Interest:
    words: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @classmethod
    def parse(cls, keywords: str) -> Interest:
        words: list[str] = []
        excluded: list[str] = []
        sources: list[str] = []
        for part in keywords.split():
            source = _SOURCE.match(part)
            if source:
                sources.append(source.group(1))
            elif part.startswith(("-", "－")) and len(part) > 1:
                excluded.append(part[1:])
            else:
                words.append(part)
        return cls(
            words=tuple(dict.fromkeys(words)),
            excluded=tuple(dict.fromkeys(excluded)),
            sources=tuple(dict.fromkeys(sources)),
        )

    @property
    def narrows(self) -> bool:
        """Whether it leaves out some articles by what they say or where they come from."""
        return bool(self.excluded or self.sources)

    def keep(
        self,
        article_ids: Iterable[int],
        sources: Mapping[int, str | None],
        texts: Mapping[int, str],
        normalize: Callable[[str], str],
    ) -> list[int]:
        """The articles from the publications asked for that mention none of the excluded words."""
        excluded = [normalize(w) for w in self.excluded]
        out = []
        for a in article_ids:
            if self.sources and (sources.get(a) or "") not in self.sources:
                continue
            if excluded and any(w in normalize(texts.get(a, "")) for w in excluded):
                continue
            out.append(a)
        return out
