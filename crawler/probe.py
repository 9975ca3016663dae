"""Dry runs: what a crawl of a seed would see (`govwatch check`; `govwatch add` runs one on
the seed it makes, see crawler/survey.py). Pages are asked for and read exactly as a crawl does (the
engine's SiteFetcher: the parser's request hook, the seed's hosts, rate and encoding,
retries); nothing is stored. The reports are data; the CLI renders them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import httpx

from govwatch.crawler.engine import SiteStats
from govwatch.crawler.fetch import make_client
from govwatch.crawler.health import CAUSES
from govwatch.crawler.pages import PageFailure, SiteFetcher
from govwatch.crawler.politeness import Gates
from govwatch.crawler.proxy import proxy_for
from govwatch.crawler.render import Renderer, shared_renderer
from govwatch.crawler.seeds import Seed, derive_id
from govwatch.parsers import Page
from govwatch.parsers.records import Expect, ListingItem
from govwatch.settings import Settings

NOTICES = 3
"""Notices of the first listing page a dry run fetches and cleans."""
MAX_SHELLS = 2
"""Listing pages without rows followed to where the rows are (a jpaas column page names
the API that serves them)."""
MAX_PAGES = 5
"""A new seed's max_pages: enough for a first crawl to reach back a while; later crawls
stop at the first page of known notices anyway."""
INTERVAL = timedelta(hours=6)
"""A new seed's interval: notices are published a few times a week, not by the minute."""


@dataclass(frozen=True)
class Problem:
    """Something that keeps a seed from working well, and the one thing to do about it."""

    what: str
    fix: str


@dataclass(frozen=True)
class Outcome:
    """One page of the dry run: read (`page`), or failed (`kind` and `error`)."""

    url: str
    page: Page | None = None
    kind: str = ""
    error: str = ""
    status: int | None = None

    @property
    def cleaned(self) -> bool:
        """A notice read with a title and text: what a crawl stores."""
        return self.page is not None and bool(self.page.title.strip() and self.page.body.strip())


@dataclass
class Report:
    """What a crawl of `seed` would see: its first listing page (`rows_url` when the rows
    come from another URL), the items a crawl follows, a few notices, the next page."""

    seed: Seed
    listing: Outcome
    rows_url: str | None = None
    items: tuple[ListingItem, ...] = ()
    off_host: int = 0
    notices: list[Outcome] = field(default_factory=list)
    next_pages: tuple[str, ...] = ()
    second: Outcome | None = None
    problems: list[Problem] = field(default_factory=list)
    requests: int = 0
    json_urls: tuple[str, ...] = ()
    """JSON the rendered listing page's scripts read (`render = true`): where its list
    comes from."""

    @property
    def works(self) -> bool:
        """The listing lists notices and at least one of them cleans to a title and text."""
        return bool(self.items) and any(n.cleaned for n in self.notices)


_ADVICE = {
    "challenge": "the site answers with an anti-bot JavaScript wall (瑞数/加速乐) that "
    "govwatch does not run: watch the same notices where there is no wall (such as the "
    "city's 信息公开 platform)",
    "timeout": "the site did not answer in time: check the URL and this machine's network; "
    "for a slow site raise GOVWATCH_TIMEOUT",
    "connection": "could not connect: check the host name and that the site can be reached "
    "from this machine",
    "no_answer": "the site never answers this network (blackholed or geo-fenced): set "
    '`proxy = "socks5://…"` in the seed, or GOVWATCH_PROXY, to reach it from a network it '
    "answers (in China)",
    "refused": "the site refuses connections: check the URL's host and port; it may be down",
    "reset": "the connection is reset, likely by a firewall against this network: try a "
    "proxy (`proxy =` in the seed, or GOVWATCH_PROXY)",
    "tls": "the https setup fails: try the http:// URL, or GOVWATCH_CA_BUNDLE for a missing CA",
    "waf": "a firewall (WAF) refuses this client: try a proxy in China (`proxy =` in the seed) "
    "and a lower rate",
    "proxy": "the proxy fails: check its host, port and credentials in the seed's `proxy` "
    "(or GOVWATCH_PROXY)",
    "stub": "a stub page answers instead of the column: the site may serve only some "
    "networks; try a proxy (`proxy =` in the seed), or check the URL",
    "redirect": "the page redirects off the seed's hosts or in a loop: put the final URL in "
    "listing_urls, or add its host to allowed_hosts",
    "blocked_address": "the URL leads to a private address: use the site's public URL",
    "too_large": "the page is larger than GOVWATCH_MAX_BYTES: raise it or use another page",
    "decode": 'the page\'s text encoding cannot be read: set encoding = "gb18030" (or the '
    "site's own) in the seed",
    "parse": 'the parser fails on this page: try parser = "generic" (`govwatch parsers` '
    "lists them)",
    "soft_404": "the page says it does not exist: the column has moved; find its new URL",
    "fetch": "the URL cannot be fetched: check it",
    "render": "the listing page could not be rendered: install chromium (or set "
    "GOVWATCH_CHROMIUM to it) and Playwright (pip install 'govwatch[render]')",
}


def _status_advice(status: int | None, listing: bool) -> str:
    if status in (404, 410):
        if listing:
            return (
                "the column has moved or the URL is wrong: find the column on the site and put "
                "its URL in listing_urls (or run `govwatch add URL`)"
            )
        return "the notices' links lead nowhere: the listing may be stale; check on the site"
    if status in (401, 403):
        return "the site refuses this client: it may block crawlers or this network"
    if status == 429 or (status or 0) >= 500:
        return "the site is failing or overloaded: try again later (and keep the rate low)"
    return f"the server answered HTTP {status}: open the URL in a browser to see why"


