"""Being a good guest: per-host pacing and concurrency, and a retry policy.

A host gets one request start every 1/rate seconds however many crawls ask for it: each
request books the host's next free slot from a slot book and waits for it, holding no lock
meanwhile. In one process the book is in memory (MemorySlots, shared by every crawl of a
`govwatch serve`); across a fleet of workers it is the store's table on PostgreSQL
(StoreSlots), booked with the database's clock; the store says which (slot_book), so
`serve`, `crawl` and workers on one PostgreSQL keep one rate per host. A 429 or Retry-After
pushes the host's next slot back and slows it down for every crawl that shares the book.
Lateness is judged when the request goes out, not when its waiter wakes: a request whose
connection setup or event loop held it back by more than LATE of the gap past its slot
books another (Gates.send), so two requests to a host are never less than (1 - LATE) gaps
apart however long the way from the slot to the wire.
Each crawl also keeps at most `concurrency` requests in flight per host, under one global
limit. Retries back off exponentially with full jitter, and a 429/503's Retry-After is
honoured (capped).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime
from typing import Protocol, TypeVar

from govwatch.store.schedule import SLOW_FACTOR, SLOW_WINDOW, Schedule

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 60.0
CLOCK_CHECK = 10.0
"""Seconds between two samples of the database's clock (StoreSlots)."""
CLOCK_SAMPLES = 9
LATE = 0.05
"""Share of a host's gap by which a request may go out after its slot; later, it takes a
new one, so two requests to a host are never less than (1 - LATE) gaps apart."""
LATE_FLOOR = 0.02
"""Seconds late a request may always be: for a high rate, LATE of its gap is less than a
busy machine's wake-up delay."""
PATIENT_GAP = 0.1
"""A host's gap from which a late request books new slots until it is on time, judged as
it goes out; below it (a rate above 10/s, a benchmark's or a mirror's), judged as it
wakes, REBOOKS at most, then it goes anyway."""
REBOOKS = 3

T = TypeVar("T")


class SlotBook(Protocol):
    """Where hosts' next free request slots are kept."""

    def book(self, host: str, gap: float) -> float:
        """Book the host's next slot, `gap` after the one before; seconds to wait for it."""
        ...

    def slow_down(self, host: str, seconds: float) -> None:
        """No request to `host` for `seconds`, then longer gaps for a while."""
        ...


