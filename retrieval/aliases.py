"""Widening a question with the archive's own abbreviations: 进博会 also finds 中国国际进口博览会, and the other
way round.

The store mines (short, long) pairs from every article it keeps, with how many articles hold each
(``corpus.aliases``). ``AliasMap`` decides which of them a question may be widened with:

- a pair some article states (以下简称) is used;
- a pair only seen used (an implicit one) is used once ``MIN_IMPLICIT_ARTICLES`` articles hold it: one
  article is not enough to trust a pair the miner guessed;
- a short form with more than ``MAX_LONG_FORMS`` long forms is a generic word (市委 of every city), not a name;
- a user dictionary (``NEWSBOT_ALIASES``, ``parse_alias_dictionary``) adds pairs (``短 长``) that are always
  used, and vetoes mined ones (``-短 长``).

``AliasMap.widen`` finds the forms a question holds — the longest first, starting or ending at one of the
question's word boundaries (北大 is not in 东北大学) — and returns, for each, the other forms and their
search terms. The searcher ranks the question as asked and once more as if it said the other forms
(``Question.other_wording``), and keeps each paragraph's better score: a paragraph is found by either form,
and one holding both forms gains nothing over one holding either (added to one query, the other form's
terms would lift every paragraph that says both, and push down the one that answers in the question's own
words). In the other wording, the other form's terms together weigh what the terms of the form said weigh
(``Widening.weight``, by the corpus's IDF), each at most 1, as a term of the question itself: a widened
term never outweighs the question's own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from corpus import AliasCount

from .errors import RetrievalError

__all__ = [
    "MAX_LONG_FORMS",
    "MIN_IMPLICIT_ARTICLES",
    "AliasDictionary",
    "AliasDictionaryError",
    "AliasMap",
    "Widening",
    "parse_alias_dictionary",
]

MIN_IMPLICIT_ARTICLES = 2
MAX_LONG_FORMS = 3

USED = "used"


class AliasDictionaryError(RetrievalError):
    """A line of the user's alias dictionary is not ``短 长`` or ``-短 长``; the message names it."""


@dataclass(frozen=True, kw_only=True)
class AliasDictionary:
    """What a user dictionary says: pairs to add and mined pairs to veto, as (short, long)."""

    adds: tuple[tuple[str, str], ...] = ()
    vetoes: frozenset[tuple[str, str]] = frozenset()


def parse_alias_dictionary(text: str, name: str = "aliases") -> AliasDictionary:
    """Read a user alias dictionary: ``短 长`` adds a pair, ``-短 长`` vetoes a mined one; ``#`` starts a
    comment; blank lines are skipped.

    Raises:
        AliasDictionaryError: a line does not have exactly two forms, or the short one is not shorter.
    """
    adds: list[tuple[str, str]] = []
    vetoes: set[tuple[str, str]] = set()
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        veto = line.startswith("-")
        parts = line.removeprefix("-").split()
        if len(parts) != 2 or len(parts[0]) >= len(parts[1]):
            raise AliasDictionaryError(
                f"{name}:{n}: {raw.strip()!r} is not `短 长` (add a pair) or `-短 长` (veto one), "
                "the short form first"
            )
        (vetoes.add if veto else adds.append)((parts[0], parts[1]))
    return AliasDictionary(adds=tuple(dict.fromkeys(adds)), vetoes=frozenset(vetoes))


@dataclass(frozen=True, kw_only=True)
class Widening:
    """A form a question says (``said``, as normalised) and the other forms it stands for: the question's
    terms that say it (``said_terms``) and the search terms of the other forms (``terms``)."""

    said: str
    means: tuple[str, ...]
    said_terms: tuple[str, ...]
    terms: tuple[str, ...]

    def weight(self, idf: Callable[[str], float]) -> float:
        """The weight of each of ``terms`` when they stand in for ``said_terms``: together as much IDF as
        those, each at most 1."""
        said = sum(max(idf(t), 0.0) for t in self.said_terms)
        other = sum(max(idf(t), 0.0) for t in self.terms)
        return min(1.0, said / other) if other > 0 else 0.0


