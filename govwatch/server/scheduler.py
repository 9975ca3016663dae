"""Crawling on a schedule inside the server: the store's schedule, crawled in-process.

Each enabled seed is brought into the store's schedule at start (a site new to it is due at
once). A tick claims the due sites (store/schedule.py) and runs each claim as a task here:
the same claimed crawl a `govwatch worker` runs as a job. After a crawl the site is due
again `interval` after its claim, later by up to `jitter` of it at random; one that raised
is put off by a backoff. The tick runs when the earliest site is due, when a crawl ends,
and at least every `tick` seconds; it renews the leases of the claims it runs, so a killed
server's sites are free again LEASE seconds later. On PostgreSQL, while `govwatch worker`s
are alive the server leaves the scheduling to them and only serves.

A crawl runs in a worker thread with an event loop of its own: the crawler writes to the
store and parses synchronously, and on the server's loop that would stall every feed and
page served meanwhile. All crawls share one book of hosts' request slots (on PostgreSQL the
store's, which workers share too), so a host's rate holds however many of its seeds are
crawled at once.

Stopping waits for running crawls to finish, so a stop never leaves a crawl half done; past
`timeout`, or at once when the server is told to stop now, they are cancelled (each store
write is a transaction of its own, so even then nothing is half-written: the run just stays
unfinished, the site is due again at once, and the next crawl finishes it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from govwatch.crawler.claimed import Crawled, crawl_claimed, plan_of
from govwatch.crawler.politeness import slot_book
from govwatch.crawler.proxy import mask
from govwatch.crawler.seeds import Seed
from govwatch.errors import GovwatchError
from govwatch.fleet.jobs import CRAWL_QUEUE
from govwatch.server.metrics import Metrics
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.schedule import Claim

log = logging.getLogger(__name__)

CRAWL_THREADS = 4
"""Crawls that run at once; due sites wait for a thread (each run already fetches
concurrently)."""

CANCEL_GRACE = 10.0
"""Seconds a cancelled crawl gets to unwind before the server stops without it."""

LEASE = 60.0
"""Seconds a claim of this server holds without renewal: a killed server's sites are
crawled again this long after it died."""


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
        self.seeds = {seed.id: seed for seed in seeds}
        self.settings = settings
        self.metrics = metrics
        self.sites = {seed.id: SiteStatus() for seed in seeds}
        self.slots = slot_book(store)
        self.fleet = False
        """True while `govwatch worker`s do the scheduling."""
        self._pool = ThreadPoolExecutor(CRAWL_THREADS, thread_name_prefix="govwatch-crawl")
        self._ticker: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._next_due: dict[str, datetime] = {}
        self._claims: dict[str, Claim] = {}
        self._jobs: set[asyncio.Task[None]] = set()
        # Crawls inside worker threads: their loop and task, so stop() can cancel them.
        self._inflight: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = {}
        self._lock = threading.Lock()
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._ticker is not None and not self._ticker.done() and not self._stopping

    @property
    def stopping(self) -> bool:
        return self._stopping

    def start(self) -> None:
        """Start ticking; call on the server's event loop."""
        self._wake = asyncio.Event()
        self._ticker = asyncio.create_task(self._tick_loop(), name="govwatch-ticks")

    def status(self) -> dict[str, dict[str, Any]]:
        # A stopping server keeps no next run.
        due = {} if self._stopping else self._next_due
        return {site: s.as_json(due.get(site)) for site, s in self.sites.items()}

    def pause(self) -> int:
        """No new runs from now on; returns how many crawls are running."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
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
        if self._ticker is not None:
            await asyncio.wait([self._ticker], timeout=CANCEL_GRACE)
        if self._jobs:
            _, pending = await asyncio.wait(set(self._jobs), timeout=timeout)
            if pending:
                log.warning("cancelling %d crawl(s) still running after %ss", len(pending), timeout)
                self.cancel()
                await asyncio.wait(pending, timeout=CANCEL_GRACE)
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _tick_loop(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self._prepare)
        except GovwatchError as exc:
            log.error("cannot schedule the seeds: %s", exc)
            return
        while not self._stopping:
            try:
                held = [claim.token for claim in self._claims.values()]
                claims, wait = await loop.run_in_executor(None, self._tick, held)
            except GovwatchError as exc:
                log.error("scheduling tick failed: %s", exc)
                claims, wait = [], self.settings.tick
            for claim in claims:
                self._claims[claim.site_id] = claim
                task = asyncio.create_task(self.crawl(self.seeds[claim.site_id], claim))
                self._jobs.add(task)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    def _prepare(self) -> None:
        """The seeds into the store's schedule; on SQLite, which one process schedules, the
        claims a killed server left behind are freed at once."""
        self.store.plan_sites([plan_of(seed) for seed in self.seeds.values()])
        if self.store.queue_conninfo() is None:
            self.store.release_all_claims()

    def _tick(self, held: list[str]) -> tuple[list[Claim], float]:
        """Renew the claims `held`, claim what is due (unless the fleet schedules); returns
        the new claims and how long to wait for the next tick."""
        self.store.renew_claims(held, LEASE)
        queue = self.store.queue_figures(CRAWL_QUEUE, self.settings.stalled_after)
        self.fleet = queue is not None and queue.workers > 0
        claims: list[Claim] = []
        if not self.fleet and not self._stopping:
            free = CRAWL_THREADS - len(held)
            claims = self.store.claim_due(free, lease=LEASE, only=list(self.seeds))
        self._next_due = {
            site: row.next_due for site, row in self.store.schedule().items() if site in self.seeds
        }
        wait = self.settings.tick
        if len(held) + len(claims) < CRAWL_THREADS and not self.fleet:
            earliest = self.store.next_due()
            if earliest is not None:
                soon = (earliest - datetime.now(UTC)).total_seconds()
                wait = min(self.settings.tick, max(soon, 0.01))
        return claims, wait

    async def crawl(self, seed: Seed, claim: Claim) -> None:
        """One scheduled pass over one claimed seed, recorded in the metrics and the site
        status."""
        try:
            await self._crawl(seed, claim)
        finally:
            del self._claims[seed.id]
            task = asyncio.current_task()
            assert task is not None
            self._jobs.discard(task)
            if self._wake is not None:
                self._wake.set()

    async def _crawl(self, seed: Seed, claim: Claim) -> None:
        status = self.sites[seed.id]
        status.running = True
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        try:
            crawled = await loop.run_in_executor(self._pool, self._in_thread, seed, claim)
        except Exception as exc:
            seconds = time.monotonic() - started
            status.last_run = datetime.now(UTC)
            status.last_failure = mask(f"{type(exc).__name__}: {exc}")
            self.metrics.failed(seed.id, seconds)
            log.error("crawl of %s failed after %.1fs: %s", seed.id, seconds, status.last_failure)
            return
        finally:
            status.running = False
        if crawled is None:
            log.warning("crawl of %s skipped: another crawl holds the site", seed.id)
            return
        seconds = time.monotonic() - started
        stats = crawled.summary.sites[seed.id]
        now = datetime.now(UTC)
        # A pass counts as a success when every listing page it started from answered:
        # one broken notice page is an error to count, not a site that is down.
        listings_ok = not any(e.url in seed.listing_urls for e in crawled.errors)
        status.last_run = now
        status.last_errors = stats.errors
        status.last_failure = None
        if listings_ok:
            status.last_success = now
        self.metrics.finished(
            seed.id,
            stats,
            Counter(e.kind for e in crawled.errors),
            seconds,
            now.timestamp() if listings_ok else None,
        )
        log.info(
            "crawled %s in %.1fs: %s",
            seed.id,
            seconds,
            ", ".join(f"{k} {v}" for k, v in stats.as_dict().items() if v),
        )

    def _in_thread(self, seed: Seed, claim: Claim) -> Crawled | None:
        try:
            return asyncio.run(self._run(seed, claim))
        except asyncio.CancelledError:
            # Not the server loop's task that was cancelled: report it as this crawl's fate.
            raise CrawlCancelled(f"crawl of {seed.id} cancelled by the shutdown") from None

    async def _run(self, seed: Seed, claim: Claim) -> Crawled | None:
        task = asyncio.current_task()
        assert task is not None
        with self._lock:
            if self._stopping:
                self.store.release_claim(claim.token)
                raise asyncio.CancelledError
            self._inflight[seed.id] = (asyncio.get_running_loop(), task)
        try:
            return await crawl_claimed(self.store, self.settings, seed, claim, self.slots)
        finally:
            with self._lock:
                del self._inflight[seed.id]
