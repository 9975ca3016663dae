"""From a URL to a seed (`govwatch add`): find the column a URL leads to, walking down
from home pages to their columns, pick the parser, and dry-run the seed it makes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import httpx

from govwatch.crawler.fetch import Destinations, fetch, make_client
from govwatch.crawler.politeness import Gates
from govwatch.crawler.probe import INTERVAL, MAX_PAGES, Report, dry_run
from govwatch.crawler.proxy import proxy_for
from govwatch.crawler.render import Renderer, RenderFailed, shared_renderer
from govwatch.crawler.seeds import Seed, derive_id
from govwatch.errors import DecodeError, FetchError, GovwatchError
from govwatch.parsers import clean
from govwatch.parsers.challenge import detect_challenge
from govwatch.parsers.clean import looks_like_html
from govwatch.parsers.columns import ColumnLink, column_name, find_columns, page_title
from govwatch.parsers.decode import decode_html
from govwatch.parsers.missing import is_soft_404
from govwatch.parsers.registry import choose, get
from govwatch.settings import Settings

MAX_DEPTH = 2
"""Pages of columns `add` walks down (a home page, then a 信息公开 platform's page)."""
# A site's root page: what a home page's URL looks like.
_ROOT = re.compile(r"^/?(?:(?:index|default|home|main)\.[a-z]+)?$", re.I)


@dataclass(frozen=True)
class Column:
    """A column page: where it ended up (redirects followed), the parser and why."""

    url: str
    parser: str
    how: str
    title: str
    render: bool = False
    """Its list is built by scripts: the seed renders it."""


@dataclass(frozen=True)
class HomePage:
    """A page that lists no notices but links to columns, best first."""

    url: str
    title: str
    columns: list[ColumnLink]


@dataclass(frozen=True)
class Survey:
    """What `govwatch add` found: the column (and the home pages and picks on the way),
    the seed it makes and that seed's dry run."""

    column: Column
    seed: Seed
    report: Report
    picks: list[tuple[HomePage, ColumnLink]]

    def header(self, url: str, today: date) -> list[str]:
        """The comment heading the seed file: how it was made, and what to run."""
        lines = [f"Written by `govwatch add {url}` on {today.isoformat()}."]
        lines += [f"Column {link.text} picked on {home.url}." for home, link in self.picks]
        lines.append(
            f"Parser {self.seed.parser} ({self.column.how}); on the first listing page "
            f"{len(self.report.items)} notices and links to "
            f"{len(self.report.next_pages)} further pages."
        )
        lines.append(
            f"Run `govwatch check {self.seed.id}` to see that it still works; "
            "tune max_pages, interval and topics to taste."
        )
        return lines


Pick = Callable[[HomePage], ColumnLink]


def _how(parser: str, url: str) -> str:
    if parser == "generic":
        return "no site rule matched"
    host = (urlsplit(url).hostname or "").lower()
    if any(host == h or host.endswith("." + h) for h in get(parser).hosts):
        return "chosen by the site's host"
    return "chosen by the page's markers"


def _is_root(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.query and bool(_ROOT.match(parts.path))


class _Surveyor:
    def __init__(
        self, client: httpx.AsyncClient, gates: Gates, renderer: Renderer, settings: Settings
    ) -> None:
        self.client = client
        self.gates = gates
        self.renderer = renderer
        self.settings = settings

    async def rendered_column(self, url: str, parser: str, title: str) -> Column | None:
        """A script shell (no rows until its scripts run) as a column to render, when the
        rendered page lists notices; None when it does not or no browser can render it."""
        try:
            rendered = await self.renderer.render(
                url, lambda h: self.gates.turn(h, Seed.rate), proxy_for(self.settings, None)
            )
        except RenderFailed:
            return None
        page = clean(rendered.html, rendered.url, parser=parser, expect="listing")
        if not page.items:
            return None
        how = f"{_how(parser, url)}; its list is built by scripts, so it is rendered"
        return Column(url, parser, how, title, render=True)

    async def look(self, url: str) -> Column | HomePage:
        """Fetch `url` and tell a column page from a home page; anything else raises a
        one-line GovwatchError saying what the page is instead."""
        host = urlsplit(url).hostname or ""
        try:
            async with self.gates.turn(host, Seed.rate):
                resp = await fetch(
                    self.client, url, self.settings, destinations=Destinations(None, [host])
                )
            text = decode_html(resp.content, resp.content_type).text
        except FetchError as exc:
            raise GovwatchError(f"{exc.url}: not a column page: {exc.reason}") from None
        except DecodeError as exc:
            raise GovwatchError(f"{url}: not a column page: {exc}") from None
        vendor = detect_challenge(text, resp.status)
        if vendor is not None:
            raise GovwatchError(
                f"{resp.url}: not a column page: an anti-bot challenge ({vendor}) answers instead"
            )
        if resp.status >= 400:
            raise GovwatchError(f"{resp.url}: not a column page: HTTP {resp.status}")
        if not text.strip():
            raise GovwatchError(f"{resp.url}: not a column page: the page is empty")
        if not looks_like_html(text):
            raise GovwatchError(f"{resp.url}: not a column page: not an HTML page")
        parser = choose(text, resp.url, is_html=True).name
        page = clean(text, resp.url, parser=parser)
        if is_soft_404(page):
            raise GovwatchError(f"{resp.url}: not a column page: it says it does not exist")
        columns = find_columns(text, resp.url)
        title = page_title(text)
        if columns and _is_root(resp.url):
            return HomePage(resp.url, title, columns)
        if page.kind == "listing" and (page.items or page.next_pages):
            return Column(resp.url, parser, _how(parser, resp.url), title)
        if page.kind == "detail" and page.title and page.body.strip():
            raise GovwatchError(
                f"{resp.url}: not a column page: it is a notice ({page.title[:40]}); "
                "give the URL of the column that lists it"
            )
        # Read without a hint, a column of a few rows looks like a notice without text:
        # asked for as a listing, as the crawl will ask, it shows its rows.
        listed = clean(text, resp.url, parser=parser, expect="listing")
        if listed.items or listed.next_pages:
            return Column(resp.url, parser, _how(parser, resp.url), title)
        if "<script" in text.lower():
            shell = await self.rendered_column(resp.url, parser, title)
            if shell is not None:
                return shell
        if columns:
            return HomePage(resp.url, title, columns)
        what = "the page is empty" if not page.body.strip() else "no list of notices on it"
        raise GovwatchError(f"{resp.url}: not a column page: {what}")


async def survey(
    url: str, settings: Settings, *, pick: Pick, seed_id: str | None, used: set[str]
) -> Survey:
    """Find the column at `url` (asking `pick` on home pages), draft its seed and dry-run it."""
    async with (
        make_client(settings, proxy_for(settings, None)) as client,
        shared_renderer(settings) as renderer,
    ):
        gates = Gates(settings.concurrency, settings.host_concurrency)
        surveyor = _Surveyor(client, gates, renderer, settings)
        found = await surveyor.look(url)
        picks: list[tuple[HomePage, ColumnLink]] = []
        while isinstance(found, HomePage):
            if len(picks) == MAX_DEPTH:
                raise GovwatchError(f"{found.url}: not a column page: it only links to columns")
            choice = pick(found)
            picks.append((found, choice))
            found = await surveyor.look(choice.url)
        label = picks[-1][1].text if picks else ""
        seed = Seed(
            id=seed_id or derive_id(found.url, used),
            name=column_name(found.title, label) or found.url,
            parser=found.parser,
            listing_urls=(found.url,),
            max_pages=MAX_PAGES,
            interval=INTERVAL,
            topics=(),
            render=found.render,
        )
        report = await dry_run(client, gates, renderer, seed, settings)
    return Survey(found, seed, report, picks)
