"""The index on a Ray cluster: shards held by actors answer queries, tasks segment text for bulk builds.

- **Sharded serving.** ``Cluster.serve(index)`` splits a snapshot's documents into ``shards`` contiguous
  ranges, each a ``BM25Index.shard`` of its range held by an actor (one actor per shard, but no more
  actors than the cluster has CPUs: an actor then holds consecutive shards and answers for them in one
  call, since the round trip to an actor costs more than scanning a shard): its postings, scored with
  the *whole* collection's statistics (N, average length, document frequencies), so each score is the one
  ``rank_bm25`` gives over the whole corpus. A query goes to every shard; their top k merge into the
  global top k (ties: lower document number first, as ``BM25Index.top``). The snapshot returned is a
  ``SearchIndex`` like any other, so searching, composing and the front ends do not change. Shard actors
  are restarted by Ray when their process dies (their data stays in the object store); a shard that does
  not answer within the deadline is left out of that query, which is logged and counted as partial.
- **Bulk segmentation.** ``Cluster.analyse_chunks`` is a ``ChunkMap``: the chunks an index build cuts
  are segmented in Ray tasks, at most a few per CPU in flight, and come back in order, so the vocabulary
  hands out the same ids and the postings are those a single process builds.

Ray is an optional dependency (``pip install newsbot[cluster]``): this module imports without it, and
``Cluster.connect`` raises ``ClusterUnavailable`` when it is missing or the address does not answer.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from . import kernels
from .bm25 import BM25Index, ScoredDocs, ranges_within
from .doctokens import ChunkTerms, DocumentTokenizer, Row, WorkerSetup, analyse_in_worker
from .errors import ClusterUnavailable
from .index import SearchIndex

__all__ = ["LOCAL", "Cluster", "ShardedBM25"]

log = logging.getLogger(__name__)

LOCAL = "local"  # the address that starts a Ray cluster on this machine
_IN_FLIGHT_PER_CPU = 2  # segmentation tasks queued per CPU: enough to keep every worker busy


# What a shard's ``top`` is asked: query, k, allowed, weights, ranges, floor (as ``BM25Index.top`` takes
# them: what the whole top k does not want, no shard's part of it does).
_TopRequest = tuple[
    Sequence[int],
    int,
    npt.NDArray[np.bool_] | None,
    Sequence[float] | None,
    npt.NDArray[np.int64] | None,
    float | None,
]


class _Shard:
    """A Ray actor holding one or more shards (``BM25Index.shard``); built again from their objects when
    restarted. One call asks all of them: a round trip to each actor is most of a sharded query's cost."""

    def __init__(self, *indexes: BM25Index) -> None:
        self._indexes = indexes
        kernels.warm_up()

    def top(self, requests: Sequence[_TopRequest]) -> list[tuple[list[int], list[float]]]:
        """``BM25Index.top`` of each shard's request (query, k, allowed, weights, ranges, floor), in one argument:
        Ray serialises each argument of a call on its own (0.4 ms less a query over four shards than five)."""
        out = []
        for index, request in zip(self._indexes, requests, strict=True):
            top = index.top(*request)
            # Plain lists: for ten hits they cross the process boundary faster than arrays (exact doubles).
            out.append((top.docs.tolist(), top.scores.tolist()))
        return out

    def score_docs(
        self, requests: Sequence[tuple[Sequence[int], Sequence[float] | None]]
    ) -> list[tuple[Any, Any]]:
        return [index.score_docs(*r) for index, r in zip(self._indexes, requests, strict=True)]

    def ready(self) -> bool:
        return True


