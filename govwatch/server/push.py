"""Push notifications inside the server: a loop that sends what the crawls found, and what
/healthz and /metrics say about deliveries.

The loop asks the store every POLL_SECONDS rather than being told by the crawls: events
written by any process (a worker, a `govwatch crawl`) are pushed, a retry comes due without
a crawl, and a restart picks up whatever was owed (store/deliveries.py keeps it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from govwatch.errors import GovwatchError
from govwatch.feeds.push import Notifier
from govwatch.store import Store
from govwatch.store.deliveries import target_states

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
STATUSES = ("sent", "pending", "retrying", "failed")


class PushLoop:
    """Runs `notifier` on the server's event loop, its work in the thread pool."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        # Nothing ends the loop but stop(): a task that died would push nothing until a
        # restart, and nobody would know.
        started = False
        while True:
            try:
                if not started:  # the database may be away at startup too
                    await run_in_threadpool(self.notifier.start)
                    started = True
                report = await run_in_threadpool(self.notifier.run)
                if report.sent:
                    log.info("pushed %d event(s)", report.sent)
            except GovwatchError as exc:  # the database away for a moment: try again
                log.error("push: %s", exc)
            except Exception:
                log.exception("push: unexpected error; trying again")
            await asyncio.sleep(POLL_SECONDS)


def push_health(store: Store) -> dict[str, Any]:
    """/healthz's `push`: failed (given up) and retrying deliveries, per target."""
    states = target_states(store)
    return {
        "failed": sum(s.failed for s in states),
        "retrying": sum(s.retrying for s in states),
        "targets": [
            {
                "target": s.label,
                "sent": s.sent,
                "pending": s.pending,
                "retrying": s.retrying,
                "failed": s.failed,
                "last_error": s.last_error,
            }
            for s in states
        ],
    }


class PushDeliveries(Collector):
    """`govwatch_push_deliveries{target,status}`, read from the store at each scrape, so
    sends by any process count."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "govwatch_push_deliveries",
            "Push deliveries by target (its URL, secrets masked) and status: sent, pending, "
            "retrying (pending after a failed attempt) and failed (given up; alert on it).",
            labels=["target", "status"],
        )
        try:
            states = target_states(self.store)
        except GovwatchError:
            return
        for state in states:
            for status in STATUSES:
                family.add_metric([state.label, status], float(getattr(state, status)))
        yield family
