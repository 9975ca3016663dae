"""Listing pages that exist only after scripts run, rendered in headless Chromium.

For a seed with `render = true` the crawl loads each listing page in the system's Chromium
(the `chromium` setting), driven by Playwright, waits until the page settles (no request
in flight and no DOM change for QUIET seconds, within the page timeout) and hands the
rendered HTML to the seed's listing parser. One browser serves the whole process, started
on first use; at most POOL pages are open at once. Every request a page makes takes a turn
at its host's gate, so a rendered page is as polite as the pages it is made of, and is
counted in the site's requests. The JSON responses a page read are kept: `govwatch check`
names them, for a plain seed could read them without a browser.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from govwatch.crawler.proxy import browser_proxy
from govwatch.errors import ConfigError
from govwatch.settings import Settings

POOL = 2
"""Pages rendered at once per process."""
QUIET = 0.5
"""Seconds without a request in flight or a DOM change after which a page has settled."""
SKIPPED = {"image", "media", "font", "stylesheet"}
"""Resources a list never comes from: not fetched at all."""
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Memory: one renderer process for all pages and a bounded script heap per renderer.
    "--renderer-process-limit=1",
    "--js-flags=--max-old-space-size=256",
]
# Marks the time of the page's last DOM change, from before its first script runs.
_WATCH = """
window.__govwatchChanged = performance.now();
new MutationObserver(() => { window.__govwatchChanged = performance.now(); })
  .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""

Gate = Callable[[str], AbstractAsyncContextManager[None]]
"""A turn at a host's gate (the seed's rate through the crawl's shared Gates)."""


class RenderFailed(Exception):
    """A page that could not be rendered, in one line; `kind` is `render` or `timeout`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Rendered:
    url: str
    status: int
    html: str
    json_urls: tuple[str, ...]
    """URLs of the JSON responses the page's scripts read, in order."""
    requests: int
    """Requests the page made (itself included)."""


class Renderer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool = asyncio.Semaphore(POOL)
        self.started = asyncio.Lock()
        self.playwright: Any = None
        self.browser: Any = None
        self.failure: RenderFailed | None = None
        self.loads = 0
        """Page loads (top-level documents) rendered so far."""

    async def _browser(self) -> Any:
        async with self.started:
            if self.failure is not None:
                raise self.failure
            if self.browser is None:
                try:
                    self.browser = await self._launch()
                except RenderFailed as exc:
                    self.failure = exc  # said once per page, not tried again per page
                    raise
            return self.browser

    async def _launch(self) -> Any:
        exe = self.settings.chromium
        if not Path(exe).is_file():
            raise RenderFailed(
                "render",
                f"no browser at {exe}: install chromium or set GOVWATCH_CHROMIUM "
                "(render = true needs one)",
            )
        try:
            from playwright.async_api import Error, async_playwright
        except ImportError:
            raise RenderFailed(
                "render", "render = true needs Playwright: pip install 'govwatch[render]'"
            ) from None
        self.playwright = await async_playwright().start()
        try:
            return await self.playwright.chromium.launch(executable_path=exe, args=FLAGS)
        except Error as exc:
            await self.playwright.stop()
            self.playwright = None
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "failed"
            raise RenderFailed("render", f"{exe} did not start: {first}") from None

    async def render(self, url: str, gate: Gate, proxy: str | None = None) -> Rendered:
        """The page at `url` once its scripts have built it, through `proxy` when given;
        raises RenderFailed."""
        try:
            route = browser_proxy(proxy) if proxy else None
        except ConfigError as exc:
            raise RenderFailed("proxy", str(exc)) from None
        browser = await self._browser()
        async with self.pool:
            context = await browser.new_context(
                user_agent=self.settings.user_agent, service_workers="block", proxy=route
            )
            try:
                return await self._load(context, url, gate)
            finally:
                await context.close()

    async def _load(self, context: Any, url: str, gate: Gate) -> Rendered:
        from playwright.async_api import Error

        page = await context.new_page()
        await page.add_init_script(_WATCH)
        pending = 0
        requests = 0
        json_urls: list[str] = []

        async def paced(route: Any) -> None:
            nonlocal requests
            request = route.request
            if request.resource_type in SKIPPED:
                await route.abort()
                return
            async with gate(urlsplit(request.url).hostname or ""):
                requests += 1
                await route.continue_()

        def started(_request: Any) -> None:
            nonlocal pending
            pending += 1

        def ended(_request: Any) -> None:
            nonlocal pending
            pending -= 1

        def answered(response: Any) -> None:
            kind = response.headers.get("content-type", "")
            if "json" in kind and response.request.resource_type in ("xhr", "fetch"):
                json_urls.append(response.url)

        await page.route("**/*", paced)
        page.on("request", started)
        page.on("requestfinished", ended)
        page.on("requestfailed", ended)
        page.on("response", answered)
        timeout = self.settings.render_timeout
        deadline = time.monotonic() + timeout
        self.loads += 1
        try:
            response = await page.goto(url, wait_until="load", timeout=timeout * 1000)
            while time.monotonic() < deadline:
                idle = await page.evaluate("performance.now() - window.__govwatchChanged")
                if pending <= 0 and idle >= QUIET * 1000:
                    break
                await asyncio.sleep(0.1)
            html = await page.content()
        except Error as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else "failed"
            kind = "timeout" if "Timeout" in type(exc).__name__ else "render"
            raise RenderFailed(kind, f"rendering failed: {text}") from None
        status = response.status if response is not None else 200
        return Rendered(page.url, status, html, tuple(dict.fromkeys(json_urls)), requests)

    async def close(self) -> None:
        if self.browser is not None:
            await self.browser.close()
        if self.playwright is not None:
            await self.playwright.stop()
        self.browser = self.playwright = None


_shared: Renderer | None = None
_users = 0


@asynccontextmanager
async def shared_renderer(settings: Settings) -> AsyncIterator[Renderer]:
    """The process's one Renderer (its browser starts on first render), shared by the
    crawls running at once and closed when the last of them is done."""
    global _shared, _users
    if _shared is None:
        _shared = Renderer(settings)
    renderer = _shared
    _users += 1
    try:
        yield renderer
    finally:
        _users -= 1
        if _users == 0:
            _shared = None
            await renderer.close()
