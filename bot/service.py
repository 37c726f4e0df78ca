"""The newsroom service every front end talks to: a store, its search index and the composer, opened once.

Handlers and the CLI call it and nothing under it: questions, articles, digests, trends and timelines,
subscriptions, uploads, reloading the index. Its seams are explicit: ``clock`` (an aware datetime; what
"today", a subscription's start and every recorded time come from) and the tokenizer (loading jieba's
dictionaries takes a moment, so tests share one).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus import Article, FileResult, Store, ingest_file, ingest_paths, sample_paths
from corpus.botstate import BotState, Subscription, Subscriptions
from retrieval.aliases import AliasDictionary, parse_alias_dictionary
from retrieval.bm25 import BM25Params
from retrieval.cluster import Cluster
from retrieval.compose import Answer, ComposeOptions, compose_answer, relevant_hits
from retrieval.digest import Digest, build_digest
from retrieval.followup import FollowUp, follow_up
from retrieval.index import day_number
from retrieval.question import Question, parse_question
from retrieval.search import Filters, Searcher
from retrieval.timeline import Timeline, build_timeline
from retrieval.tokenize import Tokenizer, default_userdict

from .config import ConfigError, Settings
from .interests import Interest

__all__ = [
    "Clock",
    "DigestCache",
    "NewsService",
    "QuestionTooLong",
    "SubscriptionLimit",
    "clean_text",
    "iso",
    "open_store",
    "parse_day",
    "read_alias_dictionary",
    "system_clock",
]

log = logging.getLogger(__name__)
_HITS = 30  # paragraphs ranked per question: enough for three pages after de-duplication
_KEYWORD_HITS = 500  # paragraphs a keyword subscription is matched against
_WHOLE_ARTICLE = 200_000  # characters of an article an excluded word is looked for in
LOOKBACK_DAYS = 7  # a scheduled digest covers what was ingested this long ago at most
FIRST_DIGEST_COVERS = dt.timedelta(hours=24)  # what came in before subscribing that the first digest brings

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    """A moment as the database keeps it: UTC, ISO 8601, to the second."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text from outside (a terminal's argv, Telegram's JSON) with invalid Unicode replaced: a lone
    surrogate (bytes that were not UTF-8, or a broken escape) becomes U+FFFD instead of breaking the
    first encoder it meets (OpenCC, SQLite, the HTTP client)."""
    return _SURROGATE.sub("\ufffd", text)


def parse_day(text: str, today: dt.date) -> dt.date | None:
    """A day from what people type: YYYY-MM-DD, today/今天, yesterday/昨天 (None when unreadable)."""
    word = text.strip().lower()
    if word in ("", "today", "今天", "今日"):
        return today
    if word in ("yesterday", "昨天", "昨日"):
        return today - dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(word.replace("/", "-"))
    except ValueError:
        return None


@dataclass
class DigestCache:
    """What one broadcast computes once: keyword matches and digests by their set of articles."""

    keywords: dict[str, set[int]] = field(default_factory=dict)
    digests: dict[tuple[str, tuple[int, ...]], Digest] = field(default_factory=dict)


@dataclass(frozen=True)
class QuestionTooLong(Exception):
    length: int
    limit: int


@dataclass(frozen=True)
class SubscriptionLimit(Exception):
    limit: int


class NewsService:
    """Answers questions, serves articles and digests, and keeps subscriptions, for one database."""

    def __init__(
        self, settings: Settings, store: Store, searcher: Searcher, *, clock: Clock = system_clock
    ) -> None:
        self.settings = settings
        self.store = store
        self.searcher = searcher
        self.clock = clock
        self.options = ComposeOptions(per_page=settings.passages_per_page, window_chars=settings.window_chars)
        self.state = BotState(store)
        self.subscriptions = Subscriptions(store)
        self._archive: tuple[int, tuple[str, str] | None] = (-1, None)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        seed: bool = True,
        persist: bool = True,
        store: Store | None = None,
        clock: Clock = system_clock,
        tokenizer: Tokenizer | None = None,
        while_writing: Callable[[Callable[[], None]], object] | None = None,
    ) -> NewsService:
        """Open the database (seeding an empty one with the bundled sample page) and its index (loaded,
        updated or built); ``while_writing`` (an ingest) runs while what it commits is indexed."""
        store = store or open_store(settings, seed=seed, clock=clock)
        tokenizer = tokenizer or Tokenizer(settings.userdict or default_userdict())
        params = BM25Params(settings.bm25_variant, settings.bm25_k1, settings.bm25_b)
        index_dir = settings.index_dir if persist else None
        cluster = (
            Cluster.connect(
                settings.ray_address, shards=settings.ray_shards, deadline=settings.ray_deadline_ms / 1000
            )
            if settings.ray_address
            else None
        )
        searcher = Searcher.open(
            store,
            index_dir,
            tokenizer=tokenizer,
            params=params,
            title_copies=settings.title_copies,
            alias_dictionary=read_alias_dictionary(settings),
            cluster=cluster,
            while_writing=while_writing,
        )
        return cls(settings, store, searcher, clock=clock)

    def close(self) -> None:
        self.store.close()
        if self.searcher.cluster:
            self.searcher.cluster.close()

    # --- time ---------------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        """Today in the configured time zone: what 今天, 上个月 and 去年 are counted from."""
        return self.clock().astimezone(self.settings.tz).date()

    # --- questions ----------------------------------------------------------------------------------

    def parse(self, question: str, now: dt.date | None = None) -> Question:
        """The question parsed once (``now`` resolves 上个月, 去年; default: today).

        Raises:
            QuestionTooLong: the question is longer than ``max_question_chars``.
        """
        question = clean_text(question).strip()
        if len(question) > self.settings.max_question_chars:
            raise QuestionTooLong(len(question), self.settings.max_question_chars)
        return parse_question(
            question, self.searcher.tokenizer, now or self.today(), aliases=self.searcher.aliases
        )

    def ask(
        self,
        question: str,
        *,
        now: dt.date | None = None,
        after: Answer | None = None,
        source: str | None = None,
        exclude_articles: frozenset[int] = frozenset(),
        options: ComposeOptions | None = None,
    ) -> Answer:
        """Answer a question with quoted passages, or say plainly that nothing relevant was found.

        ``now`` is the day it is asked on (default: today); ``after``, the answer it follows (那去年呢？
        and 他是哪里人？ are completed from it: ``Answer.understood`` says how); ``source``, the one publication
        to quote from; ``options`` replace the
        composer's settings.

        Raises:
            QuestionTooLong: the question is longer than ``max_question_chars``.
        """
        if after is not None:
            followed = self.follow_up(question, after, now)
            if followed is not None:
                excluded = exclude_articles | (
                    frozenset(p.source.article_id for p in after.page(0)) if followed.more else frozenset()
                )
                answer = self.ask(
                    followed.text, now=now, source=source, exclude_articles=excluded, options=options
                )
                return dataclasses.replace(
                    answer, question=clean_text(question).strip(), understood=followed.text
                )
        parsed = self.parse(question, now)
        filters = Filters(exclude_articles=exclude_articles, source=source)
        result = self.searcher.search(parsed, k=_HITS, filters=filters)
        return compose_answer(
            parsed,
            result,
            self.searcher.tokenizer,
            self.searcher.index,
            options or self.options,
            archive=self.archive_range(),
        )

    def follow_up(self, question: str, after: Answer, now: dt.date | None = None) -> FollowUp | None:
        """``question`` completed from the answer it follows, or None when it stands alone."""
        day = now or self.today()
        previous = self.parse(after.understood or after.question, day)
        quoted = after.page(0)
        texts = self.store.article_texts([p.source.article_id for p in quoted])
        context = "\n".join([*(p.quote for p in quoted), *texts.values()])
        return follow_up(question, previous, self.searcher.tokenizer, day, short=after.short, context=context)

    def archive_range(self) -> tuple[str, str] | None:
        """First and last day of the dated articles (None when none is dated), cached per index snapshot."""
        generation = self.searcher.index.generation
        if self._archive[0] != generation:
            self._archive = (generation, self.store.date_range())
        return self._archive[1]

    # --- articles -----------------------------------------------------------------------------------

    def article(self, ref: str) -> Article | None:
        """An article by number or external id, with its paragraphs."""
        ref = ref.strip().lstrip("#")
        article = self.store.article(int(ref)) if ref.isdigit() else None
        return article or (self.store.article_by_external_id(ref) if ref else None)

    def latest(self, n: int = 10) -> list[Article]:
        return self.store.articles(limit=n)

    def stats(self) -> dict[str, Any]:
        """The store's counts; with a cluster, also its searches and how many lacked a shard (partial)."""
        stats = self.store.stats()
        if self.searcher.cluster:
            stats.update(self.searcher.cluster.stats)
        return stats

    # --- digests ------------------------------------------------------------------------------------

    def digest_of_day(self, day: dt.date) -> Digest:
        """The topics of the articles that count on ``day``."""
        articles = self.store.articles_of_day(day.isoformat())
        return build_digest(day.isoformat(), articles, self.searcher.tokenizer, self.searcher.index)

    def digest_for(
        self, subscription: Subscription, now: dt.datetime, cache: DigestCache | None = None
    ) -> tuple[Digest, list[int]]:
        """A subscription's next scheduled digest and every article it covers.

        Covered: what was ingested since a day before the subscription began (at most ``LOOKBACK_DAYS``
        ago) and this subscription has not received yet: the first digest brings the day's paper that came
        before the reader subscribed, later ones what came since, and an article ingested late for a past
        day goes into the next digest. With keywords, only the articles that pass the same relevance test
        as questions, from the publications named, mentioning none of the excluded words (``Interest``). A broadcast passes one ``cache``: subscribers with the same keywords and the same new
        articles share one search and one digest.
        """
        cache = cache if cache is not None else DigestCache()
        began = dt.datetime.fromisoformat(subscription.created_at)
        since = max(iso(began - FIRST_DIGEST_COVERS), iso(now - dt.timedelta(days=LOOKBACK_DAYS)))
        candidates = self.subscriptions.undelivered(subscription.id, since)
        interest = Interest.parse(subscription.keywords)
        if interest.words and candidates:
            words = " ".join(interest.words)
            if words not in cache.keywords:
                cache.keywords[words] = set(self.matching_articles(words))
            candidates = [a for a in candidates if a in cache.keywords[words]]
        if interest.narrows and candidates:
            sources = {a.id: a.source for a in self.store.articles_by_ids(candidates)}
            texts = self.store.article_texts(candidates, limit=_WHOLE_ARTICLE)
            candidates = interest.keep(candidates, sources, texts, self.searcher.tokenizer.normalize_cached)
        day = now.astimezone(self.settings.tz).date().isoformat()
        key = (day, tuple(candidates))
        if key not in cache.digests:
            articles = self.store.articles_by_ids(candidates)
            cache.digests[key] = build_digest(day, articles, self.searcher.tokenizer, self.searcher.index)
        return cache.digests[key], candidates

    def matching_articles(self, keywords: str) -> list[int]:
        """Articles any of the (space-separated) keywords finds through retrieval and the answers' relevance
        test: a keyword is asked like a question, and what it finds counts."""
        tokenizer, index = self.searcher.tokenizer, self.searcher.index
        found: set[int] = set()
        for keyword in dict.fromkeys(clean_text(keywords).split()):
            question = parse_question(
                keyword, tokenizer, self.today(), times=False, aliases=self.searcher.aliases
            )
            result = self.searcher.search(question, k=_KEYWORD_HITS, second_stage=False, contexts=False)
            found.update(
                h.article.id for h in relevant_hits(question, result, tokenizer, index, self.options)
            )
        return sorted(found)

    def trend(self, keyword: str, days: int) -> list[tuple[dt.date, int]]:
        """Articles mentioning ``keyword`` per day over the ``days`` days ending today (or ending on the
        newest day with articles, when the archive stops earlier)."""
        terms = self.searcher.tokenizer.query_terms(clean_text(keyword))
        counts = self.searcher.index.articles_per_day(terms)
        last_day = self.store.stats()["last_day"]
        today = self.today()
        end = min(today, dt.date.fromisoformat(last_day)) if last_day else today
        first = end - dt.timedelta(days=days - 1)
        series = [first + dt.timedelta(days=i) for i in range(days)]
        return [(day, counts.get(day_number(day.isoformat()), 0)) for day in series]

    def timeline(self, keyword: str, *, now: dt.date | None = None) -> Timeline:
        """When the archive first and last mentions ``keyword`` (its words together), how often per month,
        and one key passage per active period, counting what came out by ``now`` (default: today)."""
        today = now or self.today()
        question = parse_question(clean_text(keyword).strip(), self.searcher.tokenizer, today, times=False)
        return build_timeline(question, self.searcher, until=today, options=self.options)

    # --- subscriptions ------------------------------------------------------------------------------

    def subscribe(self, chat_id: int, at: str, keywords: str) -> Subscription:
        """A daily digest for ``chat_id`` at local ``at`` (HH:MM), of what ``keywords`` find (all when empty).

        Raises:
            SubscriptionLimit: the chat has ``max_subscriptions_per_chat`` already.
        """
        limit = self.settings.max_subscriptions_per_chat
        if len(self.subscriptions.of_chat(chat_id)) >= limit:
            raise SubscriptionLimit(limit)
        return self.subscriptions.add(chat_id, at, clean_text(keywords), iso(self.clock()))

    def unsubscribe(self, chat_id: int, ids: list[str]) -> list[Subscription]:
        """End the chat's subscriptions with these numbers (all of them for none, or ``all``)."""
        mine = self.subscriptions.of_chat(chat_id)
        wanted = [i.lstrip("#") for i in ids]
        chosen = mine if not wanted or wanted == ["all"] else [s for s in mine if str(s.id) in wanted]
        for sub in chosen:
            self.subscriptions.end(sub.id, "unsubscribed")
        return chosen

    # --- the index and uploads ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Pick up articles ingested since the index was opened (by this or another process), through a
        connection of the calling thread's own."""
        with self._connection() as store:
            self.searcher.manager.refresh(store)

    def reload(self) -> int:
        """Open the saved index again (after an external ``newsbot ingest``); the paragraphs it holds."""
        with self._connection() as store:
            return self.searcher.manager.reload(store).n_paragraphs

    def ingest_upload(self, path: Path, name: str) -> FileResult:
        """Ingest an uploaded file (kept as ``upload:<name>``: a new version replaces the old) and index it."""
        with self._connection() as store:
            result = ingest_file(store, path, now=iso(self.clock()), key=f"upload:{name}", name=name)
            if result.status in ("added", "replaced"):
                self.searcher.manager.refresh(store)
        return result

    def _connection(self) -> Store:
        """Another connection to this service's database, for work in another thread."""
        return Store(self.store.path, tz=self.store.tz)


def read_alias_dictionary(settings: Settings) -> AliasDictionary | None:
    """The user's alias dictionary (``NEWSBOT_ALIASES``), read once at start-up; None without one.

    Raises:
        ConfigError: the file cannot be read.
        AliasDictionaryError: a line is not ``短 长`` or ``-短 长``.
    """
    if settings.aliases is None:
        return None
    try:
        text = settings.aliases.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"NEWSBOT_ALIASES: cannot read {settings.aliases}: {exc}") from None
    return parse_alias_dictionary(text, str(settings.aliases))


def open_store(settings: Settings, *, seed: bool = True, clock: Clock = system_clock) -> Store:
    """The database of ``settings`` (whose undated articles count on the day they came in, locally); with
    ``seed``, an empty one first gets the bundled sample page, so there is something to ask about."""
    store = Store(settings.db, tz=settings.tz)
    if seed and settings.seed_sample and store.is_empty():
        report = ingest_paths(store, sample_paths(), now=iso(clock()))
        log.info("empty database: ingested the bundled sample (%d articles)", report.articles)
    return store
