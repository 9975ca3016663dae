"""One crawl pass: fetch → parse → compare → store, for each seed.

For every seed: follow its listing pages (up to max_pages, stopping early once a
page lists only notices the store knows), then fetch the notices that are new or
due for a revisit, and hand each outcome to the store. Errors of any kind are
recorded per URL with their kind, counted and listed in the summary; they never become
versions, never count towards a removal (only a 404/410 does) and never abort the pass. An
anti-bot challenge is recognised whatever its status, and a 200 page that only says the
page does not exist (a soft 404) is an error too. A 304 costs no parse and no write.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from functools import partial

import httpx

from govwatch.crawler.attachments import NoticeFiles, make_sandbox
from govwatch.crawler.fetch import Clients, Response
from govwatch.crawler.health import Health, assess
from govwatch.crawler.offload import Offload
from govwatch.crawler.pages import PageFailure, SiteFetcher
from govwatch.crawler.politeness import Gates, SlotBook, slot_book
from govwatch.crawler.proxy import proxy_for
from govwatch.crawler.render import Renderer, shared_renderer
from govwatch.crawler.reparse import reclean
from govwatch.crawler.seeds import Seed
from govwatch.parsers import Page
from govwatch.parsers.records import CHINA_TZ, ListingItem
from govwatch.parsers.registry import version
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.rows import Outcome, SiteYield


@dataclass
class SiteStats(SiteYield):
    new: int = 0
    revised: int = 0
    removed: int = 0
    restored: int = 0
    unchanged: int = 0
    errors: int = 0
    requests: int = 0
    bytes: int = 0
    not_modified: int = 0
    listing_pages: int = 0
    # Unchanged notices whose record a newer parser made anew from the same page.
    reextracted: int = 0

    def yielded(self) -> SiteYield:
        """What the site yielded, for its health (crawler/health.py)."""
        return SiteYield(**{f.name: getattr(self, f.name) for f in fields(SiteYield)})

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Failure:
    """A URL of a site that failed in this run, and why."""

    site: str
    url: str
    kind: str
    message: str


@dataclass
class RunSummary:
    run_id: int
    sites: dict[str, SiteStats] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    health: dict[str, Health] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    """Site id → the name its seed gives it, which the table shows."""


@dataclass(frozen=True)
class Progress:
    """Where a pass is: `done` of the `planned` requests (the plan grows as listings
    reveal notices), and what was just done."""

    done: int
    planned: int
    site: str
    what: str


ProgressFn = Callable[[Progress], None]


class Crawler:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        progress: ProgressFn | None = None,
        *,
        slots: SlotBook | None = None,
        clients: Clients | None = None,
    ) -> None:
        """`slots`: the hosts' request slots, when other crawls share them (a server's
        crawls); else the store's book (slot_book: shared on PostgreSQL, the pass's own on
        SQLite). `clients`: open HTTP clients to reuse (a worker's, across its crawls);
        else the pass opens its own."""
        self.store = store
        self.settings = settings
        self.on_progress = progress
        self.slots = slots if slots is not None else slot_book(store)
        self.clients = clients
        self.done = 0
        self.planned = 0

    def plan(self, requests: int) -> None:
        self.planned += requests

    def progress(self, site: str, what: str) -> None:
        """One planned request is under way."""
        self.done += 1
        if self.on_progress is not None:
            self.on_progress(Progress(self.done, max(self.planned, self.done), site, what))

    async def run(self, seeds: list[Seed]) -> RunSummary:
        run_id = self.store.start_run([s.id for s in seeds])
        summary = RunSummary(run_id, names={s.id: s.name for s in seeds})
        gates = Gates(self.settings.concurrency, self.settings.host_concurrency, self.slots)
        async with AsyncExitStack() as stack:
            clients = self.clients
            if clients is None:
                clients = await stack.enter_async_context(Clients(self.settings))
            renderer = await stack.enter_async_context(shared_renderer(self.settings))
            work = stack.enter_context(Offload())
            await asyncio.gather(
                *[
                    self._site(
                        await clients.get(proxy_for(self.settings, seed.proxy)),
                        gates,
                        renderer,
                        work,
                        seed,
                        summary,
                    )
                    for seed in seeds
                ]
            )
        self.store.finish_run(
            run_id, {site: stats.as_dict() for site, stats in summary.sites.items()}
        )
        return summary

    async def _site(
        self,
        client: httpx.AsyncClient,
        gates: Gates,
        renderer: Renderer,
        work: Offload,
        seed: Seed,
        summary: RunSummary,
    ) -> None:
        """One seed's crawl; its parsing and store calls go through `work` (offload.py)."""
        stats = summary.sites.setdefault(seed.id, SiteStats())
        await work(self.store.upsert_site, seed.id, seed.name, seed.parser, list(seed.topics))
        baselining = seed.baseline and not await work(self.store.baselined, seed.id)
        site = _SiteCrawl(self, client, gates, renderer, work, seed, stats, summary, baselining)
        fresh = await site.listings()
        due = await work(
            self.store.revisit_due,
            seed.id,
            datetime.now(UTC),
            recent_days=seed.revisit.recent_days,
            old_every=seed.revisit.old_every,
        )
        targets = list(dict.fromkeys([*fresh, *due]))
        self.plan(len(targets))
        await asyncio.gather(*(site.notice(url) for url in targets))
        if site.baselining and site.walk_complete:
            await work(self.store.finish_baseline, seed.id)
        healthy = await work(self.store.healthy_yields, seed.id)
        yielded = stats.yielded()
        health = summary.health[seed.id] = assess(yielded, healthy, site.listing_kinds)
        await work(
            self.store.record_health,
            summary.run_id,
            seed.id,
            health.status,
            health.message,
            yielded,
        )


class _SiteCrawl:
    def __init__(
        self,
        crawler: Crawler,
        client: httpx.AsyncClient,
        gates: Gates,
        renderer: Renderer,
        work: Offload,
        seed: Seed,
        stats: SiteStats,
        summary: RunSummary,
        baselining: bool,
    ) -> None:
        """`baselining`: until the site's first whole crawl, its old notices are history,
        not news."""
        self.crawler = crawler
        self.store = crawler.store
        self.work = work
        self.settings = crawler.settings
        self.seed = seed
        self.stats = stats
        self.summary = summary
        self.run_id = summary.run_id
        self.parser_version = version(seed.parser)
        self.baselining = baselining
        self.listed_dates: dict[str, str] = {}
        self.listing_kinds: list[str] = []
        """Why each listing page failed, for the site's health."""
        self.walk_complete = False
        self.pages = SiteFetcher(client, gates, seed, crawler.settings, stats, renderer)
        self.files = (
            NoticeFiles(
                self.store,
                self.pages,
                self.settings,
                make_sandbox(self.settings),
                self._record_error,
            )
            if seed.attachments
            else None
        )

    async def _record_error(self, url: str, failure: PageFailure) -> None:
        self.stats.errors += 1
        self.summary.failures.append(Failure(self.seed.id, url, failure.kind, str(failure)))
        await self.work(
            self.store.record_error,
            self.run_id,
            self.seed.id,
            url,
            failure.kind,
            str(failure),
            failure.status,
        )

    async def _get(self, url: str, *, conditional: bool, listing: bool = False) -> Response:
        """Fetch with politeness and retries, conditionally when asked; raises PageFailure."""
        headers: dict[str, str] = {}
        if conditional and self.pages.request(url).method == "GET":
            etag, modified = await self.work(self.store.get_validators, url)
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        render = self.seed.render if listing else self.seed.render_notices
        return await self.pages.read(url, headers, render=render)

    def _reclean(self, fetched: Response, page: Page, raw: bytes, content_type: str | None) -> Page:
        """A stored raw page as this parser reads it. When the stored bytes are the ones
        just fetched (the site did not change, our cleaning did), that is the page just
        cleaned: the same bytes are not decoded and cleaned twice."""
        if raw == fetched.content and content_type == fetched.content_type:
            return page
        return reclean(raw, content_type, fetched.url, self.seed.parser, self.seed.encoding)

    async def listings(self) -> list[str]:
        """Walk the listing pages; return URLs of notices new to the store.

        The pages' validators are saved only once the walk is over and no page failed: a 304
        for the first page stops the next walk, so it must mean that a whole walk saw every
        page after it, not that a walk was cut short (killed, or a page failed) there.
        """
        queue = deque(self.seed.listing_urls)
        seen: set[str] = set()
        fresh: list[str] = []
        walked: list[tuple[str, Response]] = []
        failed = False
        # After a walk cut short by a failed page, known pages are no reason to stop: the
        # notices on and after the failed page were never listed.
        stop_at_known = await self.work(self.store.listing_complete, self.seed.id)
        while queue and self.stats.listing_pages < self.seed.max_pages:
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            self.stats.listing_pages += 1
            self.crawler.plan(1)
            self.crawler.progress(self.seed.id, f"listing {url}")
            try:
                resp = await self._get(url, conditional=True, listing=True)
                if resp.status == 304:
                    self.stats.not_modified += 1
                    self.stats.listing_unchanged += 1
                    continue
                page = await self.work(self.pages.parse, resp, "listing")
            except PageFailure as failure:
                await self._record_error(url, failure)
                self.stats.listing_failed += 1
                self.listing_kinds.append(failure.kind)
                failed = True
                continue
            self.stats.listing_read += 1
            self.stats.listing_items += len(page.items)
            items = [item for item in page.items if self.pages.allowed(item.url)]
            for item in items:
                if item.date:
                    self.listed_dates[item.url] = item.date
            new_here = await self.work(self._mark_listed, items)
            fresh += new_here
            if page.items:
                # A page without rows is a shell whose rows come from elsewhere (jpaas):
                # a 304 for it would hide the rows, so it is always fetched in full.
                walked.append((url, resp))
            if page.items and not new_here and stop_at_known:
                break  # a page of known notices: the rest are older still
            queue.extend(u for u in page.next_pages if u not in seen and self.pages.allowed(u))
        if not failed:
            for url, resp in walked:
                await self.work(self._save_validators, url, resp)
        await self.work(self.store.set_listing_complete, self.seed.id, not failed)
        self.walk_complete = not failed
        return fresh

    def _mark_listed(self, items: list[ListingItem]) -> list[str]:
        """A listing's items into the store; returns the URLs of those new to it."""
        fresh: list[str] = []
        for item in items:
            if self.store.mark_listed(
                self.seed.id, item.url, item.title, item.date, self.run_id
            ) or self._never_fetched(item.url):
                fresh.append(item.url)
        return fresh

    def _never_fetched(self, url: str) -> bool:
        """A listed notice without a version yet: a crawl stopped (killed) between listing
        and fetching it. It counts as new, so the walk goes on to the pages after it that
        the stopped crawl never reached."""
        notice = self.store.notice(url)
        return notice is not None and notice.current_version is None

    def _save_validators(self, url: str, resp: Response) -> None:
        etag = resp.headers.get("etag")
        modified = resp.headers.get("last-modified")
        if etag or modified:
            self.store.save_validators(url, etag, modified)

    async def notice(self, url: str) -> None:
        self.crawler.progress(self.seed.id, f"notice {url}")
        try:
            resp = await self._get(url, conditional=True)
            if resp.status == 304:
                self.stats.not_modified += 1
                # The page is unchanged; a file it links may not be.
                outcome = await self.files.revise(url, self.run_id) if self.files else None
                if outcome is None:
                    outcome = await self.work(
                        self.store.mark_checked, self.seed.id, url, self.run_id
                    )
                self._count(outcome.kind)
                return
            if resp.status in (404, 410):
                outcome = await self.work(
                    self.store.record_gone,
                    self.seed.id,
                    url,
                    resp.status,
                    self.run_id,
                    threshold=self.settings.gone_after,
                )
                self._count(outcome.kind)
                return
            page = await self.work(self.pages.parse, resp, "detail")
            self._tally(page)
            if not page.body.strip():
                raise PageFailure("empty", "no notice text found on the page", resp.status)
            if not page.meta and await self.work(self._had_meta, url):
                # A template change, far likelier than a notice dropping its 信息公开 block:
                # never stored as a revision (the site's health reports it).
                raise PageFailure("layout", "the notice's 信息公开 metadata is gone", resp.status)
        except PageFailure as failure:
            await self._record_error(url, failure)
            return
        # What re-extraction compares is the page without the files fetched now: a file
        # replaced in this crawl is a revision, not part of re-cleaning the stored page.
        cleaned = page
        if self.files is not None:
            page = await self.files.attach(url, page)
        outcome = await self.work(self._record_page, url, resp, page, cleaned)
        self._count(outcome.kind)

    def _record_page(self, url: str, resp: Response, page: Page, cleaned: Page) -> Outcome:
        """The fetched notice into the store, and its validators for the next fetch."""
        outcome = self.store.record_page(
            self.seed.id,
            url,
            page,
            resp.content,
            self.run_id,
            parser_version=self.parser_version,
            content_type=resp.content_type,
            reclean=partial(self._reclean, resp, cleaned),
            baseline=self.baselining and not self._recent(page, url),
        )
        self._save_validators(url, resp)
        return outcome

    def _recent(self, page: Page, url: str) -> bool:
        """Published within the seed's baseline_days, by the notice's own date (发布日期,
        发文日期), else the listing's; a notice of no known date is not recent."""
        written = page.meta.get("published_date") or page.meta.get("issued_date")
        try:
            published = date.fromisoformat(written or self.listed_dates.get(url, ""))
        except ValueError:
            return False
        today = datetime.now(CHINA_TZ).date()
        return published >= today - timedelta(days=self.seed.baseline_days)

    def _tally(self, page: Page) -> None:
        self.stats.notices_read += 1
        self.stats.with_body += bool(page.body.strip())
        self.stats.with_meta += bool(page.meta)

    def _had_meta(self, url: str) -> bool:
        return bool(self.store.current_meta(url))

    def _count(self, kind: str) -> None:
        if kind == "new":
            self.stats.new += 1
        elif kind == "revised":
            self.stats.revised += 1
        elif kind == "restored":
            self.stats.restored += 1
        elif kind == "removed":
            self.stats.removed += 1
        elif kind == "unchanged":
            self.stats.unchanged += 1
        elif kind == "reextracted":
            self.stats.unchanged += 1
            self.stats.reextracted += 1
