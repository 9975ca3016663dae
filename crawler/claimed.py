"""One scheduled crawl of one claimed site: the same code under `serve` and in a worker.

The claim comes from the store's schedule (store/schedule.py). The crawl marks it started,
runs the ordinary crawl pass over the one seed, and finishes the claim, which frees the
site and sets when it is due next; a crawl that raised puts the site off by a backoff, and
one that was cancelled frees it due at once. A claim that is no longer the crawl's own (it
was reaped while the crawl waited) means another crawl holds the site: nothing is crawled.
The crawl writes through the store fenced by its claim (store/schedule.py), so a crawl
reaped while it ran (its worker taken for dead) stops at its next write, having written
nothing after the reaping.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from govwatch.crawler.engine import Crawler, RunSummary
from govwatch.crawler.fetch import Clients
from govwatch.crawler.politeness import SlotBook
from govwatch.crawler.seeds import Seed
from govwatch.settings import Settings
from govwatch.store import ErrorRow, Store
from govwatch.store.schedule import Claim, ClaimLost, SitePlan


@dataclass(frozen=True)
class Crawled:
    """What a claimed crawl did: the pass's summary and the errors it recorded."""

    summary: RunSummary
    errors: list[ErrorRow]


def plan_of(seed: Seed) -> SitePlan:
    """The seed as the schedule keeps it."""
    return SitePlan(
        seed.id,
        seed.name,
        seed.parser,
        list(seed.topics),
        seed.interval.total_seconds(),
        seed.enabled,
    )


async def crawl_claimed(
    store: Store,
    settings: Settings,
    seed: Seed,
    claim: Claim,
    slots: SlotBook,
    clients: Clients | None = None,
) -> Crawled | None:
    """Crawl the claimed site once; None when the claim was lost, before the crawl began or
    while it ran (it stopped at its first write after that). `clients`: open HTTP clients
    to reuse, else the crawl opens its own."""
    if not store.claim_started(claim):
        return None
    crawler = Crawler(store.fenced(claim), settings, slots=slots, clients=clients)
    try:
        summary = await crawler.run([seed])
    except ClaimLost:
        return None
    except asyncio.CancelledError:
        store.release_claim(claim.token)
        raise
    except Exception:
        store.finish_claim(claim, failed=True)
        raise
    store.finish_claim(claim, failed=False, jitter=settings.jitter)
    return Crawled(summary, store.errors(summary.run_id))
