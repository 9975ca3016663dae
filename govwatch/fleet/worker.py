"""One `govwatch worker` process: the seeds into the store, then procrastinate's workers.

Two procrastinate workers share the process: one runs up to `concurrency` crawl jobs, the
other the control jobs (tick, purge) one at a time, so a worker busy crawling never holds
up the tick that reaps and claims. Crawls run in threads (procrastinate runs a synchronous
task in one), the event loop keeps the heartbeats going. With topics that notify, the
process pushes their events in a loop of its own, as `serve` does (govwatch/server/push.py:
the targets registered and tried again with backoff while the database is away, what is
owed sent every few seconds); a slow push holds up neither the crawls nor the tick. Every
worker pushes; the store's claims send each (event, target) once (feeds/push.py).

Stopping: the first SIGTERM or Ctrl-C takes no new job and waits up to `shutdown_timeout`
for the running crawls; a second one, or that timeout, ends the process at once. Nothing
is lost either way: a crawl cut short is reaped by the fleet and crawled again (jobs.py).

Taken for dead: the fleet reaps a worker's crawls `stalled_after` seconds after its last
heartbeat. A worker that could not beat for `stalled_after - heartbeat` seconds (the
database out of reach, the process paused) abandons its running crawls, which would now
run beside their successors; their fenced writes stop any that gets further (jobs.py).
One that could not beat for `stalled_after` seconds, or that the queue has forgotten,
exits with EXIT_RESTART after one line saying why, for its supervisor (systemd, compose)
to start it afresh: cut off from the database it would only sit there, its sites crawled
by others. A shorter break it rides out: procrastinate stops a queue worker whose listener
or heartbeat failed, and the process starts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import procrastinate
from procrastinate.worker import Worker

from govwatch.crawler.claimed import plan_of
from govwatch.crawler.seeds import Seed
from govwatch.errors import ConfigError, GovwatchError
from govwatch.feeds.push import Notifier
from govwatch.fleet.jobs import CONTROL_QUEUE, CRAWL_QUEUE, Fleet, make_app
from govwatch.server.push import PushLoop
from govwatch.settings import Settings
from govwatch.store import Store

log = logging.getLogger(__name__)

EXIT_RESTART = 75
"""Exit status of a worker the fleet took for dead (sysexits' EX_TEMPFAIL): not a clean
stop, so `Restart=on-failure` and compose's `restart:` start it again."""
EXIT_GRACE = 5.0
"""Seconds a worker that must restart gives its queue workers to stop before it exits
anyway: with the database out of reach their goodbye may never come back."""


def run(
    store: Store,
    seeds: Sequence[Seed],
    settings: Settings,
    concurrency: int,
    notifier: Notifier | None = None,
) -> int:
    """Work until stopped; returns the exit status (0 after a clean stop, 128 + the
    signal after a stop now, EXIT_RESTART when taken for dead). With `notifier`, the
    process pushes the events."""
    conninfo = store.queue_conninfo()
    if conninfo is None:
        raise ConfigError(
            "govwatch worker needs PostgreSQL (--db postgresql://…): the job queue lives "
            "there; on SQLite `govwatch serve` crawls in-process"
        )
    if not settings.heartbeat < settings.stalled_after:
        raise ConfigError("GOVWATCH_HEARTBEAT must be shorter than GOVWATCH_STALLED_AFTER")
    store.plan_sites([plan_of(seed) for seed in seeds])
    fleet = Fleet(store, {seed.id: seed for seed in seeds}, settings, conninfo)
    return asyncio.run(_work(fleet, concurrency, notifier))


async def _work(fleet: Fleet, concurrency: int, notifier: Notifier | None) -> int:
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
        status = 0

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

        def restart(why: str) -> None:
            nonlocal stopping, status
            if stopping:
                return
            stopping, status = True, EXIT_RESTART
            log.error(
                "%s; abandoned %d crawl(s); exiting with status %d for the supervisor to "
                "start this worker again",
                why,
                fleet.threads.abandon(),
                EXIT_RESTART,
            )
            for worker in workers:
                worker.stop()  # type: ignore[no-untyped-call]
            loop.call_later(EXIT_GRACE, os._exit, EXIT_RESTART)

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop, sig)
        log.info(
            "worker: %d seed(s), up to %d crawls at once on %s",
            len(fleet.seeds),
            concurrency,
            fleet.store.name,
        )
        pushes = PushLoop(notifier) if notifier is not None else None
        if pushes is not None:
            pushes.start()
        watch = asyncio.create_task(
            _watch_beats(fleet, workers[0], lambda: stopping, restart), name="beats"
        )

        async def keep(worker: Worker, queue: str) -> None:
            """Run the queue worker until the process stops. procrastinate stops one on its
            own when a side task of it failed (its heartbeat, its listener: the database
            went away for a moment); it is started again after a pause doubling up to
            stalled_after. Gone for longer, it beats no more and the watch restarts the
            process."""
            pause = settings.heartbeat
            while not stopping:
                try:
                    await worker.run()  # type: ignore[no-untyped-call]
                    why = ""
                except Exception as exc:
                    why = f" ({type(exc).__name__}: {exc})"
                if stopping:
                    return
                log.warning(
                    "the %s queue's worker stopped%s: starting it again in %.0fs", queue, why, pause
                )
                await asyncio.sleep(pause)
                pause = min(2 * pause, settings.stalled_after)

        try:
            await asyncio.gather(keep(workers[0], CRAWL_QUEUE), keep(workers[1], CONTROL_QUEUE))
        finally:
            watch.cancel()
            if pushes is not None:
                await pushes.stop()
    return status


async def _watch_beats(
    fleet: Fleet, worker: Worker, stopping: Callable[[], bool], restart: Callable[[str], None]
) -> None:
    """Abandon the running crawls whenever the crawl worker's heartbeat went unconfirmed
    for `stalled_after - heartbeat` seconds: the fleet may give its sites to other workers
    soon. `restart` the worker once it went unconfirmed for `stalled_after` seconds (the
    fleet takes it for dead), or the queue has forgotten it. A look at the queue that hangs
    (the database unreachable, not refusing) confirms nothing; the next starts once it has
    come back, so hung looks never pile up in threads."""
    settings = fleet.settings
    limit = settings.stalled_after - settings.heartbeat
    confirmed = time.monotonic()
    registered = False
    look: asyncio.Task[float | None] | None = None
    asked = None  # the queue worker `look` asks about
    while True:
        await asyncio.sleep(settings.heartbeat)
        worker_id = worker.worker_id
        if stopping() or (worker_id is None and not registered):  # stopped, not yet started
            confirmed = time.monotonic()
            continue
        registered = True
        if look is None and worker_id is not None:  # else between two runs: no beats
            asked = worker_id
            look = asyncio.create_task(asyncio.to_thread(fleet.store.beat_age, worker_id))
            await asyncio.wait([look], timeout=settings.heartbeat)
        known, age = False, None
        if look is not None and look.done():
            with contextlib.suppress(GovwatchError):  # out of reach: nothing confirmed
                age, known = look.result(), True
            look = None
        now = time.monotonic()
        forgotten = known and age is None and worker.worker_id == asked and not stopping()
        if forgotten or now - confirmed > settings.stalled_after:
            restart(
                "the job queue has forgotten this worker"
                if forgotten
                else f"heartbeat unconfirmed for {now - confirmed:.0f}s, longer than "
                f"stalled_after ({settings.stalled_after:g}s): the fleet takes this worker for dead"
            )
            return
        # Judged on the beats confirmed before this look: after a pause the worker beats
        # again at once, but its sites may be another's already.
        if now - confirmed > limit:
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
