"""A crawl's blocking work (parsing pages, writing the store) in one thread beside its loop.

On the crawl's event loop that work would hold back the requests waiting there: a request
that passed its on-time check (crawler/politeness.py) still yields once to the loop before
its bytes are written, and if the loop then parses a page or waits on a database for tens
of milliseconds, the request goes out that much after its slot, closer to the next one to
its host than the host's rate allows. One thread per crawl, not a pool: the crawl's store
calls still run one at a time and in the order the crawl makes them, as on the loop, so a
SQLite store sees no more writers than before.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from types import TracebackType
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Offload:
    """`await offload(fn, *args)` runs `fn` in the crawl's own thread; closing it waits for
    the call under way (a store write is finished, never cut off) and drops the rest."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="govwatch-crawl-work")

    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        context = contextvars.copy_context()
        call = partial(context.run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    def close(self) -> None:
        self._thread.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Offload:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
