"""Push notifications inside the server: a loop that sends what the crawls found, and what
/healthz and /metrics say about it and about deliveries.

The loop asks the store every POLL_SECONDS rather than being told by the crawls: events
written by any process (a worker, a `govwatch crawl`) are pushed, a retry comes due without
a crawl, and a restart picks up whatever was owed (store/deliveries.py keeps it).
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
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
MAX_BACKOFF = 60.0
"""Seconds between two tries at most, after failures in a row (doubling from POLL_SECONDS)."""
STALE_AFTER = 300.0
"""Seconds without a whole run after which /healthz calls the loop `stalled` (503): a run
that hangs, or one that fails each time. Well above MAX_BACKOFF and a long send."""
STATUSES = ("sent", "pending", "retrying", "failed")
HEALTHY = ("starting", "running", "retrying")


class PushLoop:
    """Runs `notifier` on the server's event loop, its work in the thread pool, and says
    whether it is alive."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self._task: asyncio.Task[None] | None = None
        self._started_at = 0.0
        self.last_run: float | None = None
        """When the last whole run ended (Unix time)."""
        self.failures = 0
        """Runs in a row that raised."""
        self.last_error: str | None = None

    def start(self) -> None:
        self._started_at = time.time()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def state(self, now: float | None = None) -> str:
        """starting, running, retrying, stalled or stopped; the last two are unhealthy."""
        if self._task is None or self._task.done():
            return "stopped"
        now = time.time() if now is None else now
        if now - (self.last_run or self._started_at) > STALE_AFTER:
            return "stalled"
        if self.failures:
            return "retrying"
        return "running" if self.last_run is not None else "starting"

    def health(self) -> dict[str, Any]:
        """/healthz's `push.loop` and its neighbours; no secret in any of it."""
        last = self.last_run
        return {
            "loop": self.state(),
            "last_run": None if last is None else datetime.fromtimestamp(last, UTC).isoformat(),
            "failures_in_a_row": self.failures,
            "last_error": self.last_error,
        }

    async def _loop(self) -> None:
        # Nothing ends the loop but stop(): a task that died would push nothing until a
        # restart. Should it die anyway, state() says so and /healthz turns 503.
        started = False
        while True:
            try:
                if not started:  # the database may be away at startup too
                    await run_in_threadpool(self.notifier.start)
                    started = True
                report = await run_in_threadpool(self.notifier.run)
            except GovwatchError as exc:  # the database away for a while: try again
                self._failed(str(exc))
                log.error("push: %s; trying again in %.1fs", self.last_error, self._delay())
            except Exception as exc:  # a bug: say where, keep pushing what can be pushed
                self._failed(f"{type(exc).__name__}: {exc}")
                # Formatted here, not by log.exception: the text is masked like the rest.
                trace = self.notifier.mask("".join(traceback.format_exception(exc)))
                log.error("push: unexpected error; trying again in %.1fs\n%s", self._delay(), trace)
            else:
                self.last_run, self.failures, self.last_error = time.time(), 0, None
                if report.sent:
                    log.info("pushed %d event(s)", report.sent)
            await asyncio.sleep(self._delay())

    def _failed(self, error: str) -> None:
        self.failures += 1
        self.last_error = self.notifier.mask(error)

    def _delay(self) -> float:
        return min(POLL_SECONDS * 2.0 ** min(self.failures, 10), MAX_BACKOFF)


class PushLoopFigures(Collector):
    """`govwatch_push_loop_up` and `govwatch_push_loop_last_run_timestamp_seconds`."""

    def __init__(self, loop: PushLoop) -> None:
        self.loop = loop

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "govwatch_push_loop_up",
            "1 while the server's push loop runs (state starting, running or retrying), 0 "
            "when it stopped or has not finished a run for too long (alert on 0).",
        )
        up.add_metric([], 1.0 if self.loop.state() in HEALTHY else 0.0)
        yield up
        if self.loop.last_run is not None:
            last = GaugeMetricFamily(
                "govwatch_push_loop_last_run_timestamp_seconds",
                "When the push loop last finished a run (Unix time).",
            )
            last.add_metric([], self.loop.last_run)
            yield last


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
