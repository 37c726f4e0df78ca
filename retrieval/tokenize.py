"""The one tokenizer used for paragraphs and questions alike.

1. Normalise: NFKC (full-width letters and digits to half-width), lower case, traditional to simplified
   Chinese with OpenCC's ``t2s`` dictionaries (協同機制 finds 协同机制).
2. Segment with jieba's precise mode, HMM off, through rjieba (jieba-rs): the same dictionary and, with
   HMM off, the same tokens as Python jieba (tests/retrieval/test_segmenter.py checks it on the sample
   page and on cmrc2018-train) at ~20× the speed. HMM off keeps segmentation a pure dictionary lookup,
   so a word cuts the same way in a question and in a paragraph.
3. Keep the words that hold a letter or digit (punctuation and spaces go); re-join decimals that HMM-off
   splits ("4.3" stays one token), so "13200" finds "13200立方米".
4. Add character bigrams over each run of consecutive CJK words that are not stop words, so a name or
   compound jieba splits differently in two places still matches (象州 + 云工会 vs 象州云 + 工会).
5. For questions only, drop stop words and question words (什么 哪些 多少 谁 怎么 吗 呢 …) and repeats.

The figures behind these choices are in the README (``newsbot eval`` on cmrc2018-train).
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt
import opencc
import rjieba

from corpus.text import CJK_WORD

from .lexicon import QUESTION_FRAMES, STOPWORDS

__all__ = ["STOPWORDS", "Batch", "Tokenizer", "default_userdict", "is_pair", "pair_code", "pair_text"]

_WORDCHAR = re.compile(r"[^\W_]")
_DIGITS = re.compile(r"^\d+$")
# Full-width ASCII and the ideographic space, as NFKC maps them. News text has one such character
# (，：（）) in twenty, of a handful of kinds: a regex scan finds which, and each kind is replaced in one
# pass (str.replace, in C): 1.3–1.8× faster than a Python call per match, which was 3× faster than
# str.translate looking every character up.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
_HALF_WIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "}


def _half_width(text: str) -> str:
    for c in set(_FULL_WIDTH.findall(text)):
        text = text.replace(c, _HALF_WIDTH[c])
    return text


# Zero-width and direction marks vanish (they split words without showing); other control characters
# become spaces, so a word never runs into the next across them.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _invisible(m: re.Match[str]) -> str:
    return "" if m.group(0) >= "\u200b" else " "


_LEADING_DIGITS = re.compile(r"^(\d+)(.*)$")
_NORMALIZE_CACHE = 20_000
_NORMALIZE_CACHE_CHARS = 8_000_000  # and at most this much text: article contexts are long
_VERSION = 3  # bump when token output changes: persisted indexes are rebuilt


def _nfkc(text: str) -> str:
    """NFKC, line by line where the text has lines: one ㎡ or Ⅱ in a batch of 2,000 paragraphs then costs
    its own line's normalisation, not the whole batch's. The same result: a line break is a starter that
    composes with nothing, so no normalisation reaches across it."""
    if "\n" not in text:
        return unicodedata.normalize("NFKC", text)
    return "\n".join(
        line if unicodedata.is_normalized("NFKC", line) else unicodedata.normalize("NFKC", line)
        for line in text.split("\n")
    )


def default_userdict() -> Path:
    """The user dictionary shipped with newsbot (names and terms jieba splits badly)."""
    return Path(str(resources.files("retrieval") / "data" / "userdict.txt"))


class Tokenizer:
    """Normalise and segment Chinese text. Build one at start-up: loading the dictionary takes a moment."""

    def __init__(self, userdict: Path | None = None, *, bigrams: bool = True) -> None:
        self.userdict = userdict
        self.bigrams = bigrams
        self._t2s = opencc.OpenCC("t2s")
        self._jieba = rjieba.Jieba()
        self._words = _Words()  # every distinct word cut so far, numbered, with its kind and length
        self._normalized: dict[str, str] = {}
        self._normalized_chars = 0
        self.user_words = list(read_userdict(userdict)) if userdict else []
        for word, freq, tag in self.user_words:
            self._jieba.add_word(word, freq, tag)
        digest = hashlib.sha256(repr(self.user_words).encode()).hexdigest()[:16]
        self.signature = f"v{_VERSION};rjieba-precise-nohmm;bigrams={int(bigrams)};userdict={digest}"

    def normalize(self, text: str) -> str:
        """NFKC, lower case, simplified characters."""
        # Full-width ASCII (，：（Ａ１) is most of what NFKC changes in Chinese text; translating it first
        # lets the cheap is_normalized check skip the slow full normalisation for the rest.
        text = _half_width(text)
        if _INVISIBLE.search(text):
            text = _INVISIBLE.sub(_invisible, text)
        if not unicodedata.is_normalized("NFKC", text):
            text = _nfkc(text)
        return str(self._t2s.convert(text.lower()))

    def simplified(self, text: str) -> str:
        """``text`` with traditional characters made simplified (nothing else changed)."""
        return str(self._t2s.convert(text))

    def normalize_many(self, texts: Iterable[str]) -> list[str]:
        """``normalize_cached`` of each text, those not cached normalised as one text: one pass of each
        step over a question's candidates instead of a call for each (``normalize`` keeps every line
        break and adds none, so the result is cut apart at them)."""
        cache = self._normalized
        texts = list(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        if len(missing) > 1:
            lines = self.normalize("\n".join(missing)).split("\n")
            at = 0
            for text in missing:
                end = at + text.count("\n") + 1
                self._remember(text, "\n".join(lines[at:end]))
                at = end
        return [self.normalize_cached(t) for t in texts]

    def normalize_cached(self, text: str) -> str:
        """``normalize`` with a bounded memory (entries and characters: an article's context is thousands of
        them): answering a question normalises the same paragraphs often."""
        found = self._normalized.get(text)
        if found is None:
            found = self._remember(text, self.normalize(text))
        return found

    def _remember(self, text: str, normalized: str) -> str:
        cache = self._normalized
        if len(cache) >= _NORMALIZE_CACHE or self._normalized_chars >= _NORMALIZE_CACHE_CHARS:
            cache.clear()
            self._normalized_chars = 0
        cache[text] = normalized
        self._normalized_chars += len(text) + len(normalized)
        return normalized

    def cut(self, normalized: str) -> list[str]:
        """jieba's precise mode without HMM on already normalised text."""
        words: list[str] = self._jieba.cut(normalized, False)
        return words

    def words(self, text: str) -> list[str]:
        """Segmented words of normalised text, decimals re-joined (punctuation included)."""
        normalized = self.normalize(text)
        words = self.cut(normalized)
        return _merge_decimals(words) if "." in normalized else words

    def analyze(self, text: str) -> tuple[list[str], npt.NDArray[np.int64]]:
        """Index terms of a text, split by kind: word terms, and pair terms as ``pair_code`` integers.

        Pair terms are the CJK bigrams over runs of non-stop words plus every two-character CJK word, so
        a two-character word and the same bigram are one term, as in the string form (``tokens``).
        Building pairs as integers keeps millions of bigram strings out of memory.
        """
        batch = self.analyze_batch([text])
        return batch.words, batch.pairs

    def analyze_batch(self, texts: Sequence[str]) -> Batch:
        """``analyze`` for many texts at once: one normalisation and one segmentation call for all of
        them, and the per-character work done by numpy over the whole batch (index builds use this)."""
        normalized = self.normalize("\n".join(t.replace("\n", " ") for t in texts))  # a newline ends a word
        words = self.cut(normalized)
        if "." in normalized:
            words = _merge_decimals(words)
        table = self._words
        ids = np.fromiter(map(table.__getitem__, words), dtype=np.int64, count=len(words))
        kind_of = table.kinds[ids]
        doc_of = np.cumsum(kind_of == _SEPARATOR, dtype=np.int64)
        is_string = (kind_of == _WORD) | (kind_of == _WORD_RUN)
        # The words laid end to end are the normalised text: work on its characters.
        lengths = table.lengths[ids]
        starts = np.cumsum(lengths) - lengths
        chars = _code_points(normalized)
        is_pair = (kind_of == _PAIR) | (kind_of == _PAIR_RUN)
        pair_starts = starts[is_pair]
        pairs = (chars[pair_starts] << _SHIFT) | chars[pair_starts + 1]  # two-character words are pairs
        pair_docs = doc_of[is_pair]
        if self.bigrams and chars.shape[0] >= 2:
            in_run = np.repeat((kind_of == _WORD_RUN) | (kind_of == _PAIR_RUN), lengths)
            run_chars = np.where(in_run, chars, 0)
            left, right = run_chars[:-1], run_chars[1:]
            keep = (left != 0) & (right != 0)
            pairs = np.concatenate([pairs, ((left << _SHIFT) | right)[keep]])
            pair_docs = np.concatenate([pair_docs, np.repeat(doc_of, lengths)[:-1][keep]])
        return Batch(len(texts), ids[is_string], doc_of[is_string], pairs, pair_docs, table.text)

    def tokens(self, text: str) -> list[str]:
        """Index tokens of a text as strings: content words plus CJK bigrams over runs of non-stop words."""
        strings, pairs = self.analyze(text)
        return strings + [pair_text(int(c)) for c in pairs]

    def query_terms(self, text: str) -> list[str]:
        """The tokens a question is searched with: stop words and repeats removed, order kept."""
        return list(dict.fromkeys(t for t in self.tokens(text) if t not in STOPWORDS))

    def search_terms(self, words: Sequence[str], keep: Sequence[bool]) -> list[str]:
        """``query_terms`` of already segmented words (``words``' output) without the words not kept, which
        also break character-pair runs: a question parsed once is searched without segmenting it again."""
        strings: list[str] = []
        pairs: list[str] = []
        bigrams: list[str] = []
        run = ""
        for word, kept in zip(words, keep, strict=True):
            number = self._words[word]  # first: a new word may grow the kinds array
            kind = int(self._words.kinds[number])
            if not kept:
                kind = _SKIP
            if kind in (_WORD, _WORD_RUN):
                strings.append(word)
            elif kind in (_PAIR, _PAIR_RUN):
                pairs.append(word)
            if self.bigrams and kind in (_WORD_RUN, _PAIR_RUN):
                run += word
            else:
                bigrams += [run[i : i + 2] for i in range(len(run) - 1)]
                run = ""
        bigrams += [run[i : i + 2] for i in range(len(run) - 1)]
        return list(dict.fromkeys(t for t in strings + pairs + bigrams if t not in STOPWORDS))

    def content_words(self, text: str) -> list[str]:
        """The informative words of a text (no bigrams, no stop words), in order, with repeats."""
        return [w for w in self.words(text) if _WORDCHAR.search(w) and w not in STOPWORDS]

    def question_words(self, question: str) -> list[str]:
        """The words a question asks about: content words once its frame (多少钱, 叫什么名字, 是谁 …) is
        taken out, without lone Latin letters (the b of <b>). The 钱 of 多少钱 is how the question asks,
        not what it asks about: an article says 680万元, never 钱."""
        words = self.content_words(QUESTION_FRAMES.sub(" ", self.normalize(question)))
        return [w for w in dict.fromkeys(words) if not (len(w) == 1 and w.isascii() and w.isalpha())]

    def in_dictionary(self, word: str) -> bool:
        """Whether ``word`` is in the segmentation dictionary (not a name guessed by the HMM)."""
        return bool(self._jieba.has_word(word))

    def tag_names(self, text: str) -> list[tuple[str, str]]:
        """Words with jieba part-of-speech tags (nr person, ns place, t time …), HMM on.

        Used to spot names in a few candidate sentences, never for index terms: with HMM on, jieba
        guesses names it does not know (王青 → nr), which is what finding a person needs.
        """
        return [(w, t) for w, t in self._jieba.tag(self.normalize(text), True)]


