"""Reconstructing articles from a raw newspaper page dump.

A page dump is the text layer of one printed page: several articles run together, one line per block,
with headlines, kickers (引题), subtitles (副题), bylines, reading-guide boxes, sub-heads and body
paragraphs, paragraphs broken where a column ends, and sometimes one article's body displaced below
another. ``parse_page`` rebuilds the articles in four passes:

1. classify each line (heading, byline, guide label, text) and strip jump markers (转第2版);
2. re-join paragraphs broken mid-sentence at a column end;
3. cut the stream into articles at header groups, telling sub-heads from headlines by whether the text
   after them continues the article they sit in;
4. give a displaced body run back to the body-less headline it matches (bigram TF-IDF similarity).

Every non-whitespace character of the page ends up in exactly one field of one article.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .models import BODY, GUIDE, SUBHEAD, ParsedArticle, ParsedParagraph
from .text import CJK, CLOSERS, SENTENCE_END

__all__ = ["parse_page"]

_CLAUSE_PUNCT = "，,；;"
_JUMP = re.compile(
    r"[(（]\s*(?:下转|上接|转|接|续)\s*第?\s*[0-9０-９一二三四五六七八九十]+\s*[版页]\s*[)）]"
    r"|^(?:下转|上接|转|接)\s*第\s*[0-9０-９一二三四五六七八九十]+\s*[版页]$"
)
_DATELINE = re.compile(
    r"^(?:本报讯|(?:据)?(?:本报|新华社|中新社|人民网|央视网)[^\s，,。()（）]{0,16}电)"
    r"\s*(?:[(（][^()（）]{0,60}[)）])?"
)
_BYLINE_LINE = re.compile(
    r"^(?:本报记者|本报特约记者|本报通讯员|特约记者|记者|通讯员|实习生|本报评论员|文/|图/|摄影/?)"
)
_GUIDE_LABELS = ("阅读提示", "核心提示", "核心阅读", "编者按", "编者的话", "内容提要", "导读")
_DASH_END = re.compile(r"(?:——|—|--)$")
_CJK = re.compile(f"[{CJK}]+")
_WORD = re.compile(r"[A-Za-z0-9]+")

# Similarity thresholds (bigram TF-IDF cosine); see tests/corpus/test_pages.py for the cases they separate.
# Sub-heads are short phrases (和时间赛跑, 顶层设计 夯实基础); a longer lone heading needs its text to
# continue the article much more clearly before it is taken for a sub-head rather than a new headline.
_SUBHEAD_ALWAYS_CHARS = 8
_SUBHEAD_SHORT_CHARS = 12
_SUBHEAD_MAX_CHARS = 20
_SUBHEAD_MIN_SIMILARITY = 0.05
_SUBHEAD_LONG_MIN_SIMILARITY = 0.12
_SUBHEAD_CONTEXT_PARAGRAPHS = 3
_LABEL_MAX_CHARS = 6
_DISPLACED_MIN_SIMILARITY = 0.06
_DISPLACED_MIN_GAIN = 0.04


@dataclass
class _Item:
    kind: str  # "heading", "byline", "label", "guide", "text"
    text: str
    dash: bool = False  # heading ending with a dash: an overline that introduces the next line


@dataclass
class _Draft:
    """An article under construction."""

    headings: list[_Item] = field(default_factory=list)
    bylines: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    paragraphs: list[ParsedParagraph] = field(default_factory=list)

    def body_indices(self) -> list[int]:
        return [i for i, p in enumerate(self.paragraphs) if p.kind == BODY]

    def header_text(self) -> str:
        return "\n".join(h.text for h in self.headings)

    def body_text(self, paragraphs: Iterable[ParsedParagraph] | None = None) -> str:
        chosen = self.paragraphs if paragraphs is None else paragraphs
        return "\n".join(p.text for p in chosen if p.kind != GUIDE)


def parse_page(text: str) -> list[ParsedArticle]:
    """Reconstruct the articles of one page dump, in the order their headlines appear."""
    jumps: list[str] = []
    items = _join_broken(_classify(text, jumps))
    if not items:
        return []
    vectorizer = _Vectorizer([i.text for i in items])
    drafts = _cut_articles(items, vectorizer)
    _reattach_displaced(drafts, vectorizer)
    articles = [_finish(d, _column_labels(drafts)) for d in drafts]
    if jumps and articles:
        # A jump marker belongs to the article it sits in; page dumps lose that link, so keep them
        # on the article that holds the most text, where a reader most likely met them.
        target = max(range(len(articles)), key=lambda i: len(articles[i].fields_text()))
        article = articles[target]
        articles[target] = ParsedArticle(**{**article.__dict__, "jumps": tuple(jumps)})
    return articles


# --- pass 1: classify lines -------------------------------------------------------------------------


def _classify(text: str, jumps: list[str]) -> list[_Item]:
    items: list[_Item] = []
    for raw in text.replace("\ufeff", "").splitlines():
        line = raw.strip()
        if not line:
            continue
        line = _strip_jumps(line, jumps)
        if not line:
            continue
        items.extend(_classify_line(line))
    return items


def _strip_jumps(line: str, jumps: list[str]) -> str:
    found = [m.group(0) for m in _JUMP.finditer(line)]
    if not found:
        return line
    jumps.extend(found)
    return _JUMP.sub("", line).strip()


def _classify_line(line: str) -> list[_Item]:
    for label in _GUIDE_LABELS:
        if line == label:
            return [_Item("label", line)]
        if line.startswith(label) and line[len(label) : len(label) + 1] in (":", "："):
            rest = line[len(label) + 1 :].strip()
            return [_Item("label", line[: len(line) - len(rest)].strip()), _Item("guide", rest)]
    dateline = _DATELINE.match(line)
    if dateline and dateline.end() < len(line):
        head, rest = line[: dateline.end()].strip(), line[dateline.end() :].strip()
        return [_Item("byline", head), _Item("text", rest)]
    if dateline:
        return [_Item("byline", line)]
    if _BYLINE_LINE.match(line) and len(line) <= 40 and not _has_any(line, SENTENCE_END + _CLAUSE_PUNCT):
        return [_Item("byline", line)]
    if _DASH_END.search(line) and len(line) <= 80 and not _has_any(line, SENTENCE_END):
        return [_Item("heading", line, dash=True)]
    if _looks_like_text(line):
        return [_Item("text", line)]
    return [_Item("heading", line)]


def _looks_like_text(line: str) -> bool:
    if _has_any(line, SENTENCE_END + "；;"):
        return True
    if line[-1] in "，,、：:":
        return True
    if line[0] in "(（" and line[-1] in ")）":
        return True  # a parenthesised note: picture credit, attribution
    if _has_any(line, "，,") and len(line) >= 12:
        return True
    return len(line) > 60


def _has_any(text: str, chars: str) -> bool:
    return any(c in text for c in chars)


# --- pass 2: re-join broken paragraphs --------------------------------------------------------------


def _is_unfinished(text: str) -> bool:
    stripped = text.rstrip(CLOSERS)
    if not stripped:
        return False
    return stripped[-1] not in SENTENCE_END + "：:" and not (
        text[-1] in CLOSERS and stripped[-1] in SENTENCE_END
    )


def _join_broken(items: list[_Item]) -> list[_Item]:
    out: list[_Item] = []
    for item in items:
        prev = out[-1] if out else None
        if prev and prev.kind in ("text", "guide") and item.kind == "text" and _is_unfinished(prev.text):
            prev.text += item.text
            continue
        out.append(item)
    for i, item in enumerate(out[:-1]):
        after = out[i + 1]
        # A heading-like line with a comma that runs straight into a byline is a headline, not a fragment.
        if item.kind == "text" and after.kind == "byline" and not _has_any(item.text, SENTENCE_END):
            item.kind = "heading"
        # The paragraph under a guide label (阅读提示) is the guide box itself.
        if item.kind == "label" and after.kind == "text":
            after.kind = "guide"
    return out


# --- pass 3: cut into articles ----------------------------------------------------------------------


def _cut_articles(items: list[_Item], vectorizer: _Vectorizer) -> list[_Draft]:
    groups = _group(items)
    drafts: list[_Draft] = []
    for index, (is_header, members) in enumerate(groups):
        current = drafts[-1] if drafts else None
        if not is_header:
            if current is None:
                current = _Draft()
                drafts.append(current)
            current.paragraphs.extend(ParsedParagraph(BODY, m.text) for m in members)
            continue
        headings = [m for m in members if m.kind == "heading"]
        if current is not None and not headings:
            _add_header_items(current, members)  # a stray byline or guide box: keep it with its article
            continue
        following = groups[index + 1][1] if index + 1 < len(groups) and not groups[index + 1][0] else []
        if current is not None and _is_subhead(members, following, current, vectorizer):
            current.paragraphs.append(ParsedParagraph(SUBHEAD, members[0].text))
            continue
        draft = _Draft()
        _add_header_items(draft, members)
        drafts.append(draft)
    return drafts


def _group(items: list[_Item]) -> list[tuple[bool, list[_Item]]]:
    """Split the stream into alternating header groups and body runs."""
    groups: list[tuple[bool, list[_Item]]] = []
    for item in items:
        is_header = item.kind != "text"
        if groups and groups[-1][0] == is_header:
            groups[-1][1].append(item)
        else:
            groups.append((is_header, [item]))
    return groups


def _add_header_items(draft: _Draft, members: list[_Item]) -> None:
    for m in members:
        if m.kind == "heading":
            draft.headings.append(m)
        elif m.kind == "byline":
            draft.bylines.append(m.text)
        elif m.kind == "label":
            draft.labels.append(m.text)
        elif m.kind == "guide":
            draft.paragraphs.append(ParsedParagraph(GUIDE, m.text))


def _is_subhead(members: list[_Item], following: list[_Item], current: _Draft, vec: _Vectorizer) -> bool:
    """A lone short heading inside an article whose next run continues that article is a sub-head."""
    if len(members) != 1 or members[0].dash or not following or not current.paragraphs:
        return False
    length = len(members[0].text.replace(" ", ""))
    if length <= _SUBHEAD_ALWAYS_CHARS:
        return True
    if length > _SUBHEAD_MAX_CHARS:
        return False
    run = "\n".join(m.text for m in following[:_SUBHEAD_CONTEXT_PARAGRAPHS])
    so_far = current.header_text() + "\n" + current.body_text()
    needed = _SUBHEAD_MIN_SIMILARITY if length <= _SUBHEAD_SHORT_CHARS else _SUBHEAD_LONG_MIN_SIMILARITY
    return vec.cosine(run, so_far) >= needed


# --- pass 4: displaced bodies -----------------------------------------------------------------------


@dataclass
class _Move:
    gain: float
    orphan: int  # index of the draft whose headings (or a prefix of them) head the displaced body
    prefix: int  # how many of its headings leave with the body; all of them when the draft has no body
    host: int  # index of the draft the displaced run currently sits in
    start: int  # paragraph index in the host where the displaced run starts


def _reattach_displaced(drafts: list[_Draft], vec: _Vectorizer) -> None:
    """Move body runs that do not belong to the article above them to the headline they match."""
    for _ in range(len(drafts)):
        move = _best_move(drafts, vec)
        if move is None:
            return
        orphan, host = drafts[move.orphan], drafts[move.host]
        tail = host.paragraphs[move.start :]
        del host.paragraphs[move.start :]
        if move.prefix == len(orphan.headings):
            orphan.paragraphs.extend(tail)
        else:
            moved = _Draft(headings=orphan.headings[: move.prefix], paragraphs=list(tail))
            del orphan.headings[: move.prefix]
            drafts.insert(move.orphan, moved)


def _best_move(drafts: list[_Draft], vec: _Vectorizer) -> _Move | None:
    best: _Move | None = None
    for o, orphan in enumerate(drafts):
        for prefix in _orphan_prefixes(orphan):
            heads = "\n".join(h.text for h in orphan.headings[:prefix])
            rest = "\n".join(h.text for h in orphan.headings[prefix:])
            for h, host in enumerate(drafts):
                if h == o and prefix == len(orphan.headings):
                    continue
                for start in host.body_indices()[1:]:
                    tail = host.body_text(host.paragraphs[start:])
                    kept_body = host.body_text(host.paragraphs[:start])
                    # The body the orphan's headings would leave behind must not fit them better.
                    stays = kept_body if h == o else orphan.body_text()
                    kept = (rest if h == o else host.header_text()) + "\n" + kept_body
                    fit = vec.cosine(tail, heads)
                    if fit < _DISPLACED_MIN_SIMILARITY or (stays and vec.cosine(heads, stays) >= fit):
                        continue
                    gain = fit - vec.cosine(tail, kept)
                    if gain >= _DISPLACED_MIN_GAIN and (best is None or gain > best.gain):
                        best = _Move(gain, o, prefix, h, start)
    return best


def _orphan_prefixes(draft: _Draft) -> list[int]:
    """Ways a draft's header could hold the headline of a body found elsewhere on the page."""
    if not draft.headings:
        return []
    if not any(p.kind == BODY for p in draft.paragraphs) and not draft.bylines:
        return [len(draft.headings)]
    # A run of headings can start with another article's body-less headline: split it off, but never
    # right after an overline ending in a dash, which always introduces the line below it.
    return [j for j in range(1, len(draft.headings)) if not draft.headings[j - 1].dash]


