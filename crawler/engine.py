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
import unicodedata
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

import httpx

from govwatch.crawler.fetch import Clients, Destinations, Response, fetch
from govwatch.crawler.health import Health, assess
from govwatch.crawler.politeness import RETRY_STATUSES, Gates, backoff
from govwatch.crawler.proxy import mask, proxy_for
from govwatch.crawler.render import Renderer, RenderFailed, shared_renderer
from govwatch.crawler.reparse import reclean
from govwatch.crawler.seeds import Seed
from govwatch.errors import (
    ConnectionFailed,
    DecodeError,
    FetchError,
    FetchTimeout,
    GovwatchError,
)
from govwatch.parsers import Page, clean
from govwatch.parsers.challenge import detect_challenge, visible_text_len
from govwatch.parsers.decode import decode_html
from govwatch.parsers.missing import is_soft_404
from govwatch.parsers.records import CHINA_TZ, Expect
from govwatch.parsers.registry import Request, get, version
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.rows import SiteYield

OUTCOMES = ("new", "revised", "removed", "restored", "unchanged", "errors")
MAX_LISTED_FAILURES = 50
"""Failed URLs the summary lists per site; the store keeps every one."""


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

    def table(self) -> str:
        """One row per site: new / revised / removed / restored / unchanged / errors; then,
        per site with errors, the count by kind and the failed URLs."""
        columns = (*OUTCOMES, "requests")
        label = {site: self._label(site) for site in self.sites}
        width = max([24, *(_width(text) + 2 for text in label.values())])
        lines = [_pad("site", width) + "".join(f"{c:>10}" for c in columns)]
        for site, stats in self.sites.items():
            values = stats.as_dict()
            lines.append(_pad(label[site], width) + "".join(f"{values[c]:>10}" for c in columns))
        states = {"empty": "empty column", "layout_change": "LAYOUT CHANGE"}
        for site, health in self.health.items():
            if health.status != "ok":
                state = states.get(health.status, health.status)
                lines.append(f"{self._label(site)}: {state}: {health.message}")
        for site, stats in self.sites.items():
            if stats.reextracted:
                lines.append(
                    f"{label[site]}: {stats.reextracted} unchanged notices re-extracted by "
                    "this release's parser (no change on the site, no event)"
                )
        for site in self.sites:
            failed = sorted(
                (f for f in self.failures if f.site == site), key=lambda f: (f.kind, f.url)
            )
            if not failed:
                continue
            kinds = Counter(f.kind for f in failed)
            counts = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
            lines += ["", f"{label[site]}: {len(failed)} errors ({counts})"]
            lines += [
                f"  {f.kind:15} {_printable(f.url)}  {_printable(f.message)[:120]}"
                for f in failed[:MAX_LISTED_FAILURES]
            ]
            if len(failed) > MAX_LISTED_FAILURES:
                lines.append(f"  … and {len(failed) - MAX_LISTED_FAILURES} more")
        return "\n".join(lines)

    def _label(self, site: str) -> str:
        """The site as people know it, with the id commands take: 某某县教育局 通知公告 (zd)."""
        name = _printable(self.names.get(site, site))
        return name if name == site else f"{name} ({site})"


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def _printable(text: str) -> str:
    """Site-given text for a terminal: no control characters or escape sequences."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


@dataclass(frozen=True)
class Progress:
    """Where a pass is: `done` of the `planned` requests (the plan grows as listings
    reveal notices), and what was just done."""

    done: int
    planned: int
    site: str
    what: str


ProgressFn = Callable[[Progress], None]


class PageFailure(Exception):
    """A URL that could not be fetched or read, with its kind (`http_status`, `timeout`,
    `challenge` …): a crawl records, counts and skips it; a dry run reports it."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status


