"""A fetched page is decoded and cleaned once: when a newer parser re-extracts a stored
version whose bytes are the ones just fetched, the crawl hands the store the page it has
just cleaned instead of decoding and cleaning the same bytes again. Through the mirror,
real HTTP and a real store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from govwatch.crawler import engine
from govwatch.crawler.engine import Crawler, SiteStats
from govwatch.crawler.seeds import load_seeds
from govwatch.demo.mirror import Mirror
from govwatch.demo.mirror.build import populate
from govwatch.demo.mirror.site import MirrorSite
from govwatch.demo.mirror.texts import generated_texts
from govwatch.parsers import Page
from govwatch.store import Store
from tests.parser_release import IMPROVED, improved_parser
from tests.test_upgrade import FAST

NOTICES = 12


def _crawl(store: Store, mirror: Mirror, tmp_path: Path) -> SiteStats:
    if not (tmp_path / "seeds").exists():
        mirror.seed_files(tmp_path / "seeds", rate=500.0)
    return asyncio.run(Crawler(store, FAST).run(load_seeds(tmp_path / "seeds"))).sites["reuse"]


def _recleans(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The stored pages the crawl decodes and cleans again, recorded as it does."""
    seen: list[bytes] = []
    real = engine.reclean

    def spy(raw: bytes, *args: str | None) -> Page:
        seen.append(raw)
        return real(raw, *args)

    monkeypatch.setattr(engine, "reclean", spy)
    return seen


@pytest.mark.parametrize("view_counter", [False, True], ids=["same bytes", "bytes changed"])
def test_a_parser_upgrade_reuses_the_page_just_cleaned(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, view_counter: bool
) -> None:
    # Pages fetched in full every time (no conditional request), their bytes the same
    # from one fetch to the next unless a live view counter changes them.
    monkeypatch.setattr(Store, "get_validators", lambda self, url: (None, None))
    site = populate(
        MirrorSite("reuse", "generic", page_size=10, view_counter=view_counter),
        NOTICES,
        generated_texts(),
    )
    with Mirror([site]) as mirror, Store.open(store_url) as store:
        assert _crawl(store, mirror, tmp_path).new == NOTICES
        improved_parser(monkeypatch)
        recleaned = _recleans(monkeypatch)
        upgraded = _crawl(store, mirror, tmp_path)
        assert (upgraded.reextracted, upgraded.revised, upgraded.errors) == (NOTICES, 0, 0)
        (only,) = store.history(site.notice_url(site.notices[0].id))
        assert only.body.endswith(IMPROVED)
        # Stored bytes that differ from the fetched ones are read again; the same bytes
        # never are.
        assert len(recleaned) == (NOTICES if view_counter else 0)
