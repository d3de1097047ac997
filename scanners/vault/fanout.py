"""Bounded concurrent requests: a thread pool of `workers` threads and a completion queue, so a
listing that returns 20,000 keys is followed by 20,000 metadata reads `workers` at a time, and a
task may schedule more tasks (recursive listing) without waiting on a futures list."""

from __future__ import annotations

import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


class Fanout:
    def __init__(self, workers: int):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vault")
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._outstanding = 0

    def submit(self, fn: Callable, *args, tag=None) -> None:
        future = self._pool.submit(fn, *args)
        self._outstanding += 1
        future.add_done_callback(lambda f: self._done.put((tag, f)))

    def results(self):
        """Yield (tag, future) as each task finishes, including tasks submitted while iterating.
        Call `future.result()` to get the value or the exception."""
        while self._outstanding:
            tag, future = self._done.get()
            self._outstanding -= 1
            yield tag, future

    def map(self, fn: Callable, items, *, tag_of=lambda item: item):
        for item in items:
            self.submit(fn, item, tag=tag_of(item))
        yield from self.results()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