def read_userdict(path: Path) -> Iterable[tuple[str, int, str]]:
    """Entries of a jieba user dictionary (``word [freq] [tag]`` per line).

    A missing frequency gets rjieba's suggestion (what jieba's ``add_word`` does too).
    """
    probe = rjieba.Jieba()
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        word = parts[0]
        try:
            freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else probe.suggest_freq(word)
        except ValueError as exc:
            raise ValueError(f"{path}:{n}: {line!r} is not `word [freq] [tag]`") from exc
        tag = parts[-1] if len(parts) > 1 and not parts[-1].isdigit() else ""
        yield word, int(freq), tag


def _merge_decimals(words: list[str]) -> list[str]:
    """HMM-off segmentation splits "4.3" into "4" "." "3" and "75.5m" into "75" "." "5m": re-join the number
    (and 2009.01.25 whole). Only the places holding a "." are visited (found by list.index, in C): this
    runs over whole batches of paragraphs."""
    out: list[str] = []
    n = len(words)
    copied = 0  # words[:copied] are in out
    chained = False  # out[-1] is a number built here that may go on (2009.01 → 2009.01.25)
    pos = _find(words, ".", 1)
    while pos != -1:
        if pos + 1 < n and words[pos + 1][:1].isdigit():
            if pos == copied and chained:
                number = out.pop()
            elif pos - 1 >= copied and _DIGITS.match(words[pos - 1]):
                out.extend(words[copied : pos - 1])
                number = words[pos - 1]
            else:
                number = ""
            m = _LEADING_DIGITS.match(words[pos + 1]) if number else None
            if m is not None:
                out.append(number + "." + m.group(1))
                chained = not m.group(2)
                if m.group(2):
                    out.append(m.group(2))
                copied = pos + 2
        pos = _find(words, ".", pos + 1)
    out.extend(words[copied:])
    return out


