"""One `govwatch worker` process: the seeds into the store, then procrastinate's workers.

Two procrastinate workers share the process: one runs up to `concurrency` crawl jobs, the
other the control jobs (tick, purge) one at a time, so a worker busy crawling never holds
up the tick that reaps and claims. Crawls run in threads (procrastinate runs a synchronous
task in one), the event loop keeps the heartbeats going.

Stopping: the first SIGTERM or Ctrl-C takes no new job and waits up to `shutdown_timeout`
for the running crawls; a second one, or that timeout, ends the process at once. Nothing
is lost either way: a crawl cut short is reaped by the fleet and crawled again (jobs.py).

Taken for dead: the fleet reaps a worker's crawls `stalled_after` seconds after its last
heartbeat. A worker that could not beat for `stalled_after - heartbeat` seconds (the
database out of reach, the process paused) abandons its running crawls, which would now
run beside their successors; their fenced writes stop any that gets further (jobs.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import procrastinate
from procrastinate.worker import Worker

from govwatch.crawler.claimed import plan_of
from govwatch.crawler.seeds import Seed
from govwatch.errors import ConfigError, GovwatchError
from govwatch.feeds.push import Notifier
from govwatch.fleet.jobs import CONTROL_QUEUE, CRAWL_QUEUE, Fleet, make_app
from govwatch.settings import Settings
from govwatch.store import Store

log = logging.getLogger(__name__)


def run(
    store: Store,
    seeds: Sequence[Seed],
    settings: Settings,
    concurrency: int,
    notifier: Notifier | None = None,
) -> int:
    """Work until stopped; returns the exit status (0 after a clean stop, 128 + the
    signal after a stop now). With `notifier`, the fleet's tick pushes the events."""
    conninfo = store.queue_conninfo()
    if conninfo is None:
        raise ConfigError(
            "govwatch worker needs PostgreSQL (--db postgresql://…): the job queue lives "
            "there; on SQLite `govwatch serve` crawls in-process"
        )
    if not settings.heartbeat < settings.stalled_after:
        raise ConfigError("GOVWATCH_HEARTBEAT must be shorter than GOVWATCH_STALLED_AFTER")
    store.plan_sites([plan_of(seed) for seed in seeds])
    if notifier is not None:
        notifier.start()
    fleet = Fleet(store, {seed.id: seed for seed in seeds}, settings, conninfo, notifier)
    return asyncio.run(_work(fleet, concurrency))


async def _work(fleet: Fleet, concurrency: int) -> int:
    loop = asyncio.get_running_loop()
    # Crawl jobs and the tick's store calls run in threads: one per crawl, and spares.
    loop.set_default_executor(ThreadPoolExecutor(concurrency + 2, "govwatch-worker"))
    app = make_app(fleet)
    settings = fleet.settings
    async with app.open_async():
        workers = [
            _worker(app, CRAWL_QUEUE, concurrency, settings),
            _worker(app, CONTROL_QUEUE, 1, settings),
        ]
        stopping = False

        def stop(sig: signal.Signals) -> None:
            nonlocal stopping
            if stopping:
                log.warning("stopping now")
                os._exit(128 + sig)
            stopping = True
            log.warning("stopping: running crawls finish (%s again to stop now)", sig.name)
            for worker in workers:
                worker.stop()  # type: ignore[no-untyped-call]  # procrastinate's, unannotated
            loop.call_later(settings.shutdown_timeout, give_up)

        def give_up() -> None:
            log.warning("crawls still running after %ss: stopping now", settings.shutdown_timeout)
            os._exit(0)

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop, sig)
        log.info(
            "worker: %d seed(s), up to %d crawls at once on %s",
            len(fleet.seeds),
            concurrency,
            fleet.store.name,
        )
        watch = asyncio.create_task(_watch_beats(fleet, workers[0]), name="beats")
        try:
            await asyncio.gather(*(worker.run() for worker in workers))  # type: ignore[no-untyped-call]
        finally:
            watch.cancel()
    return 0


async def _watch_beats(fleet: Fleet, worker: Worker) -> None:
    """Abandon the running crawls whenever the crawl worker's heartbeat went unconfirmed
    for `stalled_after - heartbeat` seconds, or the queue has forgotten the worker: the
    fleet may have given its sites to other workers by now."""
    settings = fleet.settings
    limit = settings.stalled_after - settings.heartbeat
    confirmed = time.monotonic()
    while True:
        await asyncio.sleep(settings.heartbeat)
        if worker.worker_id is None:  # not registered yet, or stopped
            confirmed = time.monotonic()
            continue
        try:
            age = await asyncio.to_thread(fleet.store.beat_age, worker.worker_id)
        except GovwatchError:
            continue  # the database is out of reach: nothing confirmed
        now = time.monotonic()
        # Judged on the beats confirmed before this look: after a pause the worker beats
        # again at once, but its sites may be another's already.
        if now - confirmed > limit or age is None:
            abandoned = fleet.threads.abandon()
            if abandoned:
                log.warning(
                    "heartbeat unconfirmed for %.0fs: abandoned %d crawl(s), which the fleet "
                    "may have given to other workers",
                    now - confirmed,
                    abandoned,
                )
        if age is not None:
            confirmed = max(confirmed, now - age)


def _worker(app: procrastinate.App, queue: str, concurrency: int, settings: Settings) -> Worker:
    return Worker(
        app,
        queues=[queue],
        name=queue,
        concurrency=concurrency,
        install_signal_handlers=False,
        update_heartbeat_interval=settings.heartbeat,
        stalled_worker_timeout=settings.stalled_after,
    )
