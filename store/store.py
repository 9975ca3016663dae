"""The versioned store of notices: what was listed, every version of every page, and events.

One class made of parts, each a module that says what it holds: core (opening,
transactions and their retries), runs (the crawl's bookkeeping), writes (what the crawler
records about notices), reextract (newer parsers' records of stored pages), health (each
crawl's health of each site), reads (history, events, feed queries) and schedule (when
sites are due, which crawl holds them, per-host request slots). Mixins rather than
separate objects reached from the store: every caller keeps the one handle and method
names it has, and each part shares the core's engine, clock and retry policy.
"""

from __future__ import annotations

from govwatch.store.attachments import Attachments
from govwatch.store.core import StoreCore
from govwatch.store.health import SiteHealth
from govwatch.store.reads import Reads
from govwatch.store.reextract import Reextraction
from govwatch.store.runs import Runs
from govwatch.store.schedule import Schedule
from govwatch.store.search import Search
from govwatch.store.writes import NoticeWrites


class Store(
    Runs, Attachments, NoticeWrites, Reextraction, SiteHealth, Reads, Schedule, Search, StoreCore
):
    """A database of sites, notices, their versions and events; open with `Store.open`."""