WAF_STATUSES = frozenset({403, 406, 412})
"""Statuses a web application firewall refuses a crawler or a foreign network with."""
STUB_BYTES = 512
"""A listing page smaller than this, without a word of text, listing nothing and linking
nowhere, is a stub standing in for the site (a geo-fence's, a parked domain's); an empty
column still says so (暂无信息) in its chrome."""


def _is_stub(resp: Response, page: Page, text: str) -> bool:
    small = len(resp.content) < STUB_BYTES and not visible_text_len(text)
    return small and not page.items and not page.next_pages


class Crawler:
    def __init__(
        self, store: Store, settings: Settings, progress: ProgressFn | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.on_progress = progress
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
        gates = Gates(self.settings.concurrency, self.settings.host_concurrency)
        async with (
            Clients(self.settings) as clients,
            shared_renderer(self.settings) as renderer,
        ):
            await asyncio.gather(
                *[
                    self._site(
                        await clients.get(proxy_for(self.settings, seed.proxy)),
                        gates,
                        renderer,
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
        seed: Seed,
        summary: RunSummary,
    ) -> None:
        stats = summary.sites.setdefault(seed.id, SiteStats())
        self.store.upsert_site(seed.id, seed.name, seed.parser, list(seed.topics))
        site = _SiteCrawl(self, client, gates, renderer, seed, stats, summary)
        fresh = await site.listings()
        due = self.store.revisit_due(
            seed.id,
            datetime.now(UTC),
            recent_days=seed.revisit.recent_days,
            old_every=seed.revisit.old_every,
        )
        targets = list(dict.fromkeys([*fresh, *due]))
        self.plan(len(targets))
        await asyncio.gather(*(site.notice(url) for url in targets))
        if site.baselining and site.walk_complete:
            self.store.finish_baseline(seed.id)
        healthy = self.store.healthy_yields(seed.id)
        yielded = stats.yielded()
        health = summary.health[seed.id] = assess(yielded, healthy, site.listing_kinds)
        self.store.record_health(summary.run_id, seed.id, health.status, health.message, yielded)


class SiteFetcher:
    """How one seed's pages are asked for and read: its parser's request hook (a jcms
    dataproxy POST), its hosts, its rate through the shared host gates, retries, its
    encoding and its parser. The crawl and the dry run of `govwatch check` share it, so
    a check asks for and reads pages exactly as a crawl does."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        gates: Gates,
        seed: Seed,
        settings: Settings,
        stats: SiteStats,
        renderer: Renderer,
    ) -> None:
        self.client = client
        self.renderer = renderer
        self.json_urls: tuple[str, ...] = ()
        """The JSON the last rendered listing page's scripts read."""
        self.gates = gates
        self.seed = seed
        self.settings = settings
        self.stats = stats
        self.parser = get(seed.parser)
        self.destinations = Destinations(
            seed.hosts, [urlsplit(u).hostname or "" for u in seed.listing_urls]
        )
        self.proxy = proxy_for(settings, seed.proxy)

    def request(self, url: str) -> Request:
        return self.parser.request(url) if self.parser.request else Request("GET", url)

    def allowed(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return host in self.seed.hosts

    async def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        """Fetch with politeness and retries; raises PageFailure."""
        request = self.request(url)
        host = urlsplit(url).hostname or ""
        attempt = 0
        while True:
            attempt += 1
            retry_after: str | None = None
            try:
                async with self.gates.turn(host, self.seed.rate):
                    self.stats.requests += 1
                    resp = await fetch(
                        self.client,
                        request.url,
                        self.settings,
                        headers=headers,
                        method=request.method,
                        form=request.form,
                        destinations=self.destinations,
                    )
                self.stats.bytes += len(resp.content)
                if resp.status not in RETRY_STATUSES:
                    break
                retry_after = resp.headers.get("retry-after")
                failure = PageFailure("http_status", f"HTTP {resp.status}", resp.status)
            except FetchError as exc:
                failure = self._failure(exc)
                if not isinstance(exc, FetchTimeout | ConnectionFailed):
                    raise failure from exc
            if attempt > self.settings.retries:
                raise failure
            await asyncio.sleep(backoff(attempt, self.settings.retry_base, retry_after))
        return resp

    def _failure(self, exc: FetchError) -> PageFailure:
        # Through a proxy, a connection that fails is one to the proxy: the site's own
        # failures come back as the proxy's 502 or 504.
        if self.proxy and exc.kind in ("no_answer", "refused"):
            return PageFailure("proxy", f"proxy {mask(self.proxy)}: {exc.reason}")
        return PageFailure(exc.kind, exc.reason)

    async def listing(self, url: str, headers: dict[str, str] | None = None) -> Response:
        """A listing page as the seed reads it: fetched, or rendered (`render = true`);
        raises PageFailure."""
        return await self.read(url, headers, render=self.seed.render)

    async def read(
        self, url: str, headers: dict[str, str] | None = None, *, render: bool
    ) -> Response:
        """A page fetched, or rendered with each request of the page taking a turn at its
        host's gate; raises PageFailure."""
        if not render:
            return await self.get(url, headers)
        try:
            rendered = await self.renderer.render(
                url, lambda host: self.gates.turn(host, self.seed.rate), self.proxy
            )
        except RenderFailed as exc:
            raise PageFailure(exc.kind, str(exc)) from None
        content = rendered.html.encode()
        self.stats.requests += rendered.requests
        self.stats.bytes += len(content)
        self.json_urls = rendered.json_urls
        return Response(rendered.url, rendered.status, content, "text/html; charset=utf-8", {})

    @staticmethod
    def refuse(resp: Response) -> PageFailure:
        """The failure for an error status: a challenge when the body is one (瑞数 412,
        加速乐 521), a WAF's refusal for a status WAFs answer crawlers with, else the status."""
        try:
            text = decode_html(resp.content, resp.content_type).text
        except DecodeError:
            text = ""
        vendor = detect_challenge(text, resp.status)
        if vendor is not None:
            return PageFailure("challenge", f"anti-bot challenge ({vendor})", resp.status)
        if resp.status == 407:
            return PageFailure("proxy", "HTTP 407: the proxy refuses its credentials", 407)
        if resp.status in WAF_STATUSES:
            return PageFailure("waf", f"HTTP {resp.status} from a firewall (WAF)", resp.status)
        return PageFailure("http_status", f"HTTP {resp.status}", resp.status)

    def parse(self, resp: Response, expect: Expect) -> Page:
        try:
            text = decode_html(resp.content, resp.content_type, override=self.seed.encoding).text
            page = clean(text, resp.url, parser=self.seed.parser, status=resp.status, expect=expect)
        except DecodeError as exc:
            raise PageFailure("decode", str(exc), resp.status) from exc
        except GovwatchError as exc:
            raise PageFailure("parse", str(exc), resp.status) from exc
        if page.kind == "challenge":
            raise PageFailure("challenge", f"anti-bot challenge ({page.vendor})", resp.status)
        if expect == "listing" and _is_stub(resp, page, text):
            size = len(resp.content)
            raise PageFailure("stub", f"a stub page of {size} bytes, no column", resp.status)
        if is_soft_404(page):
            raise PageFailure("soft_404", "the page says it does not exist", resp.status)
        return page


class _SiteCrawl:
    def __init__(
        self,
        crawler: Crawler,
        client: httpx.AsyncClient,
        gates: Gates,
        renderer: Renderer,
        seed: Seed,
        stats: SiteStats,
        summary: RunSummary,
    ) -> None:
        self.crawler = crawler
        self.store = crawler.store
        self.settings = crawler.settings
        self.seed = seed
        self.stats = stats
        self.summary = summary
        self.run_id = summary.run_id
        self.parser_version = version(seed.parser)
        # Until the site's first whole crawl, its old notices are history, not news.
        self.baselining = seed.baseline and not crawler.store.baselined(seed.id)
        self.listed_dates: dict[str, str] = {}
        self.listing_kinds: list[str] = []
        """Why each listing page failed, for the site's health."""
        self.walk_complete = False
        self.pages = SiteFetcher(client, gates, seed, crawler.settings, stats, renderer)

    def _record_error(self, url: str, failure: PageFailure) -> None:
        self.stats.errors += 1
        self.summary.failures.append(Failure(self.seed.id, url, failure.kind, str(failure)))
        self.store.record_error(
            self.run_id, self.seed.id, url, failure.kind, str(failure), failure.status
        )

    async def _get(self, url: str, *, conditional: bool, listing: bool = False) -> Response:
        """Fetch with politeness and retries, conditionally when asked; raises PageFailure."""
        headers: dict[str, str] = {}
        if conditional and self.pages.request(url).method == "GET":
            etag, modified = self.store.get_validators(url)
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        render = self.seed.render if listing else self.seed.render_notices
        return await self.pages.read(url, headers, render=render)

    def _reclean(self, url: str, raw: bytes, content_type: str | None) -> Page:
        return reclean(raw, content_type, url, self.seed.parser, self.seed.encoding)

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
        stop_at_known = self.store.listing_complete(self.seed.id)
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
                if resp.status >= 400:
                    raise self.pages.refuse(resp)
                page = self.pages.parse(resp, "listing")
            except PageFailure as failure:
                self._record_error(url, failure)
                self.stats.listing_failed += 1
                self.listing_kinds.append(failure.kind)
                failed = True
                continue
            self.stats.listing_read += 1
            self.stats.listing_items += len(page.items)
            new_here = 0
            for item in page.items:
                if not self.pages.allowed(item.url):
                    continue
                if item.date:
                    self.listed_dates[item.url] = item.date
                if self.store.mark_listed(
                    self.seed.id, item.url, item.title, item.date, self.run_id
                ) or self._never_fetched(item.url):
                    new_here += 1
                    fresh.append(item.url)
            if page.items:
                # A page without rows is a shell whose rows come from elsewhere (jpaas):
                # a 304 for it would hide the rows, so it is always fetched in full.
                walked.append((url, resp))
            if page.items and not new_here and stop_at_known:
                break  # a page of known notices: the rest are older still
            queue.extend(u for u in page.next_pages if u not in seen and self.pages.allowed(u))
        if not failed:
            for url, resp in walked:
                self._save_validators(url, resp)
        self.store.set_listing_complete(self.seed.id, not failed)
        self.walk_complete = not failed
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
                outcome = self.store.mark_checked(self.seed.id, url, self.run_id)
                self._count(outcome.kind)
                return
            if resp.status in (404, 410):
                outcome = self.store.record_gone(
                    self.seed.id, url, resp.status, self.run_id, threshold=self.settings.gone_after
                )
                self._count(outcome.kind)
                return
            if resp.status >= 400:
                raise self.pages.refuse(resp)
            page = self.pages.parse(resp, "detail")
            self._tally(page)
            if not page.body.strip():
                raise PageFailure("empty", "no notice text found on the page", resp.status)
            if not page.meta and self._had_meta(url):
                # A template change, far likelier than a notice dropping its 信息公开 block:
                # never stored as a revision (the site's health reports it).
                raise PageFailure("layout", "the notice's 信息公开 metadata is gone", resp.status)
        except PageFailure as failure:
            self._record_error(url, failure)
            return
        outcome = self.store.record_page(
            self.seed.id,
            url,
            page,
            resp.content,
            self.run_id,
            parser_version=self.parser_version,
            content_type=resp.content_type,
            reclean=partial(self._reclean, resp.url),
            baseline=self.baselining and not self._recent(page, url),
        )
        self._save_validators(url, resp)
        self._count(outcome.kind)

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