# --- finishing: kicker / headline / subtitle --------------------------------------------------------


def _column_labels(drafts: list[_Draft]) -> set[str]:
    """Space-separated segments that recur in headings of different articles: column labels."""
    seen: Counter[str] = Counter()
    for d in drafts:
        segments = {s for h in d.headings for s in h.text.split() if len(s) >= 4}
        seen.update(segments)
    return {s for s, n in seen.items() if n >= 2}


def _finish(draft: _Draft, column_segments: set[str]) -> ParsedArticle:
    heads = draft.headings
    last_dash = max((i for i, h in enumerate(heads) if h.dash), default=-1)
    kickers = [h.text for h in heads[: last_dash + 1]]
    rest = [h.text for h in heads[last_dash + 1 :]]
    if not rest and kickers:
        rest = [kickers.pop()]
    if last_dash < 0 and len(rest) >= 2:
        first_is_label = (
            len(rest) >= 3
            or any(s in column_segments for s in rest[0].split())
            or len(rest[0]) <= _LABEL_MAX_CHARS < len(rest[1])  # 图片新闻, 简讯: a column label
        )
        if first_is_label:
            kickers.append(rest.pop(0))
    headline = rest[0] if rest else ""
    return ParsedArticle(
        headline=headline,
        kicker="\n".join(kickers),
        subtitle="\n".join(rest[1:]),
        byline=" ".join(draft.bylines),
        guide_label=" ".join(draft.labels),
        paragraphs=tuple(draft.paragraphs),
    )


