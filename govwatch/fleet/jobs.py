"""The fleet's jobs on procrastinate: the tick that reaps and claims, the crawl, the purge.

- `govwatch.tick` (queue govwatch-control): every `tick` seconds through `@app.periodic`,
  which defers each tick once across all workers. It reaps, then claims: crawl jobs whose
  worker has not beaten for `stalled_after` seconds (get_stalled_jobs) are marked failed,
  the claims no live job holds any more are freed, due at once, and then the due sites are
  claimed and one crawl job per site is deferred on the claiming transaction's connection,
  so a claim and its job commit together.
- `govwatch.crawl` (queue govwatch-crawl, `lock=` and `queueing_lock=` the site id: one
  crawl of a site running and one waiting at most): the claimed crawl `serve` runs too
  (crawler/claimed.py), in a thread of its own so the worker's heartbeat never waits on
  it. Each crawl thread keeps its event loop and HTTP clients (connection pools, TLS
  context) from one job to the next (CrawlThreads): a job costs its crawl, not a client's
  setup. Never procrastinate's `retry=`: retrying a job whose site already has a waiting
  one is a unique violation; a site that failed backs off through its next due time.
- `govwatch.purge` (hourly): finished jobs older than PURGE_AFTER_HOURS are deleted.

A worker killed mid-crawl: its last heartbeat is at most `heartbeat` seconds old; its job
counts as stalled `stalled_after` seconds after that beat, and the next tick (at most
`tick` seconds, plus procrastinate's half-second margin, later) reaps it and defers the
site's crawl anew, which a live worker with a free slot starts at once. So the site's
crawl is queued again within stalled_after + tick + 1 seconds of the kill (26 s by
default), and starts then unless every worker is busy (it waits its turn). The
store's writes are idempotent and unique per notice, version and event, so the crawl
that was cut short and the one that redoes it never store anything twice.

A worker that is alive but was taken for dead (cut off from the database, paused for
longer than `stalled_after`) must not crawl beside the crawl that replaced its own: its
crawls write through the store fenced by their claims, so each stops at its first write
after the reaping, and the worker abandons (cancels) its running crawls as soon as it sees
its heartbeat was not confirmed in time (govwatch/fleet/worker.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import procrastinate
import sqlalchemy as sa
from procrastinate.exceptions import AlreadyEnqueued, ProcrastinateException
from procrastinate.jobs import Status
from procrastinate.manager import JobManager

from govwatch.crawler.claimed import crawl_claimed
from govwatch.crawler.fetch import Clients
from govwatch.crawler.politeness import SlotBook, slot_book
from govwatch.crawler.seeds import Seed
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.schedule import Claim

log = logging.getLogger(__name__)

CRAWL_QUEUE = "govwatch-crawl"
CONTROL_QUEUE = "govwatch-control"
CRAWL_TASK = "govwatch.crawl"
TICK_TASK = "govwatch.tick"
PURGE_TASK = "govwatch.purge"
CLAIMS_PER_TICK = 500
"""Sites one tick claims at most, to keep its transaction short; the next takes the rest."""
PURGE_AFTER_HOURS = 24
"""Finished jobs are kept this long, for `govwatch fleet` and procrastinate's tools."""

T = TypeVar("T")


class CrawlThreads:
    """What each crawl thread of a worker keeps across its jobs: an event loop and the HTTP
    clients on it. A crawl running in one can be abandoned from any thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._local = threading.local()
        self._lock = threading.Lock()
        self._running: set[tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = set()

    def run(self, crawl: Callable[[Clients], Coroutine[Any, Any, T]]) -> T:
        """Run `crawl(clients)` on this thread's loop; the tasks it leaves behind (siblings
        of a failed gather) are cancelled before the next job starts."""
        local = self._local
        if not hasattr(local, "loop"):
            local.loop = asyncio.new_event_loop()
            local.clients = Clients(self.settings)
        loop: asyncio.AbstractEventLoop = local.loop
        task = loop.create_task(crawl(local.clients))
        entry = (loop, task)
        with self._lock:
            self._running.add(entry)
        try:
            return loop.run_until_complete(task)
        finally:
            with self._lock:
                self._running.discard(entry)
            left = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for stray in left:
                stray.cancel()
            if left:
                loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))

    def abandon(self) -> int:
        """Cancel every running crawl; returns how many there were."""
        with self._lock:
            running = list(self._running)
        for loop, task in running:
            loop.call_soon_threadsafe(task.cancel)
        return len(running)


@dataclass
class Fleet:
    """What a worker's jobs need: the store, the seeds by id, the settings."""

    store: Store
    seeds: dict[str, Seed]
    settings: Settings
    conninfo: str
    slots: SlotBook = field(init=False)
    threads: CrawlThreads = field(init=False)

    def __post_init__(self) -> None:
        self.slots = slot_book(self.store)
        self.threads = CrawlThreads(self.settings)


