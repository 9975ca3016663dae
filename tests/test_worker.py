"""`govwatch worker` fleets on a real PostgreSQL, crawling real HTTP mirrors on 127.0.0.x.

Several worker processes (and a server) share one store: every site is crawled once per
cycle with no page fetched twice, no two crawls of one site at once, no host asked faster
than its rate; a worker SIGKILLed mid-crawl has its sites crawled again within the stated
bound (stalled_after + tick + 1 s), with nothing stored twice and nothing lost.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from govwatch.store import Store
from govwatch.store.schema import crawl_runs, site_schedule
from tests.fleet import (
    Fleet,
    expected_urls,
    fleet_mirror,
    overlapping_crawls,
    runs_by_site,
    store_problems,
    wait_for,
)
from tests.pg import fresh_database

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # PostgreSQL, worker processes, SIGKILL

FAST = {"GOVWATCH_TICK": "1", "GOVWATCH_HEARTBEAT": "1", "GOVWATCH_STALLED_AFTER": "10"}
"""Fleet timings for tests: the kill bound is 10 + 1 + 1 = 12 s. Ten seconds without a
beat, not three: a loaded two-core machine can starve a live worker that long, and a live
worker taken for dead has its crawls done twice."""
BOUND = 10 + 1 + 1


def fleet_json(db: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "govwatch", "fleet", "--db", db, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **FAST},
    )
    return dict(json.loads(done.stdout))


@pytest.fixture
def db(postgres_url: str) -> str:
    url = fresh_database(postgres_url)
    Store.open(url).close()  # migrated once, not by every process at once
    return url


@pytest.fixture
def engine(db: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(db)
    yield engine
    engine.dispose()


def crawled_sites(engine: sa.Engine) -> set[str]:
    return {site for site, runs in runs_by_site(engine).items() if any(r[1] for r in runs)}


def test_four_workers_and_a_server_crawl_200_sites_on_10_hosts(
    db: str, engine: sa.Engine, tmp_path: Path
) -> None:
    rate = 2.0  # a gap of 0.5 s per host, shared by its 20 sites
    with fleet_mirror(sites=200, hosts=10, notices=2, page_size=5) as mirror:
        fleet = Fleet(db, mirror.seed_files(tmp_path / "seeds", rate=rate), tmp_path, FAST)
        try:
            for n in range(4):
                fleet.worker(f"worker{n}", concurrency=4)
            wait_for(lambda: fleet_json(db)["workers_alive"] == 4, 60, "four live workers")
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            fleet.start("serve", "serve", "--port", str(port))
            sites = {site.name for site in mirror.sites}
            wait_for(lambda: crawled_sites(engine) >= sites, 240, "every site crawled", 1.0)
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            figures = fleet_json(db)
        finally:
            statuses = fleet.stop()
        assert statuses == dict.fromkeys(fleet.procs, 0), {
            n: fleet.log(n)[-2000:] for n in fleet.procs
        }
        assert mirror.duplicate_fetches() == 0
        assert overlapping_crawls(engine) == 0
        # No host above its rate: in any ten gaps' time, ten requests (one more when one
        # went out late: the server sees a request when its connection is set up, which
        # on a busy machine is a while after the slot it waited for).
        assert mirror.busiest(10 / rate) <= 11
        gaps = mirror.gaps()
        print(f"smallest gap {gaps[0][0]:.3f}s of {1 / rate}s; {gaps[:3]}")
        assert store_problems(engine, expected_urls(mirror)) == []
        # The server served and left the scheduling to the workers.
        assert health["status"] == "ok" and health["scheduler"]["running"]
        assert health["scheduler"]["fleet"]
        assert "crawled " not in fleet.log("serve")
        assert "govwatch_fleet_sites_overdue 0.0" in metrics
        assert figures["workers_alive"] == 4 and figures["sites_overdue"] == 0
        with engine.connect() as conn:
            finished = conn.execute(
                sa.select(sa.func.count()).where(crawl_runs.c.finished_at.is_not(None))
            ).scalar_one()
        assert finished == 200  # one crawl per site: one cycle, nobody crawled twice


def test_a_sigkilled_worker_has_its_sites_crawled_again_within_the_bound(
    db: str, engine: sa.Engine, tmp_path: Path
) -> None:
    """Worker A takes every crawl, then B joins and A is killed mid-crawl: A's sites are
    crawled again by B within BOUND seconds, and the store holds each notice once."""
    with fleet_mirror(sites=6, hosts=3, notices=8, page_size=4) as mirror:
        # Two sites a host at one request every 2 s: some 40 s of crawling, time for B
        # to start (slowly, on a busy machine) while A is in the middle of it.
        fleet = Fleet(db, mirror.seed_files(tmp_path / "seeds", rate=0.5), tmp_path, FAST)
        try:
            a = fleet.worker("a", concurrency=6)

            def running() -> list[str]:
                with engine.connect() as conn:
                    rows = conn.execute(
                        sa.select(site_schedule.c.site_id).where(
                            site_schedule.c.started_at.is_not(None)
                        )
                    )
                    return list(rows.scalars())

            wait_for(lambda: len(running()) == 6, 60, "worker a crawling every site")
            fleet.worker("b", concurrency=6)
            wait_for(lambda: fleet_json(db)["workers_alive"] == 2, 60, "worker b alive")
            time.sleep(0.5)
            cut = set(running())  # crawls A is in the middle of
            a.send_signal(signal.SIGKILL)
            killed = datetime.now(UTC)
            a.wait(timeout=10)
            assert cut, "worker a had finished every crawl before the kill"

            def redone() -> dict[str, datetime] | None:
                again = {
                    site: min(r[0] for r in runs if r[0] > killed)
                    for site, runs in runs_by_site(engine).items()
                    if site in cut and any(r[0] > killed for r in runs)
                }
                return again if set(again) == cut else None

            again = wait_for(redone, 60, "the killed crawls to start again")
            sites = {site.name for site in mirror.sites}
            wait_for(lambda: crawled_sites(engine) >= sites, 120, "every site crawled", 0.5)
        finally:
            statuses = fleet.stop()
        assert statuses["b"] == 0, fleet.log("b")[-2000:]
        delays = {site: (at - killed).total_seconds() for site, at in again.items()}
        print(f"crawled again {max(delays.values()):.1f}s after the kill (bound {BOUND}s)")
        assert max(delays.values()) <= BOUND, delays
        assert "reaped the crawls of" in fleet.log("b")
        assert overlapping_crawls(engine) == 0
        assert store_problems(engine, expected_urls(mirror)) == []


def test_a_worker_taken_for_dead_while_alive_stops_and_stores_nothing_twice(
    db: str, engine: sa.Engine, tmp_path: Path
) -> None:
    """Worker A is paused mid-crawl (SIGSTOP: alive, but no beat and no write, as when cut
    off from the database) for longer than stalled_after; B reaps A's crawls and does them
    again. When A resumes, its crawls stop (abandoned, or fenced at their next write): no
    crawl of A ends beside B's, nothing is stored twice, nothing is lost."""
    with fleet_mirror(sites=4, hosts=2, notices=8, page_size=4) as mirror:
        fleet = Fleet(db, mirror.seed_files(tmp_path / "seeds", rate=0.5), tmp_path, FAST)
        try:
            a = fleet.worker("a", concurrency=4)

            def started() -> set[str]:
                with engine.connect() as conn:
                    rows = conn.execute(
                        sa.select(site_schedule.c.site_id).where(
                            site_schedule.c.started_at.is_not(None)
                        )
                    )
                    return set(rows.scalars())

            wait_for(lambda: len(started()) == 4, 60, "worker a crawling every site")
            a.send_signal(signal.SIGSTOP)
            paused = datetime.now(UTC)
            fleet.worker("b", concurrency=4)
            sites = {site.name for site in mirror.sites}

            def taken_over() -> bool:
                # A site whose crawl was paused in the middle of a write is freed once a
                # resumes: B takes over the others first.
                runs = runs_by_site(engine)
                return any(r[0] > paused for site in sites for r in runs.get(site, []))

            wait_for(taken_over, 120, "worker b crawling a's sites again")
            a.send_signal(signal.SIGCONT)
            wait_for(lambda: crawled_sites(engine) >= sites, 180, "every site crawled", 0.5)
            time.sleep(3)  # a's resumed crawls meet their fences
        finally:
            a.send_signal(signal.SIGCONT)
            statuses = fleet.stop()
        assert statuses["b"] == 0, fleet.log("b")[-2000:]
        assert "reaped the crawls of" in fleet.log("b")
        log = fleet.log("a")
        assert "abandoned" in log or "another crawl holds the site" in log, log[-3000:]
        assert overlapping_crawls(engine) == 0
        assert store_problems(engine, expected_urls(mirror)) == []


