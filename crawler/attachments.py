"""A notice's attachments in a crawl: fetched like its page, kept once, their text extracted.

Each attachment URL a notice lists (on the seed's hosts) is fetched with the seed's
politeness and retries, conditionally when the store holds its file already (a 304
costs no transfer), cut off at `attachment_max_bytes` and, for all of a notice's files
together, at `notice_attachment_bytes`. New bytes are kept once per sha256 and extracted
in the sandbox (crawler/sandbox.py) unless this generation of the extractors has read
them. What cannot be fetched is an error of the crawl, listed with the rest, and keeps
the sha256 the notice's current version has for it: a failed fetch never makes a version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache

from govwatch.crawler.fetch import fetch, make_client
from govwatch.crawler.pages import PageFailure, SiteFetcher, refuse
from govwatch.crawler.sandbox import Limits, Sandbox
from govwatch.errors import FetchError
from govwatch.parsers.attachments import Extraction, identify
from govwatch.parsers.attachments.extract import CHAINS, RAPIDOCR, extractor_id
from govwatch.parsers.records import Page
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.rows import Outcome


@cache
def generation() -> str:
    """Which extractors, of which versions, this process runs: a text made by another
    generation is extracted again (never a new version of a notice); OCR counts, so the
    scans of a store are read when the `ocr` extra is installed."""
    chains = [*CHAINS.values(), (RAPIDOCR,)]
    made_by = [extractor_id(e) or "-" for chain in chains for e in chain]
    return hashlib.sha256(" ".join(sorted(set(made_by))).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class FetchedFile:
    """One attachment fetched for a one-off page (`govwatch clean --attachments`)."""

    url: str
    sha256: str | None = None
    size: int = 0
    extraction: Extraction | None = None
    error: str | None = None


async def fetch_files(urls: Sequence[str], settings: Settings) -> list[FetchedFile]:
    """Fetch each URL (one at a time: a one-off page is no reason to hurry a site), up to
    `attachment_max_bytes`, and extract its text in the sandbox."""
    sandbox = make_sandbox(settings)
    capped = replace(settings, max_bytes=settings.attachment_max_bytes)
    found: list[FetchedFile] = []
    async with make_client(settings, settings.proxy or None) as client:
        for url in dict.fromkeys(urls):
            try:
                resp = await fetch(client, url, capped)
            except FetchError as exc:
                found.append(FetchedFile(url, error=exc.reason))
                continue
            if resp.status >= 400:
                found.append(FetchedFile(url, error=f"HTTP {resp.status}"))
                continue
            data = resp.content
            sha = hashlib.sha256(data).hexdigest()
            found.append(FetchedFile(url, sha, len(data), await sandbox.extract(data)))
    return found


def make_sandbox(settings: Settings) -> Sandbox:
    return Sandbox(Limits(settings.extract_timeout, settings.extract_memory))


class NoticeFiles:
    """One seed's attachment fetching, for the notices of one crawl."""

    def __init__(
        self,
        store: Store,
        pages: SiteFetcher,
        settings: Settings,
        sandbox: Sandbox,
        on_error: Callable[[str, PageFailure], Awaitable[None]],
    ) -> None:
        self.store = store
        self.pages = pages
        self.settings = settings
        self.sandbox = sandbox
        self.on_error = on_error

    async def attach(self, url: str, page: Page) -> Page:
        """The page with each attachment's sha256, fetched now or kept from before."""
        known = self.store.current_files(url)
        files = await self._fetch([a.url for a in page.attachments], known)
        attachments = tuple(replace(a, sha256=files.get(a.url)) for a in page.attachments)
        return replace(page, attachments=attachments)

    async def revise(self, url: str, run_id: int | None) -> Outcome | None:
        """For a notice whose page answered 304: the revision its changed files make, or
        None (nothing changed, or a file fetched the first time completed the version)."""
        files = await self.recheck(url)
        if files is None:
            return None
        outcome = self.store.record_files(url, files, run_id)
        return outcome if outcome.kind == "revised" else None

    async def recheck(self, url: str) -> dict[str, str] | None:
        """For a notice whose page did not change: its files fetched again (conditionally);
        the sha256s when any differs from the current version's, else None."""
        known = self.store.current_files(url)
        listed = self.store.current_attachment_urls(url)
        if not listed:
            return None
        files = await self._fetch(listed, known)
        return files if files != known else None

    async def _fetch(self, urls: list[str], known: dict[str, str]) -> dict[str, str]:
        files: dict[str, str] = {}
        budget = self.settings.notice_attachment_bytes
        for link in dict.fromkeys(urls):
            previous = known.get(link)
            if not self.pages.allowed(link) or budget <= 0:
                if previous:
                    files[link] = previous
                continue
            try:
                sha, size = await self._one(link, previous, budget)
            except PageFailure as failure:
                await self.on_error(link, failure)
                sha, size = previous, 0
            if sha:
                files[link] = sha
            budget -= size
        return files

    async def _one(self, link: str, previous: str | None, budget: int) -> tuple[str | None, int]:
        """(sha256, bytes transferred) of one attachment; raises PageFailure."""
        headers: dict[str, str] = {}
        if previous:
            etag, modified = self.store.get_validators(link)
            if etag:
                headers["If-None-Match"] = etag
            if modified:
                headers["If-Modified-Since"] = modified
        cap = min(self.settings.attachment_max_bytes, budget)
        resp = await self.pages.get(link, headers, max_bytes=cap)
        if resp.status == 304 and previous:
            await self._extract(previous, None)
            return previous, 0
        if resp.status >= 400:
            raise refuse(resp)
        data = resp.content
        sha = hashlib.sha256(data).hexdigest()
        if not self.store.has_file(sha):
            self.store.save_file(sha, data, identify(data), resp.content_type)
        await self._extract(sha, data)
        etag, modified = resp.headers.get("etag"), resp.headers.get("last-modified")
        if etag or modified:
            self.store.save_validators(link, etag, modified)
        return sha, len(data)

    async def _extract(self, sha: str, data: bytes | None) -> None:
        """The file's text by this generation of the extractors, unless it has one: after
        an upgrade, an unchanged file (a 304) is read again from the store."""
        if self.store.has_text(sha, generation()):
            return
        if data is None:
            stored = self.store.file_content(sha)
            if stored is None:
                return
            data = stored[0]
        self.store.save_text(sha, generation(), await self.sandbox.extract(data))