def make_app(fleet: Fleet) -> procrastinate.App:
    """The procrastinate app of one worker process, its tasks bound to `fleet`."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=fleet.conninfo))
    # Deferring on the claiming transaction's own (synchronous) connection.
    deferrer = JobManager(procrastinate.SyncPsycopgConnector(conninfo=fleet.conninfo))
    settings = fleet.settings

    @app.task(name=CRAWL_TASK, queue=CRAWL_QUEUE)
    def crawl(site_id: str, token: str, claimed_at: str, interval: float) -> None:
        claim = Claim(site_id, token, datetime.fromisoformat(claimed_at), interval)
        seed = fleet.seeds.get(site_id)
        if seed is None:
            # A worker started from another seeds file: the site waits for one that has it.
            log.error("site %s is not among this worker's seeds: put off", site_id)
            fleet.store.finish_claim(claim, failed=True)
            return
        try:
            crawled = fleet.threads.run(
                lambda clients: crawl_claimed(
                    fleet.store, settings, seed, claim, fleet.slots, clients
                )
            )
        except asyncio.CancelledError:
            log.warning("crawl of %s abandoned", site_id)
            return
        if crawled is None:
            log.warning("crawl of %s stopped: another crawl holds the site", site_id)
            return
        stats = crawled.summary.sites[site_id]
        log.info(
            "crawled %s: %s",
            site_id,
            ", ".join(f"{k} {v}" for k, v in stats.as_dict().items() if v) or "nothing new",
        )

    def dispatch(conn: sa.Connection, claims: list[Claim]) -> None:
        raw = conn.connection.driver_connection
        for claim in claims:
            job = procrastinate.tasks.configure_task(
                name=CRAWL_TASK,
                job_manager=deferrer,
                queue=CRAWL_QUEUE,
                lock=claim.site_id,
                queueing_lock=claim.site_id,
                connection=raw,
            )
            try:
                with conn.begin_nested():
                    job.defer(**_kwargs(claim))
            except AlreadyEnqueued:
                # A job of an older claim still waits: it will find its claim gone and
                # end, and the orphan sweep then frees the site for the next tick.
                log.warning("site %s already has a crawl waiting", claim.site_id)

    @app.periodic(cron=f"* * * * * */{max(1, round(settings.tick))}", periodic_id="tick")
    @app.task(name=TICK_TASK, queue=CONTROL_QUEUE, queueing_lock=TICK_TASK)
    async def tick(timestamp: int) -> None:
        await reap(app, fleet)
        claims = await asyncio.to_thread(
            fleet.store.claim_due, CLAIMS_PER_TICK, dispatch=dispatch, only=list(fleet.seeds)
        )
        if claims:
            log.info("claimed %d due site(s)", len(claims))

    @app.periodic(cron="17 * * * *", periodic_id="purge")
    @app.task(name=PURGE_TASK, queue=CONTROL_QUEUE, queueing_lock=PURGE_TASK)
    async def purge(timestamp: int) -> None:
        await app.job_manager.delete_old_jobs(
            nb_hours=PURGE_AFTER_HOURS,
            include_failed=True,
            include_cancelled=True,
            include_aborted=True,
        )

    return app


async def reap(app: procrastinate.App, fleet: Fleet) -> list[str]:
    """Fail the jobs of workers that stopped beating and free the claims no live job holds;
    returns the sites freed."""
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=fleet.settings.stalled_after
    )
    for job in stalled:
        assert job.id is not None
        try:
            await app.job_manager.finish_job_by_id_async(
                job_id=job.id, status=Status.FAILED, delete_job=False
            )
        except ProcrastinateException as exc:  # finished meanwhile
            log.info("stalled job %s: %s", job.id, exc)
    freed = await asyncio.to_thread(fleet.store.release_orphans, CRAWL_TASK)
    if freed:
        log.warning("reaped the crawls of %s: due again", ", ".join(sorted(freed)))
    return freed


def _kwargs(claim: Claim) -> dict[str, Any]:
    return {
        "site_id": claim.site_id,
        "token": claim.token,
        "claimed_at": claim.claimed_at.isoformat(),
        "interval": claim.interval,
    }
