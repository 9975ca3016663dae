"""The fleet's throughput, politeness and recovery: `govwatch worker`s over one PostgreSQL.

Run by hand:  python bench/fleet.py --server postgresql://postgres@127.0.0.1:5432/postgres
              [--sites 200] [--hosts 10] [--notices 3] [--workers 1,2,4]
              [--high-rate 1000] [--polite-rate 2] [--parts high,polite,kill]
              [--latency 0]

Serves a multi-host mirror (tests/fleet.py: `--sites` sites on `--hosts` loopback
addresses, each site on its own port, realistic pages with ETag/304; each request timed
by the kernel as it arrives), then for each worker count crawls it once into a fresh
database (created on `--server`, which must allow CREATE DATABASE):

- high: a high per-host cap, the engine's own speed: pages/s, the speed-up over one
  worker, and the workers' CPU seconds per page (read from /proc, their start left out),
  which say what the machine's cores allow;
- polite: at a polite rate, with a `govwatch serve` beside the workers (serving only):
  pages/s against hosts x rate, and the issue's checks: duplicate fetches of a page in the
  cycle, overlapping crawls of a site, the smallest gap between two requests to one host
  as a share of the rate's gap;
- kill: two workers at the polite rate, one SIGKILLed mid-crawl: how long until its
  sites' crawls are queued again (the bound is stalled_after + tick + 1 s) and started.

The machine's cores and load are printed first and last: on two cores, four workers
share them with the mirror, PostgreSQL and whatever else runs. `--latency S`: every answer
takes S seconds, as a far site's does; the workers then wait on the network more than
they compute, and the high cap shows how the fleet scales when cores are not what bounds
it (each worker runs 8 crawls, each crawl 2 requests to a host at once).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import ssl
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from govwatch.crawler.fetch import make_client  # noqa: E402
from govwatch.settings import Settings  # noqa: E402
from govwatch.store import Store  # noqa: E402
from govwatch.store.schema import site_schedule  # noqa: E402
from tests.fleet import (  # noqa: E402
    Fleet,
    FleetMirror,
    fleet_mirror,
    overlapping_crawls,
    runs_by_site,
    wait_for,
)

TIMING = {"GOVWATCH_TICK": "1", "GOVWATCH_HEARTBEAT": "1", "GOVWATCH_STALLED_AFTER": "10"}
BOUND = 10 + 1 + 1
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Cycle:
    workers: int
    pages: int
    seconds: float
    cpu: float
    """CPU seconds the worker processes used."""
    startup: float
    """Of which their start (imports, the store opened, the seeds planned): once per
    process, not per page."""
    duplicates: int
    overlaps: int
    gap_ratio: float
    """The smallest gap between two requests to one host, as a share of the rate's gap."""

    @property
    def rate(self) -> float:
        return self.pages / self.seconds

    @property
    def per_page(self) -> float:
        """The workers' CPU milliseconds per page, their start left out."""
        return (self.cpu - self.startup) / self.pages * 1000


def machine() -> str:
    one, five, fifteen = os.getloadavg()
    cores = len(os.sched_getaffinity(0))
    return f"cores (nproc): {cores}; load average {one:.2f} {five:.2f} {fifteen:.2f}"


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def started(fleet: Fleet, name: str, pid: int) -> float:
    """The CPU seconds a worker took to start: read once it says it works."""
    wait_for(lambda: "worker: " in fleet.log(name), 300, f"{name} started", 0.02)
    return cpu_seconds(pid)


def fresh_database(server: str) -> str:
    url = sa.make_url(server)
    name = f"fleet_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    db = url.set(database=name).render_as_string(hide_password=False)
    Store.open(db).close()
    return db


def crawled(engine: sa.Engine) -> int:
    return sum(any(r[1] for r in runs) for runs in runs_by_site(engine).values())