# --- similarity -------------------------------------------------------------------------------------


class _Vectorizer:
    """TF-IDF over CJK character bigrams and Latin/digit words, with IDF from the page's own lines."""

    def __init__(self, documents: list[str]) -> None:
        df: Counter[str] = Counter()
        for doc in documents:
            df.update(set(self._features(doc)))
        n = len(documents)
        self._idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
        self._default_idf = math.log(n + 1 / 0.5)

    @staticmethod
    def _features(text: str) -> list[str]:
        feats: list[str] = []
        for run in _CJK.findall(text):
            feats.extend(run[i : i + 2] for i in range(len(run) - 1))
        feats.extend(w.lower() for w in _WORD.findall(text))
        return feats

    def vector(self, text: str) -> dict[str, float]:
        counts = Counter(self._features(text))
        return {t: (1 + math.log(c)) * self._idf.get(t, self._default_idf) for t, c in counts.items()}

    def cosine(self, a: str, b: str) -> float:
        va, vb = self.vector(a), self.vector(b)
        if not va or not vb:
            return 0.0
        dot = sum(w * vb.get(t, 0.0) for t, w in va.items())
        na = math.sqrt(sum(w * w for w in va.values()))
        nb = math.sqrt(sum(w * w for w in vb.values()))
        return dot / (na * nb)