def _find(words: list[str], item: str, start: int) -> int:
    try:
        return words.index(item, max(start, 1))
    except ValueError:
        return -1


# Word kinds: punctuation is skipped; a content word is a string term or (two CJK characters) a pair
# term; CJK non-stop words also extend the run that bigrams are taken over; the separator ends a text.
_SKIP, _WORD, _WORD_RUN, _PAIR, _PAIR_RUN, _SEPARATOR = range(6)


def _code_points(text: str) -> npt.NDArray[np.int64]:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


@dataclass(frozen=True)
class Batch:
    """Index terms of several texts: word terms (as numbers of the tokenizer's words) and pair codes, each
    with the number of its text."""

    texts: int
    string_ids: npt.NDArray[np.int64]  # into ``vocabulary``
    string_docs: npt.NDArray[np.int64]
    pairs: npt.NDArray[np.int64]
    pair_docs: npt.NDArray[np.int64]
    vocabulary: Sequence[str]  # the tokenizer's words by number (it grows; numbers stay)

    @property
    def words(self) -> list[str]:
        """The word terms, in order (of one text when the batch holds one)."""
        return list(map(self.vocabulary.__getitem__, self.string_ids.tolist()))


class _Words(dict[str, int]):
    """The distinct words a tokenizer has cut, numbered as first seen, with each number's word, kind and
    length. A batch looks every word up once, in C (``__missing__`` runs for new words only), and reads
    kinds and lengths from arrays: a Python call per word for its kind, its length and its place among
    the batch's distinct words was twice the time jieba takes to cut the text."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.kinds = np.zeros(1024, dtype=np.int8)
        self.lengths = np.zeros(1024, dtype=np.int64)
        self._lock = threading.Lock()  # the bot asks in threads: two new words never get one number

    def __missing__(self, word: str) -> int:
        with self._lock:
            known = dict.get(self, word)
            if known is not None:
                return known
            n = len(self.text)
            if n == self.kinds.shape[0]:
                self.kinds = np.concatenate([self.kinds, np.zeros(n, dtype=np.int8)])
                self.lengths = np.concatenate([self.lengths, np.zeros(n, dtype=np.int64)])
            self.kinds[n] = _SEPARATOR if word == "\n" else _kind(word)
            self.lengths[n] = len(word)
            self.text.append(word)
            self[word] = n  # last: a word other threads can find has its kind and length in place
            return n


_SHIFT = 21  # Unicode code points fit in 21 bits


def _kind(word: str) -> int:
    if not _WORDCHAR.search(word):
        return _SKIP
    cjk = bool(CJK_WORD.match(word))
    run = cjk and word not in STOPWORDS
    if cjk and len(word) == 2:
        return _PAIR_RUN if run else _PAIR
    return _WORD_RUN if run else _WORD


def pair_code(text: str) -> int:
    """The integer a two-character CJK term is indexed under."""
    return (ord(text[0]) << _SHIFT) | ord(text[1])


def pair_text(code: int) -> str:
    return chr(code >> _SHIFT) + chr(code & ((1 << _SHIFT) - 1))


def is_pair(term: str) -> bool:
    """Whether a term is indexed as a pair (exactly two CJK characters)."""
    return len(term) == 2 and bool(CJK_WORD.match(term))