def one_cycle(
    mirror: FleetMirror, server: str, workers: int, rate: float, tmp: Path, *, serve: bool
) -> Cycle:
    mirror.reset_logs()
    db = fresh_database(server)
    engine = sa.create_engine(db)
    logs = Path(tempfile.mkdtemp(dir=tmp))
    fleet = Fleet(db, mirror.seed_files(logs / "seeds", rate=rate), logs, TIMING)
    try:
        procs = [fleet.worker(f"w{n}", concurrency=8) for n in range(workers)]
        startup = sum(started(fleet, f"w{n}", proc.pid) for n, proc in enumerate(procs))
        if serve:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            fleet.start("serve", "serve", "--port", str(port))
        wait_for(lambda: crawled(engine) == len(mirror.sites), 1800, "one whole cycle", 0.5)
        cpu = sum(cpu_seconds(proc.pid) for proc in procs)
        if serve:
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).json()
            assert health["scheduler"]["fleet"], "serve scheduled crawls beside the workers"
    finally:
        fleet.stop()
    times = [at for at, _, _, _ in mirror.requests()]
    gap = mirror.smallest_gap()
    cycle = Cycle(
        workers,
        len(times),
        max(times) - min(times),
        cpu,
        startup,
        mirror.duplicate_fetches(),
        overlapping_crawls(engine),
        gap * rate,
    )
    print(
        f"  {workers} worker(s){' + serve' if serve else ''}: {cycle.pages} requests in "
        f"{cycle.seconds:.1f} s = {cycle.rate:.1f} pages/s; workers' CPU "
        f"{cycle.cpu:.1f} s, of which {cycle.startup:.1f} s to start, {cycle.per_page:.1f} ms "
        "per page; duplicate "
        f"fetches {cycle.duplicates}; overlapping crawls {cycle.overlaps}; smallest gap to "
        f"a host {gap * 1000:.0f} ms = {cycle.gap_ratio:.2f} x the rate's gap"
    )
    if cycle.gap_ratio < 0.9:
        for seconds, host, first, second in mirror.gaps()[:3]:
            print(f"    {seconds * 1000:.0f} ms on {host}: {first} then {second}")
    engine.dispose()
    return cycle


def setup_cost() -> None:
    """What a crawl job no longer pays: a TLS context (the CA store loaded), made once per
    process now, and a client, kept by the worker's crawl thread across jobs."""
    runs = 10
    started = time.perf_counter()
    for _ in range(runs):
        ssl.create_default_context()
    loading = (time.perf_counter() - started) / runs
    settings = Settings.from_env()
    make_client(settings)  # the process's first: loads the CA store once
    started = time.perf_counter()
    for _ in range(runs):
        make_client(settings)
    client = (time.perf_counter() - started) / runs
    print(
        f"per-job client setup: {loading * 1000:.0f} ms to load the CA store (once per "
        f"worker process now, before: once per crawl job); a client on it {client * 1000:.1f}"
        " ms (once per crawl thread now)"
    )


def scaling(cycles: list[Cycle]) -> None:
    one = cycles[0]
    for cycle in cycles[1:]:
        print(
            f"  {cycle.workers} workers / {one.workers}: {cycle.rate / one.rate:.2f}x the "
            f"pages/s; CPU per page {cycle.per_page:.1f} ms against {one.per_page:.1f} ms"
        )
    busy = (one.cpu - one.startup) / one.seconds
    print(
        f"  one worker kept {busy:.2f} of a core busy; the workers need "
        f"{one.per_page:.1f} ms of CPU per page, so N workers reach N x "
        f"{one.rate:.1f} pages/s where N cores are free for them (PostgreSQL and the sites "
        f"need theirs too); this machine has {len(os.sched_getaffinity(0))}"
    )


