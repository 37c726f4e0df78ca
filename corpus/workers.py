"""Long jobs spread over a few worker processes, their results in order, this process taking over when the
workers fail.

Used where a big ingestion does one pure step per batch: mining abbreviations (``corpus.aliases``) and
segmenting paragraphs for the index (``retrieval.doctokens``). Workers are spawned, never forked (the bot
has threads). A few batches are in flight, not all: results the caller has not taken yet wait in memory.
A batch whose worker fails (or could not be given one) is done here; an error of the input itself (a
file that cannot be read) reaches the caller as it is, never taken for a failing worker.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, TypeVar

__all__ = ["in_order"]

log = logging.getLogger(__name__)
A = TypeVar("A")
R = TypeVar("R")
_FAILURES = (BrokenProcessPool, CancelledError, OSError, RuntimeError)
_PARENT_CHECK_S = 1.0  # how often a worker looks whether its parent is still there


def in_order(
    work: Callable[[A], R],
    inputs: Iterable[A],
    *,
    here: Callable[[A], R],
    ahead_per_worker: int,
    what: str,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Iterator[R]:
    """``work`` of each input (a module-level function: it runs in the workers, set up by ``initializer``),
    in the order of ``inputs``; ``here`` does the same in this process. ``what`` names the work in the
    line logged when the workers fail."""
    workers = min(4, os.cpu_count() or 1)
    pool: ProcessPoolExecutor | None = None
    if workers >= 2:
        pool = ProcessPoolExecutor(
            workers,
            mp_context=get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), initializer, initargs),
        )
    pending: deque[tuple[A, Future[R] | None]] = deque()

    def stop(exc: BaseException) -> None:
        nonlocal pool
        log.warning("%s in this process: worker processes failed (%s)", what, exc)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        pool = None

    def done() -> R:
        item, future = pending.popleft()
        if future is not None:
            try:
                return future.result()
            except _FAILURES as exc:
                stop(exc)
        return here(item)

    try:
        for item in inputs:
            future = None
            if pool is not None:
                try:
                    future = pool.submit(work, item)
                except _FAILURES as exc:
                    stop(exc)
            pending.append((item, future))
            while pending and (len(pending) >= ahead_per_worker * workers or pending[0][1] is None):
                yield done()
        while pending:
            yield done()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _start_worker(parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """A worker's set-up: it ends when its parent does. A parent killed outright (SIGKILL, the OOM killer)
    cannot shut its pool down, and its workers, holding both ends of their work queue's pipe, would wait
    for work forever."""
    threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_PARENT_CHECK_S)
    os._exit(1)
