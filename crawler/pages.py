"""Whether a fetched response is a usable page, and how one seed's pages are fetched.

`read_page` is the one judge of a response: the crawl, the dry run of `govwatch check`
and `govwatch fetch` all take a page only through it, so an anti-bot challenge, a
firewall's refusal, a stub or a soft 404 is an error everywhere, never a notice.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from govwatch.crawler.fetch import Destinations, Response, fetch
from govwatch.crawler.politeness import RETRY_STATUSES, Gates, backoff
from govwatch.crawler.proxy import mask, proxy_for
from govwatch.crawler.render import Renderer, RenderFailed
from govwatch.crawler.seeds import Seed
from govwatch.errors import ConnectionFailed, DecodeError, FetchError, FetchTimeout, GovwatchError
from govwatch.parsers import Page, clean
from govwatch.parsers.challenge import detect_challenge, visible_text_len
from govwatch.parsers.decode import decode_html
from govwatch.parsers.missing import is_soft_404
from govwatch.parsers.records import Expect
from govwatch.parsers.registry import Request, get
from govwatch.settings import Settings

if TYPE_CHECKING:
    from govwatch.crawler.engine import SiteStats


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


def read_page(
    resp: Response, parser: str | None, expect: Expect, encoding: str | None = None
) -> Page:
    """The page `resp` carries when it is a usable one (the parser picked by URL and
    markers when `parser` is None), else PageFailure saying why: an error status (or the
    challenge, proxy or firewall behind it), bytes that are no text, a page the parser
    cannot read, an anti-bot challenge, a stub standing in for a column, a soft 404."""
    if resp.status >= 400:
        raise refuse(resp)
    try:
        text = decode_html(resp.content, resp.content_type, override=encoding).text
        page = clean(text, resp.url, parser=parser, status=resp.status, expect=expect)
    except GovwatchError as exc:
        raise PageFailure(exc.kind, str(exc), resp.status) from exc
    if page.kind == "challenge":
        raise PageFailure("challenge", f"anti-bot challenge ({page.vendor})", resp.status)
    if expect == "listing" and _is_stub(resp, page, text):
        size = len(resp.content)
        raise PageFailure("stub", f"a stub page of {size} bytes, no column", resp.status)
    if is_soft_404(page):
        raise PageFailure("soft_404", "the page says it does not exist", resp.status)
    return page


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

    async def get(
        self, url: str, headers: dict[str, str] | None = None, *, max_bytes: int | None = None
    ) -> Response:
        """Fetch with politeness and retries, the body up to `max_bytes` (default: the
        `max_bytes` setting); raises PageFailure."""
        request = self.request(url)
        settings = (
            self.settings if max_bytes is None else replace(self.settings, max_bytes=max_bytes)
        )
        host = urlsplit(url).hostname or ""
        attempt = 0
        while True:
            attempt += 1
            retry_after: str | None = None
            try:
                self.stats.requests += 1
                resp = await self.gates.send(
                    host,
                    self.seed.rate,
                    lambda ticket: fetch(
                        self.client,
                        request.url,
                        settings,
                        headers=headers,
                        method=request.method,
                        form=request.form,
                        destinations=self.destinations,
                        on_send=ticket.going,
                    ),
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
            delay = backoff(attempt, self.settings.retry_base, retry_after)
            if retry_after or failure.status == 429:
                # The host asked to slow down: every crawl sharing its slots waits.
                self.gates.slow_down(host, delay)
            else:
                await asyncio.sleep(delay)
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

    def parse(self, resp: Response, expect: Expect) -> Page:
        """The page of a response, read as the seed reads it (its parser, its encoding);
        raises PageFailure."""
        return read_page(resp, self.seed.parser, expect, self.seed.encoding)