def survivors(engine: sa.Engine) -> set[str]:
    """Sites whose crawl job a worker other than the oldest runs: the survivor's."""
    query = sa.text(
        """
        SELECT j.args ->> 'site_id' FROM procrastinate_jobs j
         WHERE j.status = 'doing'
           AND j.worker_id > (SELECT min(id) + 1 FROM procrastinate_workers)
        """
    )
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def recovery(mirror: FleetMirror, server: str, rate: float, tmp: Path) -> None:
    db = fresh_database(server)
    engine = sa.create_engine(db)
    logs = Path(tempfile.mkdtemp(dir=tmp))
    fleet = Fleet(db, mirror.seed_files(logs / "seeds", rate=rate), logs, TIMING)

    def running() -> set[str]:
        with engine.connect() as conn:
            query = sa.select(site_schedule.c.site_id).where(
                site_schedule.c.started_at.is_not(None)
            )
            return set(conn.execute(query).scalars())

    try:
        victim = fleet.worker("victim", concurrency=8)
        wait_for(lambda: len(running()) >= 8, 300, "the victim crawling", 0.2)
        fleet.worker("survivor", concurrency=8)
        time.sleep(15)  # the survivor starts and takes crawls of its own
        victims = running() - survivors(engine)
        victim.send_signal(signal.SIGKILL)
        killed = datetime.now(UTC)

        def requeued() -> dict[str, float]:
            """Seconds from the kill to the first crawl job deferred anew, per cut site."""
            query = sa.text(
                """
                SELECT j.args ->> 'site_id' AS site, min(e.at) AS at
                  FROM procrastinate_jobs j
                  JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
                 WHERE e.at > :killed GROUP BY 1
                """
            )
            with engine.connect() as conn:
                rows = conn.execute(query, {"killed": killed})
                return {r.site: (r.at - killed).total_seconds() for r in rows if r.site in victims}

        def restarted() -> dict[str, float]:
            return {
                site: (min(r[0] for r in runs if r[0] > killed) - killed).total_seconds()
                for site, runs in runs_by_site(engine).items()
                if site in victims and any(r[0] > killed for r in runs)
            }

        wait_for(lambda: len(requeued()) == len(victims), 300, "the reaping", 0.2)
        wait_for(lambda: crawled(engine) == len(mirror.sites), 1800, "every site crawled", 0.5)
        queued, started = requeued(), restarted()
        print(
            f"  SIGKILL: {len(victims)} of the victim's crawls cut short; queued again within"
            f" {max(queued.values()):.1f} s of the kill (bound {BOUND} s), started again within"
            f" {max(started.values()):.1f} s (when a worker had a free slot)"
        )
    finally:
        fleet.stop()
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", required=True, help="PostgreSQL URL allowed CREATE DATABASE")
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--hosts", type=int, default=10)
    ap.add_argument("--notices", type=int, default=3)
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--high-rate", type=float, default=1000.0)
    ap.add_argument("--polite-rate", type=float, default=2.0)
    ap.add_argument("--parts", default="high,polite,kill")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds each answer takes")
    args = ap.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    parts = set(args.parts.split(","))
    print(machine())
    print(
        f"{args.sites} sites on {args.hosts} hosts, {args.notices} notices each, answers in "
        f"{args.latency * 1000:.0f} ms"
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        fleet_mirror(args.sites, args.hosts, args.notices, latency=args.latency) as mirror,
    ):
        high: list[Cycle] = []
        polite: list[Cycle] = []
        if "high" in parts:
            setup_cost()
            print(f"high cap: {args.high_rate:g} requests/s per host")
            high = [
                one_cycle(mirror, args.server, n, args.high_rate, Path(tmp), serve=False)
                for n in counts
            ]
            scaling(high)
        if "polite" in parts:
            rate = args.polite_rate
            print(
                f"polite: {rate:g} requests/s per host, a gap of {1000 / rate:.0f} ms (hosts x "
                f"rate = {args.hosts * rate:g}/s), a govwatch serve beside the workers"
            )
            polite = [
                one_cycle(mirror, args.server, n, rate, Path(tmp), serve=True) for n in counts
            ]
        if "kill" in parts:
            recovery(mirror, args.server, args.polite_rate, Path(tmp))
    done_when(args.sites, args.hosts, high, polite)
    print(machine())


def done_when(sites: int, hosts: int, high: list[Cycle], polite: list[Cycle]) -> None:
    """The issue's acceptance figures, from the runs above."""
    if polite:
        last = polite[-1]
        print(
            f"done when: {last.workers} workers + serve, {sites} sites on {hosts} hosts: "
            f"duplicate fetches {last.duplicates} (0), overlapping crawls {last.overlaps} (0), "
            f"smallest gap {min(c.gap_ratio for c in polite):.2f} x the rate's gap (>= 0.9)"
        )
    if len(high) > 1:
        print(
            f"done when: {high[-1].workers} workers / {high[0].workers} at a high cap "
            f"{high[-1].rate / high[0].rate:.2f}x (>= 3x with enough cores; here "
            f"{len(os.sched_getaffinity(0))})"
        )


if __name__ == "__main__":
    main()
