"""The fleet's throughput, politeness and recovery: `govwatch worker`s over one PostgreSQL.

Run by hand:  python bench/fleet.py --server postgresql://postgres@127.0.0.1:5432/postgres
              [--sites 200] [--hosts 10] [--notices 3] [--workers 1,2,4]
              [--high-rate 1000] [--polite-rate 2]

Serves a multi-host mirror (tests/fleet.py: `--sites` sites on `--hosts` loopback
addresses, each site on its own port, realistic pages with ETag/304), then for each
worker count crawls it once into a fresh database (created on `--server`, which must allow
CREATE DATABASE) with a high per-host cap (the engine's own speed) and at a polite rate
(which should approach hosts × rate), and prints pages/s, duplicate fetches, the smallest
gap between two requests to one host, and overlapping crawls of one site. Last, two
workers at the polite rate, one SIGKILLed mid-crawl: how long until its sites' crawls are
queued again (the bound is stalled_after + tick + 1 s) and started again. The machine's
cores are printed first: on two cores, four workers share them with the mirror and
PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


def one_cycle(mirror: FleetMirror, server: str, workers: int, rate: float, tmp: Path) -> None:
    mirror.reset_logs()
    db = fresh_database(server)
    engine = sa.create_engine(db)
    logs = Path(tempfile.mkdtemp(dir=tmp))
    fleet = Fleet(db, mirror.seed_files(logs / "seeds", rate=rate), logs, TIMING)
    try:
        for n in range(workers):
            fleet.worker(f"w{n}", concurrency=8)
        wait_for(lambda: crawled(engine) == len(mirror.sites), 1800, "one whole cycle", 0.5)
    finally:
        fleet.stop()
    times = [at for at, _, _, _ in mirror.requests()]
    took = max(times) - min(times)
    print(
        f"  {workers} worker(s): {len(times)} requests in {took:.1f} s = "
        f"{len(times) / took:.1f} pages/s; duplicate fetches {mirror.duplicate_fetches()}; "
        f"smallest gap to a host {mirror.smallest_gap() * 1000:.0f} ms "
        f"(rate gap {1000 / rate:.0f} ms); overlapping crawls {overlapping_crawls(engine)}"
    )
    engine.dispose()


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
    args = ap.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    print(f"cores: {os.cpu_count()}; {args.sites} sites on {args.hosts} hosts")
    with (
        tempfile.TemporaryDirectory() as tmp,
        fleet_mirror(args.sites, args.hosts, args.notices) as mirror,
    ):
        for label, rate in (("high cap", args.high_rate), ("polite", args.polite_rate)):
            print(f"{label}: {rate:g} requests/s per host (hosts x rate = {args.hosts * rate:g}/s)")
            for workers in counts:
                one_cycle(mirror, args.server, workers, rate, Path(tmp))
        recovery(mirror, args.server, args.polite_rate, Path(tmp))


if __name__ == "__main__":
    main()
