"""Prometheus series of one server: what the scheduled crawls did, per site.

The series live in a registry of their own rather than prometheus_client's global one, so
two apps in one process (tests) never collide and /metrics shows only govwatch's series.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from crawler.engine import SiteStats

EVENT_KINDS = ("new", "revised", "removed", "restored")


class Metrics:
    def __init__(self, sites: Iterable[str]) -> None:
        self.registry = CollectorRegistry()
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
