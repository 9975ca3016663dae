"""Per-host slots shared by crawls: one rate per host, and a 429 slows every crawl of it."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from govwatch.crawler.politeness import Gates, MemorySlots
from govwatch.store.schedule import SLOW_FACTOR, SLOW_WINDOW


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_memory_slots_space_a_host_and_a_429_holds_every_booker_back() -> None:
    clock = FakeClock()
    slots = MemorySlots(clock)
    assert [slots.book("h", 0.5) for _ in range(3)] == [0.0, 0.5, 1.0]
    assert slots.book("other", 0.5) == 0.0  # hosts apart
    clock.now += 1.5  # every booked slot has passed
    slots.slow_down("h", 10.0)
    assert slots.book("h", 0.5) == 10.0
    assert slots.book("h", 0.5) == 10.0 + SLOW_FACTOR * 0.5
    clock.now += 10.0 + SLOW_WINDOW + 5  # the slow window is over: the plain gap again
    first, second = slots.book("h", 0.5), slots.book("h", 0.5)
    assert (first, second) == (0.0, 0.5)


def test_two_crawls_sharing_slots_keep_one_rate_for_their_host() -> None:
    """Two crawls (each its own Gates, as each run has) on one host at 4/s: their request
    starts together are 250 ms apart, not twice as many in the same time."""
    slots = MemorySlots()
    starts: list[float] = []

    async def crawl() -> None:
        gates = Gates(global_limit=8, per_host=2, slots=slots)

        async def request() -> None:
            async with gates.turn("h", rate=4.0):
                starts.append(time.monotonic())

        await asyncio.gather(*(request() for _ in range(5)))

    async def both() -> None:
        await asyncio.gather(crawl(), crawl())

    asyncio.run(both())
    starts.sort()
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) == 10
    assert min(gaps) >= 0.25 * 0.9
    assert starts[-1] - starts[0] == pytest.approx(2.25, abs=0.5)


def test_a_crawl_told_to_slow_down_delays_the_other_crawl_of_that_host() -> None:
    slots = MemorySlots()

    async def scenario() -> float:
        first = Gates(8, 2, slots)
        second = Gates(8, 2, slots)
        async with first.turn("h", rate=100.0):
            first.slow_down("h", 0.3)  # the host answered 429, Retry-After: 0.3
        started = time.monotonic()
        async with second.turn("h", rate=100.0):
            return time.monotonic() - started

    assert asyncio.run(scenario()) >= 0.29