@dataclass
class _Counts:
    searches: int = 0
    partial: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class _Shards:
    """The actors of one snapshot, the shards each holds (``groups``: consecutive shard numbers), the
    document range of each shard, and the objects they are built from (kept referenced here, so a
    restarted actor finds its shards in the object store)."""

    actors: tuple[Any, ...]
    groups: tuple[tuple[int, ...], ...]
    bounds: tuple[tuple[int, int], ...]
    objects: tuple[Any, ...]
    deadline: float
    counts: _Counts

    def ask(self, call: str, request: Callable[[int, int], Any]) -> list[tuple[int, Any]]:
        """Each shard's answer to ``call`` (given the ``request`` of its document range) and its first
        document number, one call per actor for its shards; the shards of an actor that fails or misses
        the deadline are left out, logged and counted."""
        import ray

        asked = time.monotonic()
        refs = [
            getattr(actor, call).remote([request(*self.bounds[n]) for n in group])
            for actor, group in zip(self.actors, self.groups, strict=True)
        ]
        try:  # the usual case, in one call: every actor answers in time
            answers = self._by_shard(enumerate(ray.get(refs, timeout=self.deadline)))
        except (ray.exceptions.GetTimeoutError, ray.exceptions.RayError):
            answers = self._survivors(refs, max(0.0, asked + self.deadline - time.monotonic()))
        with self.counts.lock:
            self.counts.searches += 1
            self.counts.partial += len(answers) < len(self.bounds)
        return answers

    def _by_shard(self, answered: Iterable[tuple[int, list[Any]]]) -> list[tuple[int, Any]]:
        """Each answering actor's answers as (first document, answer) of its shards, in shard order."""
        return [
            (self.bounds[n][0], answer)
            for actor, answers in answered
            for n, answer in zip(self.groups[actor], answers, strict=True)
        ]

    def _survivors(self, refs: list[Any], remaining: float) -> list[tuple[int, Any]]:
        """The answers of the actors that give one within the ``remaining`` seconds (one actor failing
        fast does not cut the others' time); the shards of the others are logged."""
        import ray

        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=remaining)
        done = set(ready)
        answered: list[tuple[int, list[Any]]] = []
        missing: list[str] = []
        for actor, ref in enumerate(refs):
            shards = ", ".join(map(str, self.groups[actor]))
            if ref not in done:
                missing.append(f"{shards} (no answer within {self.deadline:g} s)")
                continue
            try:
                answered.append((actor, ray.get(ref)))
            except ray.exceptions.RayError as exc:
                missing.append(f"{shards} ({type(exc).__name__})")
        log.warning("partial search: shard(s) %s left out", ", ".join(missing))
        return self._by_shard(answered)