class AliasMap:
    """The pairs a question may be widened with, in both directions, normalised as questions are."""

    def __init__(
        self,
        pairs: Iterable[AliasCount],
        dictionary: AliasDictionary | None = None,
        normalize: Callable[[str], str] = str,
    ) -> None:
        dictionary = dictionary or AliasDictionary()
        self.pairs = list(pairs)
        self.dictionary = dictionary
        self._normalize = normalize
        longs_of: dict[str, set[str]] = {}
        for p in self.pairs:
            longs_of.setdefault(p.short, set()).add(p.long)
        self._longs_of = {short: len(longs) for short, longs in longs_of.items()}
        other: dict[str, dict[str, None]] = {}

        def link(a: str, b: str) -> None:
            a, b = normalize(a), normalize(b)
            if a != b:
                other.setdefault(a, {})[b] = None
                other.setdefault(b, {})[a] = None

        for p in self.pairs:
            if self.status(p) == USED:
                link(p.short, p.long)
        for short, long in dictionary.adds:
            link(short, long)
        self._other = {form: tuple(others) for form, others in other.items()}
        # One pass over a question finds every form: the longest alternative first at each position.
        forms = sorted(self._other, key=len, reverse=True)
        self._finder = re.compile("|".join(map(re.escape, forms))) if forms else None
        self._terms: dict[str, list[str]] = {}  # search terms per form, computed on first use

    def __len__(self) -> int:
        """How many forms a question can be widened from."""
        return len(self._other)

    def status(self, pair: AliasCount) -> str:
        """``USED``, or why a mined pair is not used to widen questions."""
        if (pair.short, pair.long) in self.dictionary.vetoes:
            return "vetoed by the user dictionary"
        if (pair.short, pair.long) in self.dictionary.adds:
            return USED
        if not pair.explicit and pair.articles < MIN_IMPLICIT_ARTICLES:
            return f"implicit, in {pair.articles} article (needs {MIN_IMPLICIT_ARTICLES})"
        if self._longs_of.get(pair.short, 0) > MAX_LONG_FORMS:
            return f"{pair.short} has {self._longs_of[pair.short]} long forms: a generic word"
        return USED

    def other_forms(self, form: str) -> tuple[str, ...]:
        """The forms ``form`` (normalised) may also be written as."""
        return self._other.get(form, ())

    def widen(
        self,
        normalized: str,
        words: Sequence[str],
        own_terms: Sequence[str],
        terms_of: Callable[[str], list[str]],
    ) -> tuple[Widening, ...]:
        """The forms ``normalized`` (a question as its ``words`` lay it out, searched with ``own_terms``) holds,
        with the search terms of their other forms (``terms_of``: the tokenizer's query terms)."""
        if self._finder is None:
            return ()
        bounds = {0}
        pos = 0
        for w in words:
            pos += len(w)
            bounds.add(pos)
        out: list[Widening] = []
        have = set(own_terms)
        for m in self._finder.finditer(normalized):
            if m.start() not in bounds and m.end() not in bounds:
                continue  # 北大 inside 东北大学
            said, means = m.group(), self._other[m.group()]
            said_terms = [t for t in self._terms_of(said, terms_of) if t in have]
            other_terms = list(dict.fromkeys(t for other in means for t in self._terms_of(other, terms_of)))
            if not said_terms or not other_terms or set(other_terms) <= set(said_terms):
                continue
            out.append(
                Widening(said=said, means=means, said_terms=tuple(said_terms), terms=tuple(other_terms))
            )
        return tuple(out)

    def _terms_of(self, form: str, terms_of: Callable[[str], list[str]]) -> list[str]:
        found = self._terms.get(form)
        if found is None:
            found = self._terms[form] = terms_of(form)
        return found
