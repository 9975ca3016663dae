"""A fleet on one machine: a multi-host mirror, `govwatch worker` processes, and the checks.

`fleet_mirror` serves `sites` mirror sites on `hosts` loopback addresses (127.0.0.2 …),
each site on a port of its own, so several sites share a host the way columns of one
government site do; every request is logged with the time its first bytes reached the
host (the kernel's receive timestamp, SO_TIMESTAMPNS on Linux: a Python server's own clock
reading comes whenever its thread gets the interpreter, on a busy machine tens of
milliseconds later, and would make two requests look closer than they came). `Fleet` starts and stops worker
processes (and a server) on one PostgreSQL store. The checks read the mirror's logs and
the store: duplicate fetches, the smallest gap between two requests to one host,
overlapping crawls of one site, and whether the store holds every notice exactly once.
tests/test_worker.py and bench/fleet.py share it.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from govwatch.demo.mirror import MirrorSite, load_seed_texts, populate
from govwatch.demo.mirror.model import Request
from govwatch.demo.mirror.site import Response, _Handler
from govwatch.store.schema import crawl_runs, events, notices, versions

FLOWS = ("generic", "trs_wcm")
SO_TIMESTAMPNS = 35
"""Linux's socket option for receive timestamps as a timespec (Python names it not)."""
_ARRIVAL = threading.local()
"""The arrival time of the request a mirror thread is serving."""


def _arrival(sock: socket.socket) -> float | None:
    """When the next bytes on `sock` reached this host (time.time() clock), peeked at
    without reading them; None when the kernel gave no timestamp (or the peer closed)."""
    try:
        _, ancillary, _, _ = sock.recvmsg(1, socket.CMSG_SPACE(16), socket.MSG_PEEK)
    except OSError:
        return None
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return float(seconds + nanoseconds / 1e9)
    return None


class _ArrivalHandler(_Handler):
    def handle_one_request(self) -> None:
        _ARRIVAL.at = _arrival(self.connection)
        super().handle_one_request()


class TimedSite(MirrorSite):
    """A mirror site that logs when each request came, for the host's smallest gap (and
    with its method and query, so a POST to a listing API and its pages count apart)."""

    def __init__(self, *args: Any, latency: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timed: list[tuple[float, str, int]] = []
        self.latency = latency
        """Seconds each answer takes, as a far or busy site's does."""

    def start(self) -> TimedSite:
        """Started, then its accept loop restarted to poll once a second: two hundred
        sites polling twenty times a second keep one process's threads so busy that a
        connection waits for its accept, and a request is logged late."""
        super().start()
        server = self._server
        assert server is not None and self._thread is not None
        server.shutdown()
        self._thread.join()
        # Accepted connections inherit the option: their requests carry arrival times.
        server.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        server.RequestHandlerClass = _ArrivalHandler
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 1.0}, daemon=True
        )
        self._thread.start()
        return self

    def respond(self, req: Request) -> Response:
        # Timed as the request came in, else as it is read, before the page is made.
        at = getattr(_ARRIVAL, "at", None) or time.time()
        if self.latency:
            time.sleep(self.latency)
        answer = super().respond(req)
        target = f"{req.path}?{req.query}" if req.query else req.path
        with self._lock:
            self.timed.append((at, f"{req.method} {target}", answer[0]))
        return answer


@dataclass
class FleetMirror:
    sites: list[TimedSite]

    def seed_files(self, directory: Path, *, rate: float, interval: str = "1h") -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for site in self.sites:
            text = "\n".join(
                (
                    f'id = "{site.name}"',
                    f'name = "{site.ident.agency} {site.ident.column} {site.name}"',
                    f'parser = "{site.parser}"',
                    f'listing_urls = ["{site.entry_url}"]',
                    f"max_pages = {site.flow.listing_fetches(site) + 1}",
                    f'interval = "{interval}"',
                    f'allowed_hosts = ["{site.host}"]',
                    f"rate = {rate!r}",
                    "baseline = false",
                    "",
                )
            )
            (directory / f"{site.name}.toml").write_text(text, encoding="utf-8")
        return directory

    def reset_logs(self) -> None:
        for site in self.sites:
            site.reset_log()
            with site._lock:
                site.timed.clear()

    def requests(self) -> list[tuple[float, str, str, int]]:
        """Every request: (time, host, site:path, status), oldest first."""
        out = [
            (at, site.host, f"{site.name}:{path}", status)
            for site in self.sites
            for at, path, status in list(site.timed)
        ]
        return sorted(out)

    def duplicate_fetches(self) -> int:
        """Requests for a page beyond its first: in one crawl cycle, fetches done twice."""
        counts = Counter(page for _, _, page, _ in self.requests())
        return sum(n - 1 for n in counts.values())

    def gaps(self) -> list[tuple[float, str, str, str]]:
        """Every gap between two requests to one host, shortest first: (seconds, host,
        the first page, the second)."""
        by_host: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for at, host, page, _ in self.requests():
            by_host[host].append((at, page))
        return sorted(
            (b[0] - a[0], host, a[1], b[1])
            for host, times in by_host.items()
            for a, b in itertools.pairwise(times)
        )

    def busiest(self, window: float) -> int:
        """The most requests one host got within any `window` seconds."""
        by_host: dict[str, list[float]] = defaultdict(list)
        for at, host, _, _ in self.requests():
            by_host[host].append(at)
        most = 0
        for times in by_host.values():
            start = 0
            for end, at in enumerate(times):
                while at - times[start] >= window:
                    start += 1
                most = max(most, end - start + 1)
        return most

    def smallest_gap(self) -> float:
        """The shortest time between two requests to one host (seconds)."""
        gaps = self.gaps()
        return gaps[0][0] if gaps else float("inf")

    def notice_count(self) -> int:
        return sum(len(site.notices) for site in self.sites)


