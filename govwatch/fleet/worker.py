"""One `govwatch worker` process: the seeds into the store, then procrastinate's workers.

Two procrastinate workers share the process: one runs up to `concurrency` crawl jobs, the
other the control jobs (tick, purge) one at a time, so a worker busy crawling never holds
up the tick that reaps and claims. Crawls run in threads (procrastinate runs a synchronous
task in one), the event loop keeps the heartbeats going.

Stopping: the first SIGTERM or Ctrl-C takes no new job and waits up to `shutdown_timeout`
for the running crawls; a second one, or that timeout, ends the process at once. Nothing
is lost either way: a crawl cut short is reaped by the fleet and crawled again (jobs.py).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import procrastinate
from procrastinate.worker import Worker

from govwatch.crawler.claimed import plan_of
from govwatch.crawler.seeds import Seed
from govwatch.errors import ConfigError
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
        await asyncio.gather(*(worker.run() for worker in workers))  # type: ignore[no-untyped-call]
    return 0


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
