"""A crawl's event loop is kept for its requests: parsing pages and writing the store run
beside it (crawler/offload.py), so a request due while a page is parsed or a version is
written goes out on time instead of after it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from govwatch.crawler.engine import Crawler, RunSummary
from govwatch.crawler.pages import SiteFetcher
from govwatch.crawler.seeds import load_seeds
from govwatch.settings import Settings
from govwatch.store import Store
from tests.fleet import fleet_mirror

BLOCK = 0.4
"""Seconds each of the first calls of a slow function blocks (a long parse, a busy
database)."""


def slow_at_first(fn: Callable[..., Any], calls: int) -> tuple[Callable[..., Any], list[str]]:
    """`fn` blocking BLOCK seconds on each of its first `calls` calls, and the names of the
    threads it ran in."""
    threads: list[str] = []

    def slow(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        if len(threads) <= calls:
            time.sleep(BLOCK)
        return fn(*args, **kwargs)

    return slow, threads


async def crawl_watching_the_loop(store: Store, path: Path) -> tuple[RunSummary, float]:
    """Crawl, and the longest the loop was held up meanwhile (seconds a 10 ms sleep
    overslept)."""
    held = 0.0

    async def watch() -> None:
        nonlocal held
        while True:
            started = time.monotonic()
            await asyncio.sleep(0.01)
            held = max(held, time.monotonic() - started - 0.01)

    watcher = asyncio.create_task(watch())
    try:
        summary = await Crawler(store, Settings(retry_base=0.05)).run(load_seeds(path))
    finally:
        watcher.cancel()
    return summary, held


def test_parsing_and_store_writes_leave_the_crawls_loop_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse, parsed_in = slow_at_first(SiteFetcher.parse, 2)
    record, written_in = slow_at_first(Store.record_page, 2)
    monkeypatch.setattr(SiteFetcher, "parse", parse)
    monkeypatch.setattr(Store, "record_page", record)
    with (
        fleet_mirror(sites=1, hosts=1, notices=3) as mirror,
        Store.open(f"sqlite:///{tmp_path / 'g.db'}") as store,
    ):
        seeds = mirror.seed_files(tmp_path / "seeds", rate=100.0)
        summary, held = asyncio.run(crawl_watching_the_loop(store, seeds))
        assert summary.sites["f000"].new == 3 and not summary.failures
        assert len(store.events(kind="new")) == 3
    assert len(parsed_in) >= 4 and len(written_in) == 3
    # Each slow call blocked its thread for BLOCK seconds; the loop went on meanwhile.
    assert held < BLOCK / 2, f"the crawl's loop was held up {held:.3f} s"
    # One thread beside the loop, so the crawl's store calls stay one at a time, in order.
    assert len(set(parsed_in + written_in)) == 1
    assert threading.main_thread().name not in parsed_in + written_in