def test_govwatch_crawl_on_postgresql_keeps_the_fleets_host_slots(db: str, tmp_path: Path) -> None:
    """`govwatch crawl` beside workers books its requests in the same host slots: a host
    the fleet was told to leave alone (a 429's wait) is not asked by the crawl either."""
    with fleet_mirror(sites=1, hosts=1, notices=1) as mirror:
        seeds = mirror.seed_files(tmp_path / "seeds", rate=100.0)
        with Store.open(db) as store:
            store.slow_host(mirror.sites[0].host, 4.0)
        held = time.time()
        done = subprocess.run(
            [sys.executable, "-m", "govwatch", "crawl", "--seeds", str(seeds), "--db", db],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        first = mirror.requests()[0][0]
    assert first - held >= 3.5, first - held


def test_a_worker_refuses_sqlite(tmp_path: Path) -> None:
    with fleet_mirror(sites=1, hosts=1, notices=1) as mirror:
        seeds = mirror.seed_files(tmp_path / "seeds", rate=1.0)
    done = subprocess.run(
        [sys.executable, "-m", "govwatch", "worker", "--seeds", str(seeds)],
        capture_output=True,
        text=True,
        env={**os.environ, "GOVWATCH_DB": f"sqlite:///{tmp_path / 'x.db'}"},
        timeout=60,
    )
    assert done.returncode != 0
    assert "needs PostgreSQL" in done.stderr
