"""Per-host slots shared by crawls: one rate per host, and a 429 slows every crawl of it."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Awaitable

import pytest

from govwatch.crawler.fetch import fetch, make_client
from govwatch.crawler.politeness import LATE, Gates, LateForSlot, MemorySlots, Ticket
from govwatch.settings import Settings
from govwatch.store.schedule import SLOW_FACTOR, SLOW_WINDOW
from tests.conftest import LocalServer


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


class AnsweredLate:
    """A shared book whose third answer takes `delay` to come back, as a busy database's
    may: the slot is booked when the statement runs, the wait counted from its answer."""

    def __init__(self, delay: float) -> None:
        self.delays = iter([0.0, 0.0, delay])
        self.inner = MemorySlots()
        self.lock = threading.Lock()

    def book(self, host: str, gap: float) -> float:
        with self.lock:
            wait = self.inner.book(host, gap)
            delay = next(self.delays, 0.0)
        time.sleep(delay)
        return wait - delay

    def slow_down(self, host: str, seconds: float) -> None:
        self.inner.slow_down(host, seconds)


def sent_at(gates: Gates, host: str, rate: float, setup: float = 0.0) -> list[float]:
    """Three requests through `gates`, each `setup` seconds from its turn to its wire
    (connection setup) on its first try; when they went out, in seconds from the start."""
    start = time.monotonic()
    went: list[float] = []
    tries: list[int] = []

    async def request(n: int) -> None:
        async def send(ticket: Ticket) -> None:
            tries.append(n)
            if tries.count(n) == 1:
                await asyncio.sleep(setup)
            ticket.going()
            went.append(time.monotonic() - start)

        await gates.send(host, rate, send)

    async def three() -> None:
        await asyncio.gather(*(request(n) for n in range(3)))

    asyncio.run(three())
    return sorted(went)


def test_a_slot_booked_slowly_is_waited_for_from_the_answer() -> None:
    """A booking that takes 0.3 s to come back (the host's row locked by other workers'
    bookings) does not make its request go out early: the wait counts from the answer."""
    went = sent_at(Gates(8, 3, AnsweredLate(0.3)), "h", rate=2.0)
    gaps = [b - a for a, b in itertools.pairwise(went)]
    assert min(gaps) >= 0.5 * (1 - LATE) - 0.01, gaps


class AnsweredToABusyLoop:
    """A shared book whose second answer reaches a loop busy for `stall` seconds (parsing,
    another thread holding the interpreter): the slot stands where it was booked."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stall: float) -> None:
        self.loop = loop
        self.stalls = iter([0.0, stall])
        self.inner = MemorySlots()

    def book(self, host: str, gap: float) -> float:
        stall = next(self.stalls, 0.0)
        if stall:  # ahead of the answer in the loop's queue
            self.loop.call_soon_threadsafe(time.sleep, stall)
        return self.inner.book(host, gap)

    def slow_down(self, host: str, seconds: float) -> None:
        self.inner.slow_down(host, seconds)


def test_a_slot_stays_where_it_was_booked_however_late_the_answer_is_read() -> None:
    """The second booking's answer is read 0.3 s late: its request still goes at its slot,
    not 0.3 s after it, on top of the third one's."""
    went: list[float] = []

    async def three() -> None:
        gates = Gates(8, 3, AnsweredToABusyLoop(asyncio.get_running_loop(), 0.3))
        start = time.monotonic()

        async def request() -> None:
            def send(ticket: Ticket) -> Awaitable[None]:
                ticket.going()
                went.append(time.monotonic() - start)
                return asyncio.sleep(0)

            await gates.send("h", 2.0, send)

        for _ in range(3):  # booked one after the other, as a crawl's notices are
            await request()

    asyncio.run(three())
    gaps = [b - a for a, b in itertools.pairwise(went)]
    assert min(gaps) >= 0.5 * (1 - LATE) - 0.01, went


def test_a_request_held_up_on_its_way_out_takes_another_slot() -> None:
    """Connection setup that outlasts LATE of the gap past the slot: the request does not
    go out then (too close to the next slot's), it books another; the gaps between the
    requests as they go out hold."""
    went = sent_at(Gates(8, 3, MemorySlots()), "h", rate=4.0, setup=0.1)
    gaps = [b - a for a, b in itertools.pairwise(went)]
    assert min(gaps) >= 0.25 * (1 - LATE) - 0.01, gaps
    # Each missed its slot (0, 0.25, 0.5 s) and went at one booked after them.
    assert went[0] >= 0.25 * 3 - 0.01, went


def test_fetch_calls_on_send_as_the_request_goes_and_stops_it_when_that_raises(
    http_server: LocalServer,
) -> None:
    url = http_server.page("/a.html", b"<html>a</html>")
    settings = Settings()
    calls: list[int] = []

    def too_late() -> None:
        raise LateForSlot("late")

    async def both() -> None:
        async with make_client(settings) as client:
            with pytest.raises(LateForSlot):
                await fetch(client, url, settings, on_send=too_late)
            assert http_server.requests == []  # nothing reached the host
            resp = await fetch(client, url, settings, on_send=lambda: calls.append(1))
            assert resp.status == 200

    asyncio.run(both())
    assert calls == [1] and len(http_server.requests) == 1
