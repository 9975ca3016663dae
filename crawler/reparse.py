"""Re-clean stored raw pages with this release's parsers, in one pass: `govwatch reparse`.

After an upgrade, every version made by an older parser version is cleaned again from
the raw page the store kept. A record that comes out different replaces the stored one
(which is kept in `extractions`); nothing is a revision and no event is written: the
site did not change, our cleaning did. Pages are decoded as the crawler decoded them
(the seed's `encoding`, else the stored Content-Type, BOM and <meta>).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from govwatch.crawler.seeds import Seed
from govwatch.errors import GovwatchError
from govwatch.parsers import Page, clean
from govwatch.parsers.decode import decode_html
from govwatch.parsers.registry import names, version
from govwatch.store import Store
from govwatch.store.rows import StoredPage


@dataclass
class ReparseSummary:
    checked: int = 0
    reextracted: int = 0
    failed: list[tuple[str, int, str]] = field(default_factory=list)

    def line(self) -> str:
        failed = f", {len(self.failed)} could not be cleaned" if self.failed else ""
        return (
            f"reparsed {self.checked} stored versions: {self.reextracted} re-extracted, "
            f"{self.checked - self.reextracted - len(self.failed)} unchanged{failed}"
        )


def reclean(
    raw: bytes, content_type: str | None, url: str, parser: str, encoding: str | None
) -> Page:
    """A stored raw notice page as this release's `parser` cleans it, decoded as the
    crawler decodes pages (the seed's `encoding` first)."""
    text = decode_html(raw, content_type, override=encoding).text
    return clean(text, url, parser=parser, expect="detail")


def reparse(
    store: Store,
    seeds: list[Seed],
    site: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReparseSummary:
    """Re-extract every version of `site` (all sites: None) that an older parser version
    made; `progress(done, total)` after each batch."""
    current = {name: version(name) for name in names()}
    encodings = {seed.id: seed.encoding for seed in seeds}
    total = store.count_stale(current, site)
    summary = ReparseSummary()
    for batch in store.pages_to_reparse(current, site):
        cleaned: list[tuple[StoredPage, Page, str]] = []
        for stored in batch:
            try:
                page = reclean(
                    stored.raw_html(),
                    stored.content_type,
                    stored.url,
                    stored.parser,
                    encodings.get(stored.site_id),
                )
            except (GovwatchError, ValueError) as exc:
                summary.failed.append((stored.url, stored.number, str(exc)))
                continue
            if page.kind != "detail":
                summary.failed.append((stored.url, stored.number, f"a {page.kind} page"))
                continue
            cleaned.append((stored, page, current[stored.parser]))
        summary.reextracted += store.reextract(cleaned)
        summary.checked += len(batch)
        if progress is not None:
            progress(summary.checked, total)
    return summary