class MemorySlots:
    """The slot book of one process, for crawls in any thread (each has its own loop)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._slow_until: dict[str, float] = {}

    def book(self, host: str, gap: float) -> float:
        with self._lock:
            now = self._clock()
            if self._slow_until.get(host, 0.0) > now:
                gap *= SLOW_FACTOR
            start = max(now, self._next.get(host, 0.0))
            self._next[host] = start + gap
            return start - now

    def slow_down(self, host: str, seconds: float) -> None:
        with self._lock:
            now = self._clock()
            self._next[host] = max(self._next.get(host, 0.0), now + seconds)
            self._slow_until[host] = max(
                self._slow_until.get(host, 0.0), now + seconds + SLOW_WINDOW
            )


class StoreSlots:
    """The slot book every worker on one PostgreSQL store shares. Slots are times on the
    database's clock; this process turns them into waits through its estimate of that
    clock, so neither the workers' own clocks nor the time a booking takes to come back
    move a request closer to another's. The estimate is the sample of the shortest round
    trip (off by at most half of it): CLOCK_SAMPLES at first, then one more every
    CLOCK_CHECK seconds, kept when its round trip is shorter."""

    def __init__(self, store: Schedule) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._offset = 0.0
        self._round_trip = math.inf
        self._checked: float | None = None

    def book(self, host: str, gap: float) -> float:
        slot = self._store.book_slot(host, gap)
        return slot - self._database_now()

    def slow_down(self, host: str, seconds: float) -> None:
        self._store.slow_host(host, seconds)

    def _database_now(self) -> float:
        with self._lock:
            now = time.monotonic()
            if self._checked is None or now - self._checked > CLOCK_CHECK:
                for _ in range(CLOCK_SAMPLES if self._checked is None else 1):
                    before = time.time()
                    theirs = self._store.database_time()
                    after = time.time()
                    if after - before < self._round_trip:
                        self._round_trip = after - before
                        self._offset = theirs - (before + after) / 2
                self._checked = now
            return time.time() + self._offset


def slot_book(store: Schedule) -> SlotBook:
    """The book a crawl on `store` takes its hosts' slots from: the store's own when other
    processes share it (PostgreSQL: workers, a server, `govwatch crawl`), else one in
    memory. One rule for every command, chosen by the store."""
    return StoreSlots(store) if store.shared else MemorySlots()


class LateForSlot(Exception):
    """A request about to go out too long after its slot: it books another instead."""


class Ticket:
    """A booked slot (a time.monotonic() value) and how late its request may go out."""

    def __init__(self, due: float, allowance: float) -> None:
        self.due = due
        self.allowance = allowance
        self.sent = False

    def going(self) -> None:
        """The request is going out now: LateForSlot if that is too long after the slot.
        Only the first call counts (a proxy's CONNECT, then the request itself)."""
        if self.sent:
            return
        late = time.monotonic() - self.due
        if late > self.allowance:
            raise LateForSlot(f"{late * 1000:.0f} ms after its slot")
        self.sent = True


class Gates:
    """One crawl's turns at hosts: at most `per_host` requests in flight per host and
    `global_limit` in all, each request starting at a slot of `slots` (a book of its own
    unless one is shared)."""

    def __init__(self, global_limit: int, per_host: int, slots: SlotBook | None = None) -> None:
        self.global_slots = asyncio.Semaphore(global_limit)
        self.per_host = per_host
        self.slots: SlotBook = slots if slots is not None else MemorySlots()
        self.hosts: dict[str, asyncio.Semaphore] = {}

    async def send(self, host: str, rate: float, request: Callable[[Ticket], Awaitable[T]]) -> T:
        """`request(ticket)` at the host's next slot; it calls `ticket.going()` at the moment
        its request goes out (fetch's on_send), and when that is too late the slot is given
        up and another booked."""
        gap = 1.0 / rate
        async with self._in_flight(host):
            tries = 0
            while True:
                tries += 1
                due = await self._slot(host, gap)
                async with self.global_slots:
                    allowance = self._allowance(gap, tries)
                    if gap < PATIENT_GAP:
                        # A fast host's (a mirror's) lateness is judged on waking: a request
                        # stopped on its way out costs its connection, too dear at that pace.
                        if time.monotonic() - due > allowance:
                            continue
                        allowance = math.inf
                    try:
                        return await request(Ticket(due, allowance))
                    except LateForSlot:
                        continue

    @asynccontextmanager
    async def turn(self, host: str, rate: float) -> AsyncIterator[None]:
        """A turn for requests this process does not send itself (a browser's): judged
        late when its waiter wakes, the nearest to sending it can see."""
        gap = 1.0 / rate
        async with self._in_flight(host):
            for tries in itertools.count(1):
                due = await self._slot(host, gap)
                async with self.global_slots:
                    if time.monotonic() - due <= self._allowance(gap, tries):
                        yield
                        return

    def _in_flight(self, host: str) -> asyncio.Semaphore:
        in_flight = self.hosts.get(host)
        if in_flight is None:
            in_flight = self.hosts[host] = asyncio.Semaphore(self.per_host)
        return in_flight

    async def _slot(self, host: str, gap: float) -> float:
        """Book the host's next slot and sleep until it; returns when it was (monotonic)."""
        if isinstance(self.slots, MemorySlots):
            # A dict under a lock held for microseconds: a thread's round trip would cost
            # more than the booking, and delay the request it books for.
            due = self._due(host, gap)
        else:
            # In a thread: a booking that waits its turn at the host's row (other workers
            # book it too) holds up no other request of this crawl meanwhile.
            due = await asyncio.to_thread(self._due, host, gap)
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        return due

    def _due(self, host: str, gap: float) -> float:
        """The host's next slot, booked, as a time.monotonic() value. Counted from the
        booking's answer, not from its start: a booking that took long would otherwise
        make the request go out that much early. And taken at the answer, in the thread
        that booked: on a busy loop the way back from that thread can take tens of
        milliseconds, and a wait counted from after it puts the slot that much late, its
        request out on top of the next one to the host, however on time it is judged."""
        wait = self.slots.book(host, gap)
        return time.monotonic() + wait

    @staticmethod
    def _allowance(gap: float, tries: int) -> float:
        """Seconds a request may go out after its slot, at its `tries`-th slot."""
        if gap < PATIENT_GAP and tries > REBOOKS:
            return math.inf
        return max(LATE * gap, LATE_FLOOR)

    def slow_down(self, host: str, seconds: float) -> None:
        self.slots.slow_down(host, seconds)


def backoff(attempt: int, base: float, retry_after: str | None = None) -> float:
    """Seconds to wait before retry `attempt` (1, 2, …)."""
    if retry_after:
        seconds = _retry_after_seconds(retry_after)
        if seconds is not None:
            return min(seconds, MAX_RETRY_AFTER)
    return random.uniform(0, base * 2 ** (attempt - 1))


def _retry_after_seconds(value: str) -> float | None:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