@dataclass(frozen=True, kw_only=True)
class ShardedBM25(BM25Index):
    """A snapshot's BM25 whose ``top`` and ``score_docs`` are answered by shard actors.

    Statistics (``idf``, ``df``, ``n_live``) and the postings the caller reads for matched terms are the
    local snapshot's; the query, its ``weights`` and the mask's part of each range go to the shards.
    """

    shards: _Shards = field(repr=False, compare=False)

    def top(
        self,
        query: Sequence[int],
        k: int,
        allowed: npt.NDArray[np.bool_] | None = None,
        weights: Sequence[float] | None = None,
        ranges: npt.NDArray[np.int64] | None = None,
        floor: float | None = None,
        *,
        parallel: bool = True,
    ) -> ScoredDocs:
        """``BM25Index.top`` from the shards, asked at once (``parallel`` is each shard's to use)."""
        terms = list(query)
        wanted = None if weights is None else list(weights)

        answers = self.shards.ask(
            "top",
            lambda lo, hi: (
                terms,
                k,
                None if allowed is None else allowed[lo:hi],
                wanted,
                None if ranges is None else ranges_within(ranges, lo, hi),
                floor,
            ),
        )
        if not answers:
            return ScoredDocs(np.zeros(0, dtype=np.int64), np.zeros(0))
        docs = np.array([d + lo for lo, (found, _) in answers for d in found], dtype=np.int64)
        scores = np.array([x for _, (_, found) in answers for x in found], dtype=np.float64)
        order = np.lexsort((docs, -scores))[:k]
        return ScoredDocs(docs[order], scores[order])

    def score_docs(
        self, query: Sequence[int], weights: Sequence[float] | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        terms = list(query)
        wanted = None if weights is None else list(weights)
        answers = self.shards.ask("score_docs", lambda lo, hi: (terms, wanted))
        docs = [d + lo for lo, (d, _) in answers]
        scores = [s for _, (_, s) in answers]
        if not docs:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(docs).astype(np.int64), np.concatenate(scores)


class Cluster:
    """A connection to a Ray cluster: shards for serving, tasks for segmenting."""

    def __init__(self, *, shards: int, deadline: float, started: bool, actors: int | None = None) -> None:
        if shards < 1:
            raise ValueError(f"shards={shards}: a sharded index needs at least one shard")
        if actors is not None and not 1 <= actors <= shards:
            raise ValueError(f"actors={actors}: between 1 and the {shards} shards")
        self.shards = shards
        self.n_actors = actors  # None: one per shard, at most one per CPU of the cluster
        self.deadline = deadline
        self._started = started  # this process started the cluster (``local``) and stops it on close
        self._lock = threading.Lock()
        self._source: SearchIndex | None = None
        self._view: SearchIndex | None = None
        self._actors: tuple[Any, ...] = ()
        self._counts = _Counts()
        self._analyse: Any = None

    @classmethod
    def connect(
        cls, address: str, *, shards: int = 4, deadline: float = 1.0, actors: int | None = None
    ) -> Cluster:
        """Join the cluster at ``address`` (``local``: start one here, or use the one this process has).
        The ``shards`` are held by ``actors`` (default: one per shard, but no more than the cluster has
        CPUs: a query's round trip to each actor costs more than scanning a shard).

        Raises:
            ClusterUnavailable: Ray is not installed, or the cluster does not answer.
        """
        try:
            import ray
        except ImportError:
            raise ClusterUnavailable(
                "NEWSBOT_RAY_ADDRESS is set but Ray is not installed: pip install 'newsbot[cluster]'"
            ) from None
        started = False
        if not ray.is_initialized():
            try:
                if address == LOCAL:
                    ray.init(include_dashboard=False, log_to_driver=False)
                    started = True
                else:
                    ray.init(address=address, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ClusterUnavailable(f"cannot join the Ray cluster at {address!r}: {exc}") from None
        return cls(shards=shards, deadline=deadline, started=started, actors=actors)

    def close(self) -> None:
        """Stop the shard actors (and the cluster, when this process started it)."""
        import ray

        with self._lock:
            self._stop_actors()
        if self._started:
            ray.shutdown()

    @property
    def stats(self) -> dict[str, int]:
        """Searches answered by the shards, and how many of them lacked a shard (partial)."""
        c = self._counts
        with c.lock:
            return {"shards": self.shards, "sharded_searches": c.searches, "partial_searches": c.partial}

    @property
    def actors(self) -> tuple[Any, ...]:
        """The actors serving the current snapshot, each holding consecutive shards (for operators and fault
        drills)."""
        return self._actors

    def serve(self, index: SearchIndex) -> SearchIndex:
        """``index`` answered by shard actors (loaded when the snapshot changes, then reused)."""
        with self._lock:
            if index is not self._source or self._view is None:
                self._view = self._load(index)
                self._source = index
            return self._view

    def _load(self, index: SearchIndex) -> SearchIndex:
        import ray

        self._stop_actors()
        bm25 = index.bm25
        n = bm25.n_docs
        edges = np.linspace(0, n, self.shards + 1).round().astype(np.int64).tolist()
        bounds = tuple(itertools.pairwise(edges))
        objects = tuple(ray.put(bm25.shard(lo, hi)) for lo, hi in bounds)
        cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
        groups = tuple(
            tuple(g.tolist())
            for g in np.array_split(np.arange(self.shards), self.n_actors or min(self.shards, max(1, cpus)))
        )
        actor_class = ray.remote(max_restarts=-1, num_cpus=0)(_Shard)
        self._actors = tuple(actor_class.remote(*(objects[n] for n in group)) for group in groups)
        ray.get([a.ready.remote() for a in self._actors])  # loaded before the first query's deadline runs
        shards = _Shards(self._actors, groups, bounds, objects, self.deadline, self._counts)
        own = ("params", "segments", "n_terms", "deleted", "_stats")  # not the per-snapshot caches
        fields = {name: getattr(bm25, name) for name in own}
        log.info(
            "index of %d paragraphs served in %d shards by %d actors", bm25.n_live, self.shards, len(groups)
        )
        return dataclasses.replace(index, bm25=ShardedBM25(**fields, shards=shards))

    def _stop_actors(self) -> None:
        import ray

        for actor in self._actors:
            ray.kill(actor, no_restart=True)
        self._actors = ()

    def analyse_chunks(
        self, doc_tokens: DocumentTokenizer, pieces: Iterable[Sequence[Row]]
    ) -> Iterator[ChunkTerms]:
        """Segment ``pieces`` in Ray tasks; their terms in order (a ``ChunkMap``)."""
        import ray

        if self._analyse is None:
            self._analyse = ray.remote(_analyse)
        setup = ray.put(doc_tokens.setup)
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        cpus = max(1, int(resources.get("CPU", 1)))
        pending: deque[Any] = deque()
        for piece in pieces:
            pending.append(self._analyse.remote(setup, list(piece)))
            if len(pending) >= cpus * _IN_FLIGHT_PER_CPU:
                yield ray.get(pending.popleft())
        while pending:
            yield ray.get(pending.popleft())


def _analyse(setup: WorkerSetup, rows: Sequence[Row]) -> ChunkTerms:
    return analyse_in_worker(setup, rows)