@contextmanager
def fleet_mirror(
    sites: int, hosts: int, notices: int, page_size: int = 5, latency: float = 0.0
) -> Iterator[FleetMirror]:
    texts = load_seed_texts()
    made = []
    for i in range(sites):
        flow = FLOWS[i % len(FLOWS)]
        site = TimedSite(
            f"f{i:03d}",
            flow,
            page_size=page_size,
            number=i,
            host=f"127.0.0.{2 + i % hosts}",
            latency=latency,
        )
        made.append(populate(site, notices, texts))
    started: list[TimedSite] = []
    try:
        for site in made:
            started.append(site.start())
        yield FleetMirror(made)
    finally:
        # At once: each waits for its accept loop's next poll.
        with ThreadPoolExecutor(max(1, len(started))) as pool:
            list(pool.map(MirrorSite.stop, started))


@dataclass
class Fleet:
    """Worker processes (and a server) of one store, their output in files."""

    db: str
    seeds: Path
    logs: Path
    env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "GOVWATCH_DB": self.db, **self.env}
        with (self.logs / f"{name}.log").open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "govwatch", *args, "--seeds", str(self.seeds)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs[name] = proc
        return proc

    def worker(self, name: str, concurrency: int = 4) -> subprocess.Popen[bytes]:
        return self.start(name, "worker", "--concurrency", str(concurrency))

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop(self) -> dict[str, int | None]:
        """SIGTERM to every process still running, then the exit statuses."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        statuses: dict[str, int | None] = {}
        for name, proc in self.procs.items():
            try:
                statuses[name] = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                statuses[name] = None
        return statuses


def wait_for(check: Any, timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def runs_by_site(engine: sa.Engine) -> dict[str, list[tuple[Any, Any]]]:
    """Each site's crawl runs as (started, finished or None), oldest first."""
    out: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(crawl_runs.c.site_ids, crawl_runs.c.started_at, crawl_runs.c.finished_at)
        )
        for ids, started, finished in rows:
            for site in ids:
                out[site].append((started, finished))
    return {site: sorted(runs, key=lambda r: r[0]) for site, runs in out.items()}


def overlapping_crawls(engine: sa.Engine) -> int:
    """Finished crawls of a site that began before the site's previous crawl ended."""
    overlaps = 0
    for runs in runs_by_site(engine).values():
        done = [r for r in runs if r[1] is not None]
        overlaps += sum(1 for a, b in itertools.pairwise(done) if b[0] < a[1])
    return overlaps


def store_problems(engine: sa.Engine, expected_urls: Sequence[str]) -> list[str]:
    """What is wrong with the store after crawls: a notice missing or twice, a version or
    an event written twice, a notice without exactly one version and one `new` event."""
    problems: list[str] = []
    with engine.connect() as conn:
        urls = Counter(conn.execute(sa.select(notices.c.url)).scalars())
        problems += [f"notice twice: {u}" for u, n in urls.items() if n > 1]
        problems += [f"notice missing: {u}" for u in set(expected_urls) - set(urls)]
        per_notice = Counter(conn.execute(sa.select(versions.c.notice_id)).scalars())
        problems += [f"notice {n}: {k} versions" for n, k in per_notice.items() if k != 1]
        new_events = Counter(
            conn.execute(sa.select(events.c.notice_id).where(events.c.kind == "new")).scalars()
        )
        problems += [f"notice {n}: {k} new events" for n, k in new_events.items() if k != 1]
        ids = set(conn.execute(sa.select(notices.c.id)).scalars())
        problems += [f"notice {n}: no version" for n in ids - set(per_notice)]
    return problems


def expected_urls(mirror: FleetMirror) -> list[str]:
    return [site.notice_url(n.id) for site in mirror.sites for n in site.notices]
