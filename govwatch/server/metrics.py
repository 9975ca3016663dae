"""Prometheus series of one server: what the scheduled crawls did, per site.

The series live in a registry of their own rather than prometheus_client's global one, so
two apps in one process (tests) never collide and /metrics shows only govwatch's series.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from govwatch.crawler.engine import SiteStats
from govwatch.errors import GovwatchError
from govwatch.store import Store

EVENT_KINDS = ("new", "revised", "removed", "restored")


HEALTH_STATUSES = ("ok", "empty", "layout_change", "unreachable")


class SiteHealth(Collector):
    """Each site's health at its last crawl, read from the store at each scrape: crawls by
    any process count (`govwatch crawl`, the scheduler), and a restart loses nothing."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        status = GaugeMetricFamily(
            "govwatch_site_health",
            "1 for the site's health at its last crawl (layout_change: its listing or its "
            "notices stopped yielding what they did; alert on it), 0 for the others.",
            labels=["site", "status"],
        )
        figures = {
            key: GaugeMetricFamily(f"govwatch_site_{key}", help, labels=["site"])
            for key, help in (
                ("listing_items", "Items the site's listing pages listed at its last crawl."),
                ("notices_read", "Notice pages read in full at the site's last crawl."),
                ("with_body", "Of those, notices with a body."),
                ("with_meta", "Of those, notices with 信息公开 metadata."),
            )
        }
        try:
            health = self.store.latest_health()
        except GovwatchError:
            return  # /healthz says the database is down; the other series still render
        for site, row in health.items():
            for name in HEALTH_STATUSES:
                status.add_metric([site, name], 1.0 if row.status == name else 0.0)
            for key, family in figures.items():
                family.add_metric([site], float(getattr(row.yielded, key)))
        yield status
        yield from figures.values()


class Metrics:
    def __init__(self, sites: Iterable[str], store: Store | None = None) -> None:
        self.registry = CollectorRegistry()
        if store is not None:
            self.registry.register(SiteHealth(store))
        self.crawls = Counter(
            "govwatch_crawls",
            "Scheduled crawl passes by site and result (ok: the pass finished; failed: it "
            "raised before finishing).",
            ["site", "result"],
            registry=self.registry,
        )
        self.errors = Counter(
            "govwatch_crawl_errors",
            "URLs that could not be fetched or read in scheduled crawls, by site and kind.",
            ["site", "kind"],
            registry=self.registry,
        )
        self.events = Counter(
            "govwatch_events",
            "Events written to the store by scheduled crawls, by site and kind.",
            ["site", "kind"],
            registry=self.registry,
        )
        self.last_success = Gauge(
            "govwatch_last_success_timestamp_seconds",
            "When a scheduled crawl of the site last read all its listing pages (Unix time).",
            ["site"],
            registry=self.registry,
        )
        self.duration = Gauge(
            "govwatch_crawl_duration_seconds",
            "How long the site's last scheduled crawl took.",
            ["site"],
            registry=self.registry,
        )
        # Series exist from the start, at 0, so rate() and absent() work before the first run.
        for site in sites:
            for result in ("ok", "failed"):
                self.crawls.labels(site, result)
            for kind in EVENT_KINDS:
                self.events.labels(site, kind)

    def finished(
        self,
        site: str,
        stats: SiteStats,
        error_kinds: Tally[str],
        seconds: float,
        success_at: float | None,
    ) -> None:
        """Count one finished pass; `success_at` is set when it read its listings."""
        self.crawls.labels(site, "ok").inc()
        for kind in EVENT_KINDS:
            self.events.labels(site, kind).inc(getattr(stats, kind))
        for kind, count in error_kinds.items():
            self.errors.labels(site, kind).inc(count)
        self.duration.labels(site).set(seconds)
        if success_at is not None:
            self.last_success.labels(site).set(success_at)

    def failed(self, site: str, seconds: float) -> None:
        """A pass that raised (the database went away, a bug): counted, kind `crawl`."""
        self.crawls.labels(site, "failed").inc()
        self.errors.labels(site, "crawl").inc()
        self.duration.labels(site).set(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
