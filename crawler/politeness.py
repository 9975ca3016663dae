"""Being a good guest: per-host pacing and concurrency, and a retry policy.

Each host gets at most `concurrency` requests in flight and one request start every
1/rate seconds; a global semaphore bounds all hosts together. Retries back off
exponentially with full jitter, and a 429/503's Retry-After is honoured (capped).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 60.0


class HostGate:
    def __init__(self, rate: float, concurrency: int) -> None:
        self.interval = 1.0 / rate
        self.slots = asyncio.Semaphore(concurrency)
        self.lock = asyncio.Lock()
        self.next_start = 0.0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        async with self.slots:
            async with self.lock:
                now = time.monotonic()
                wait = self.next_start - now
                self.next_start = max(now, self.next_start) + self.interval
            if wait > 0:
                await asyncio.sleep(wait)
            yield


class Gates:
    """One HostGate per host, created on first use, under one global limit."""

    def __init__(self, global_limit: int, per_host: int) -> None:
        self.global_slots = asyncio.Semaphore(global_limit)
        self.per_host = per_host
        self.hosts: dict[str, HostGate] = {}

    @asynccontextmanager
    async def turn(self, host: str, rate: float) -> AsyncIterator[None]:
        gate = self.hosts.get(host)
        if gate is None:
            gate = self.hosts[host] = HostGate(rate, self.per_host)
        async with gate.turn(), self.global_slots:
            yield


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
