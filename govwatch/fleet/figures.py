"""The fleet's figures: what `govwatch fleet` prints and `/metrics` exports.

Operators alert on `sites_overdue` and `max_overdue_seconds`: enabled sites past their due
time whose crawl has not started, and how late the earliest of them is. The queue's
figures (workers alive, crawl jobs waiting and running, the oldest waiting job) exist on
PostgreSQL only; on SQLite they are None.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from govwatch.errors import GovwatchError
from govwatch.fleet.jobs import CRAWL_QUEUE
from govwatch.settings import Settings
from govwatch.store import Store

QUEUE_WORKERS_PER_PROCESS = 2
"""procrastinate workers in one `govwatch worker` process: crawls, and control jobs."""


def fleet_figures(store: Store, settings: Settings) -> dict[str, Any]:
    overdue = store.overdue()
    queue = store.queue_figures(CRAWL_QUEUE, settings.stalled_after)
    figures: dict[str, Any] = {
        "workers_alive": None,
        "jobs_waiting": None,
        "jobs_running": None,
        "oldest_waiting_seconds": None,
        "sites_overdue": overdue.sites,
        "max_overdue_seconds": round(overdue.max_seconds, 1),
    }
    if queue is not None:
        figures |= {
            "workers_alive": math.ceil(queue.workers / QUEUE_WORKERS_PER_PROCESS),
            "jobs_waiting": queue.waiting,
            "jobs_running": queue.running,
            "oldest_waiting_seconds": (
                round(queue.oldest_waiting, 1) if queue.oldest_waiting is not None else None
            ),
        }
    return figures


HELP = {
    "sites_overdue": "Enabled sites past their due time whose crawl has not started; alert "
    "when it stays above 0.",
    "max_overdue_seconds": "How late the most overdue site is (seconds); alert on it.",
    "workers_alive": "govwatch worker processes that beat within stalled_after.",
    "jobs_waiting": "Crawl jobs waiting in the queue.",
    "jobs_running": "Crawl jobs running.",
    "oldest_waiting_seconds": "How long the oldest waiting crawl job has waited (seconds).",
}


class FleetCollector(Collector):
    """The fleet's figures as govwatch_fleet_* gauges, read from the store at each scrape,
    so any server shows the whole fleet's state; the queue's only on PostgreSQL."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        try:
            figures = fleet_figures(self.store, self.settings)
        except GovwatchError:
            return  # /healthz says the database is down; the other series still render
        for key, value in figures.items():
            if value is not None:
                yield GaugeMetricFamily(f"govwatch_fleet_{key}", HELP[key], value=float(value))
