"""A faithful local mirror of government notice sites, served over real HTTP.

Tests, the demo and the benchmark need sites that behave like the real ones —
listings paged by JavaScript or by POST-only proxies, JSON APIs that only read
`paramJson`, GBK pages, view counters that change the bytes of every view,
conditional requests answered 304 — without touching the network. Each `MirrorSite`
serves one CMS flow from a `ThreadingHTTPServer` on its own loopback address
(127.0.0.2, .3, …), so a crawler's per-host logic sees distinct hosts. Notices are
plain data: editing, adding or removing one changes what the next request gets.

    with demo_mirror() as mirror:
        for site in mirror.sites:
            print(site.name, site.entry_url)
        mirror.seed_files(Path("seeds-mirror"))
"""

from govwatch.demo.mirror.build import DEMO_SITES, Mirror, bench_mirror, demo_mirror, populate
from govwatch.demo.mirror.flows import FLOWS
from govwatch.demo.mirror.model import LogEntry, MirrorNotice, SiteStats
from govwatch.demo.mirror.site import MirrorSite
from govwatch.demo.mirror.texts import SeedText, load_seed_texts

__all__ = [
    "DEMO_SITES",
    "FLOWS",
    "LogEntry",
    "Mirror",
    "MirrorNotice",
    "MirrorSite",
    "SeedText",
    "SiteStats",
    "bench_mirror",
    "demo_mirror",
    "load_seed_texts",
    "populate",
]