def _advice(outcome: Outcome, *, listing: bool) -> str:
    if outcome.kind == "http_status":
        return _status_advice(outcome.status, listing)
    return _ADVICE.get(outcome.kind, "check the URL")


def _failed(url: str, failure: PageFailure) -> Outcome:
    return Outcome(url, None, failure.kind, str(failure), failure.status)


class _Probe:
    def __init__(self, pages: SiteFetcher) -> None:
        self.pages = pages
        self.seed = pages.seed

    async def read(self, url: str, expect: Expect) -> Outcome:
        """Fetch and clean one page as the crawl does; a failure is an outcome, not raised."""
        try:
            resp = await (self.pages.listing if expect == "listing" else self.pages.get)(url)
            page = self.pages.parse(resp, expect)
        except PageFailure as failure:
            return _failed(url, failure)
        if expect == "detail" and not page.body.strip():
            return Outcome(url, page, "empty", "no notice text found on the page")
        if expect == "detail" and not page.title.strip():
            return Outcome(url, page, "untitled", "no title found on the page")
        return Outcome(url, page)

    async def run(self) -> Report:
        report = Report(self.seed, await self.read(self.seed.listing_urls[0], "listing"))
        report.json_urls = self.pages.json_urls
        for _ in range(MAX_SHELLS):
            page = report.listing.page
            if page is None or page.items:
                break
            shell_next = [u for u in page.next_pages if self.pages.allowed(u)]
            if not shell_next:
                break
            report.rows_url = shell_next[0]
            report.listing = await self.read(shell_next[0], "listing")
        page = report.listing.page
        if page is None:
            failed = report.listing
            # A challenge's error names it already.
            cause = CAUSES.get(failed.kind) if failed.kind != "challenge" else None
            what = f"{cause} ({failed.error})" if cause else failed.error
            report.problems.append(Problem(f"listing: {what}", _advice(failed, listing=True)))
            return self._done(report)
        report.items = tuple(i for i in page.items if self.pages.allowed(i.url))
        report.off_host = len(page.items) - len(report.items)
        seen = {*self.seed.listing_urls, report.listing.url}
        report.next_pages = tuple(
            u for u in page.next_pages if u not in seen and self.pages.allowed(u)
        )
        if not page.items:
            report.problems.append(
                Problem(
                    "listing: no notices listed on the page",
                    "check that the URL is a column page (a list of notices), not a home page "
                    'or a notice; or try another parser (`govwatch parsers`, "generic")',
                )
            )
        elif not report.items:
            hosts = sorted({urlsplit(i.url).hostname or "" for i in page.items})
            report.problems.append(
                Problem(
                    f"listing: all {len(page.items)} notices are on other hosts "
                    f"({', '.join(hosts)})",
                    "add those hosts to allowed_hosts in the seed",
                )
            )
        notices = [self.read(item.url, "detail") for item in report.items[:NOTICES]]
        second = [self.read(report.next_pages[0], "listing")] if report.next_pages else []
        done = await asyncio.gather(*notices, *second)
        report.notices = list(done[: len(notices)])
        report.second = done[len(notices)] if second else None
        self._notice_problems(report)
        self._paging_problems(report)
        return self._done(report)

    def _notice_problems(self, report: Report) -> None:
        failed = [n for n in report.notices if not n.cleaned]
        for kind in dict.fromkeys(n.kind for n in failed):
            same = [n for n in failed if n.kind == kind]
            if kind in ("empty", "untitled"):
                fix = (
                    "the notice pages are read without their text or title: try another parser "
                    '(`govwatch parsers`; "generic" reads any site)'
                )
            else:
                fix = _advice(same[0], listing=False)
            report.problems.append(
                Problem(f"notices: {len(same)} of {len(report.notices)}: {same[0].error}", fix)
            )

    def _paging_problems(self, report: Report) -> None:
        second = report.second
        if second is None:
            return
        if second.page is None:
            report.problems.append(
                Problem(f"next listing page: {second.error}", _advice(second, listing=True))
            )
        elif not second.page.items:
            report.problems.append(
                Problem(
                    "next listing page: no notices listed on it",
                    "the pager may be misread: set max_pages = 1, or try another parser",
                )
            )

    def _done(self, report: Report) -> Report:
        report.requests = self.pages.stats.requests
        return report


async def check_seed(seed: Seed, settings: Settings) -> Report:
    """The dry run of a seed: its first listing page, a few notices, its next page."""
    async with (
        make_client(settings, proxy_for(settings, seed.proxy)) as client,
        shared_renderer(settings) as renderer,
    ):
        gates = Gates(settings.concurrency, settings.host_concurrency)
        return await dry_run(client, gates, renderer, seed, settings)


async def dry_run(
    client: httpx.AsyncClient, gates: Gates, renderer: Renderer, seed: Seed, settings: Settings
) -> Report:
    """A seed's dry run on a client, gates and renderer the caller already holds."""
    return await _Probe(SiteFetcher(client, gates, seed, settings, SiteStats(), renderer)).run()


def adhoc_seed(url: str) -> Seed:
    """A bare URL as a seed: the generic parser, the defaults of a seed file."""
    return Seed(
        id=derive_id(url, set()),
        name=url,
        parser="generic",
        listing_urls=(url,),
        max_pages=MAX_PAGES,
        interval=INTERVAL,
        topics=(),
    )
