"""Crawling on a schedule inside the server: one APScheduler job per seed.

Each seed runs on its `interval` (first run at start, delayed at random by up to `jitter` of
the interval), one run per seed at a time, a run missed while the previous one was still
going coalesced into one. A crawl runs in a worker thread with an event loop of its own: the
crawler writes to the store and parses synchronously, and on the server's loop that would
stall every feed and page served meanwhile. Seeds that share a host take turns, because the
crawler paces requests per run and two runs at once would double a host's rate.

Stopping waits for running crawls to finish, so a stop never leaves a crawl half done; past
`timeout`, or at once when the server is told to stop now, they are cancelled (each store
write is a transaction of its own, so even then nothing is half-written: the run just stays
unfinished, and the next crawl finishes it).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.interval import IntervalTrigger

from govwatch.crawler.engine import Crawler, RunSummary
from govwatch.crawler.proxy import mask
from govwatch.crawler.seeds import Seed
from govwatch.server.metrics import Metrics
from govwatch.settings import Settings
from govwatch.store import ErrorRow, Store

log = logging.getLogger(__name__)

CRAWL_THREADS = 4
"""Crawls that run at once; more wait for a thread (each run already fetches concurrently)."""

CANCEL_GRACE = 10.0
"""Seconds a cancelled crawl gets to unwind before the server stops without it."""


class CrawlCancelled(Exception):
    """A crawl cut short because the server stopped."""


@dataclass
class SiteStatus:
    """What /healthz tells about one site, since the server started."""

    running: bool = False
    last_run: datetime | None = None
    last_success: datetime | None = None
    last_errors: int = 0
    last_failure: str | None = None

    def as_json(self, next_run: datetime | None) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None

        return {
            "running": self.running,
            "last_run": iso(self.last_run),
            "last_success": iso(self.last_success),
            "last_errors": self.last_errors,
            "last_failure": self.last_failure,
            "next_run": iso(next_run),
        }


class CrawlScheduler:
    def __init__(
        self, store: Store, seeds: Sequence[Seed], settings: Settings, metrics: Metrics
    ) -> None:
        self.store = store
        self.seeds = list(seeds)
        self.settings = settings
        self.metrics = metrics
        self.sites = {seed.id: SiteStatus() for seed in self.seeds}
        self._scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )
        self._pool = ThreadPoolExecutor(CRAWL_THREADS, thread_name_prefix="govwatch-crawl")
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._jobs: set[asyncio.Task[None]] = set()
        # Crawls inside worker threads: their loop and task, so stop() can cancel them.
        self._inflight: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = {}
        self._lock = threading.Lock()
        self._stopping = False

    @property
    def running(self) -> bool:
        return bool(self._scheduler.state == STATE_RUNNING)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def start(self) -> None:
        """Add one job per seed, each due now, and start; call on the server's event loop."""
        now = datetime.now(UTC)
        for seed in self.seeds:
            seconds = seed.interval.total_seconds()
            trigger = IntervalTrigger(
                seconds=seconds, jitter=seconds * self.settings.jitter or None, timezone=UTC
            )
            self._scheduler.add_job(
                self.crawl, trigger, args=[seed], id=seed.id, name=seed.name, next_run_time=now
            )
        self._scheduler.start()

    def status(self) -> dict[str, dict[str, Any]]:
        # A paused job keeps its next run time, which a stopping server will not keep.
        jobs = {} if self._stopping else {j.id: j.next_run_time for j in self._scheduler.get_jobs()}
        return {site: s.as_json(jobs.get(site)) for site, s in self.sites.items()}

    def pause(self) -> int:
        """No new runs from now on; returns how many crawls are running."""
        self._stopping = True
        if self.running:
            self._scheduler.pause()
        return sum(status.running for status in self.sites.values())

    def cancel(self) -> None:
        """Cancel the running crawls: each stops at its next await, after the store write
        under way, if any."""
        with self._lock:
            for loop, task in self._inflight.values():
                loop.call_soon_threadsafe(task.cancel)

    async def stop(self, timeout: float) -> None:
        """No new runs; wait up to `timeout` for running ones, then cancel them. Calling it
        again once stopped does nothing."""
        self.pause()
        if self._jobs:
            _, pending = await asyncio.wait(set(self._jobs), timeout=timeout)
            if pending:
                log.warning("cancelling %d crawl(s) still running after %ss", len(pending), timeout)
                self.cancel()
                await asyncio.wait(pending, timeout=CANCEL_GRACE)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a loop callback
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def crawl(self, seed: Seed) -> None:
        """One scheduled pass over one seed, recorded in the metrics and the site status."""
        task = asyncio.current_task()
        assert task is not None
        self._jobs.add(task)
        try:
            async with AsyncExitStack() as stack:
                for host in sorted(seed.hosts):
                    await stack.enter_async_context(
                        self._host_locks.setdefault(host, asyncio.Lock())
                    )
                if not self._stopping:
                    await self._crawl(seed)
        finally:
            self._jobs.discard(task)

    async def _crawl(self, seed: Seed) -> None:
        status = self.sites[seed.id]
        status.running = True
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        try:
            summary, errors = await loop.run_in_executor(self._pool, self._in_thread, seed)
        except Exception as exc:
            seconds = time.monotonic() - started
            status.last_run = datetime.now(UTC)
            status.last_failure = mask(f"{type(exc).__name__}: {exc}")
            self.metrics.failed(seed.id, seconds)
            log.error("crawl of %s failed after %.1fs: %s", seed.id, seconds, status.last_failure)
            return
        finally:
            status.running = False
        seconds = time.monotonic() - started
        stats = summary.sites[seed.id]
        now = datetime.now(UTC)
        # A pass counts as a success when every listing page it started from answered:
        # one broken notice page is an error to count, not a site that is down.
        listings_ok = not any(e.url in seed.listing_urls for e in errors)
        status.last_run = now
        status.last_errors = stats.errors
        status.last_failure = None
        if listings_ok:
            status.last_success = now
        self.metrics.finished(
            seed.id,
            stats,
            Counter(e.kind for e in errors),
            seconds,
            now.timestamp() if listings_ok else None,
        )
        log.info(
            "crawled %s in %.1fs: %s",
            seed.id,
            seconds,
            ", ".join(f"{k} {v}" for k, v in stats.as_dict().items() if v),
        )

    def _in_thread(self, seed: Seed) -> tuple[RunSummary, list[ErrorRow]]:
        try:
            return asyncio.run(self._run(seed))
        except asyncio.CancelledError:
            # Not the server loop's task that was cancelled: report it as this crawl's fate.
            raise CrawlCancelled(f"crawl of {seed.id} cancelled by the shutdown") from None

    async def _run(self, seed: Seed) -> tuple[RunSummary, list[ErrorRow]]:
        task = asyncio.current_task()
        assert task is not None
        with self._lock:
            if self._stopping:
                raise asyncio.CancelledError
            self._inflight[seed.id] = (asyncio.get_running_loop(), task)
        try:
            summary = await Crawler(self.store, self.settings).run([seed])
            return summary, self.store.errors(summary.run_id)
        finally:
            with self._lock:
                del self._inflight[seed.id]
