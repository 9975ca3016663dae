"""A crawler killed with SIGKILL at any moment leaves the store consistent.

`python -m govwatch crawl` runs against a small local mirror and is killed at a random
point: mostly a random 0–KILL_WINDOW ms after its first request reaches the mirror (in
the middle of listing, fetching and writing), sometimes a random time after it started
(while it imports or opens the store). After every kill the store is checked: no version
half written, none missing from 1..n, no event without its version, no duplicate notice,
version or event (runs may stay unfinished). SQLite (WAL) and PostgreSQL run side by side,
each against its own mirror. Then a clean crawl must leave every notice exactly once with
the right content, and changes made on the mirror must be picked up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import zlib
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from govwatch.crawler.engine import Crawler
from govwatch.crawler.seeds import load_seeds
from govwatch.demo.mirror import Mirror, MirrorSite, load_seed_texts, populate
from govwatch.settings import Settings
from govwatch.store import Store, database
from govwatch.store.hashing import content_hash
from govwatch.store.schema import events, notices, search_docs, versions
from tests.faults import FaultServer
from tests.pg import fresh_database
from tests.stored import known_urls

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # SIGKILLs at random points, on both backends

KILLS = 50
"""Kills in all, shared out between the backends."""
KILL_WINDOW = 0.5
"""Seconds after the first request within which a kill lands, at first; a crawl that ends
before its kill shrinks a lane's window to most of the time that crawl took."""
FROM_START_SHARE = 0.2
"""Share of kills timed from the process start instead, to hit imports and store opening."""
RATE = 1000.0


@dataclass
class Lane:
    """One backend's run: its database, its mirror and seeds, what happened to it."""

    name: str
    db: str
    mirror: Mirror
    seeds: Path
    kills: int = 0
    finished: int = 0
    window: float = KILL_WINDOW


def small_mirror() -> Mirror:
    texts = load_seed_texts()
    return Mirror(
        [
            populate(MirrorSite("crash-generic", "generic", page_size=5, view_counter=True), 12, texts),
            populate(MirrorSite("crash-trs", "trs_wcm", page_size=5), 10, texts),
        ]
    )  # fmt: skip


def crawler(lane: Lane) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "govwatch", "crawl", "--seeds", str(lane.seeds)],
        env={**os.environ, "GOVWATCH_DB": lane.db},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def requests_seen(mirror: Mirror) -> int:
    return sum(len(site.log) for site in mirror.sites)


def kill_at_random(lane: Lane, rng: random.Random) -> None:
    """Start a crawl and SIGKILL it at a random point; count whether it died or finished."""
    seen = requests_seen(lane.mirror)
    proc = crawler(lane)
    first = time.monotonic()
    if rng.random() < FROM_START_SHARE:
        time.sleep(rng.uniform(0, 1.0))
    else:
        while requests_seen(lane.mirror) == seen and proc.poll() is None:
            if time.monotonic() - first > 30:
                break
            time.sleep(0.001)
        first = time.monotonic()
        time.sleep(rng.uniform(0, lane.window))
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    if proc.returncode == -signal.SIGKILL:
        lane.kills += 1
    else:
        assert proc.returncode == 0, err.decode(errors="replace")
        lane.finished += 1
        lane.window = min(lane.window, 0.8 * (time.monotonic() - first))


def inconsistencies(url: str) -> list[str]:
    """Everything wrong with the store at `url` (nothing: an empty list)."""
    engine = sa.create_engine(database.parse_url(url))
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("events"):
                return []  # killed before the schema was committed: an empty database
            problems: list[str] = []
            if conn.dialect.name == "sqlite":
                check = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
                if check != "ok":
                    problems.append(f"integrity_check: {check}")
            problems += _check_rows(
                conn.execute(sa.select(notices)).all(),
                conn.execute(sa.select(versions)).all(),
                conn.execute(sa.select(events).order_by(events.c.id)).all(),
            )
            # The search index is written in each version's transaction: never one without
            # the other.
            keys = sa.select(versions.c.notice_id, versions.c.number)
            stored = {(n, v) for n, v in conn.execute(keys)}
            docs = sa.select(search_docs.c.notice_id, search_docs.c.number)
            indexed = {(n, v) for n, v in conn.execute(docs)}
            problems += [f"version {n}/{v} not in the search index" for n, v in stored - indexed]
            problems += [f"search document of no version {n}/{v}" for n, v in indexed - stored]
            return problems
    finally:
        engine.dispose()


def _check_rows(
    notice_rows: list[sa.Row[Any]], version_rows: list[sa.Row[Any]], event_rows: list[sa.Row[Any]]
) -> list[str]:
    problems: list[str] = []
    urls = Counter(n.url for n in notice_rows)
    problems += [f"notice {u} {c} times" for u, c in urls.items() if c > 1]
    numbers: dict[int, list[int]] = defaultdict(list)
    for v in version_rows:
        numbers[v.notice_id].append(v.number)
        record = {"title": v.title, "body": v.body, "meta": v.meta, "attachments": v.attachments}
        if content_hash(record) != v.content_hash:
            problems.append(f"version {v.notice_id}/{v.number} does not match its hash")
        if not zlib.decompress(v.raw_html):
            problems.append(f"version {v.notice_id}/{v.number} has no page")
    announced: dict[tuple[int, int | None], list[str]] = defaultdict(list)
    seqs: dict[int, list[int]] = defaultdict(list)
    last_presence: dict[int, str] = {}
    for e in event_rows:
        seqs[e.notice_id].append(e.seq)
        announced[(e.notice_id, e.version)].append(e.kind)
        if e.version is not None and e.version not in numbers.get(e.notice_id, []):
            problems.append(f"event {e.kind} of notice {e.notice_id} without version {e.version}")
        if e.kind in ("removed", "restored"):
            last_presence[e.notice_id] = e.kind
    for n in notice_rows:
        have = sorted(numbers.get(n.id, []))
        if have != list(range(1, len(have) + 1)):
            problems.append(f"{n.url}: versions {have}, not 1..n")
        if n.current_version != (have[-1] if have else None):
            problems.append(f"{n.url}: current version {n.current_version}, stored {have}")
        for number in have:
            kinds = [k for k in announced[(n.id, number)] if k in ("new", "revised")]
            if kinds != ["new" if number == 1 else "revised"]:
                problems.append(f"{n.url}: version {number} announced by {kinds}")
        if sorted(seqs[n.id]) != list(range(1, len(seqs[n.id]) + 1)):
            problems.append(f"{n.url}: event numbers {sorted(seqs[n.id])}")
        removed = last_presence.get(n.id) == "removed"
        if (n.status == "removed") != removed:
            problems.append(f"{n.url}: status {n.status} but last event says removed={removed}")
    return problems


def run_lane(lane: Lane, kills: int, seed: int) -> list[str]:
    """Kill crawls until `kills` died mid-way; every problem found after any of them."""
    rng = random.Random(seed)
    found: list[str] = []
    attempts = 0
    while lane.kills < kills and attempts < 3 * kills:
        attempts += 1
        kill_at_random(lane, rng)
        found += [f"{lane.name} after kill {lane.kills}: {p}" for p in inconsistencies(lane.db)]
    return found


def finish_and_change(lane: Lane) -> None:
    """A clean crawl leaves every notice once, right; then edits, additions and removals
    on the mirror are picked up as exactly those events."""
    done = subprocess.run(
        [sys.executable, "-m", "govwatch", "crawl", "--seeds", str(lane.seeds)],
        env={**os.environ, "GOVWATCH_DB": lane.db},
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    with Store.open(lane.db) as store:
        for site in lane.mirror.sites:
            for notice in site.notices:
                (version,) = store.history(site.notice_url(notice.id))
                assert (version.title, version.body) == (notice.title, notice.body)
        assert len(store.events(kind="new", limit=10_000)) == sum(
            len(site.notices) for site in lane.mirror.sites
        )
        assert store.events(kind="revised") == store.events(kind="removed") == []

    changed: dict[str, str] = {}
    for site in lane.mirror.sites:
        edited, gone = site.notices[1], site.notices[4]
        changed[site.notice_url(edited.id)] = "revised"
        changed[site.notice_url(gone.id)] = "removed"
        site.edit(edited.id, [*edited.paragraphs, "本通知自印发之日起施行。"])
        site.remove(gone.id)
        added = site.make_notice(
            "关于做好暑期校园安全工作的通知", ["各学校：", "请做好暑期安全工作。"]
        )
        site.add(added)
        changed[site.notice_url(added.id)] = "new"
    for _ in range(2):  # a removal needs two 404s in a row
        done = subprocess.run(
            [sys.executable, "-m", "govwatch", "crawl", "--seeds", str(lane.seeds)],
            env={**os.environ, "GOVWATCH_DB": lane.db},
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")
    with Store.open(lane.db) as store:
        recent = {
            (e.url, e.kind)
            for kind in ("new", "revised", "removed")
            for e in store.events(kind=kind, limit=10_000)
        }
        for url, kind in changed.items():
            assert (url, kind) in recent, f"{lane.name}: {kind} of {url} missed"
        assert len(store.events(kind="revised")) == len(lane.mirror.sites)
        assert len(store.events(kind="removed")) == len(lane.mirror.sites)


def test_sigkill_at_random_points_leaves_the_store_consistent(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    mirrors = [small_mirror(), small_mirror()]
    for mirror in mirrors:
        mirror.start()
    try:
        lanes = [Lane("sqlite", f"sqlite:///{tmp_path / 'crash.db'}", mirrors[0], tmp_path / "s1")]
        try:
            pg = request.getfixturevalue("postgres_url")
        except pytest.skip.Exception:
            pg = None  # without PostgreSQL binaries (outside CI) SQLite takes every kill
        if pg is not None:
            lanes.append(Lane("postgresql", fresh_database(pg), mirrors[1], tmp_path / "s2"))
        for lane in lanes:
            lane.mirror.seed_files(lane.seeds, rate=RATE)
        share = -(-KILLS // len(lanes))
        with ThreadPoolExecutor(len(lanes)) as pool:
            found = pool.map(run_lane, lanes, [share] * len(lanes), range(len(lanes)))
            problems = [p for lane_problems in found for p in lane_problems]
        assert problems == []
        assert sum(lane.kills for lane in lanes) >= KILLS, [(x.name, x.kills) for x in lanes]
        with ThreadPoolExecutor(len(lanes)) as pool:
            list(pool.map(finish_and_change, lanes))
        for lane in lanes:
            assert inconsistencies(lane.db) == []
    finally:
        for mirror in mirrors:
            mirror.stop()


def test_a_crawl_cut_short_between_listing_pages_loses_no_notice(tmp_path: Path) -> None:
    """Stopped while the second listing page hangs, as a kill would stop it: the next crawl
    still walks every page. (The first page was listed, so its notices are known but never
    fetched, and it would answer 304 had its validators been saved before the walk ended.)"""
    site = populate(MirrorSite("cut", "generic", page_size=5), 12, load_seed_texts())
    db = f"sqlite:///{tmp_path / 'cut.db'}"
    with (
        site,
        FaultServer(upstream=site.base_url) as server,
        Store.open(db) as store,
    ):
        seed = tmp_path / "cut.toml"
        seed.write_text(
            'id = "cut"\nname = "cut"\nparser = "generic"\ninterval = "1h"\nmax_pages = 5\n'
            f'listing_urls = ["{server.url("/tzgg/index.html")}"]\nrate = {RATE}\n',
            encoding="utf-8",
        )
        seeds = load_seeds(seed)
        settings = Settings(retries=0, timeout=30)
        server.set_fault("/tzgg/index_2.html", "hang")

        async def cut_short() -> None:
            crawl = asyncio.ensure_future(Crawler(store, settings).run(seeds))
            while not any(hit.target == "/tzgg/index_2.html" for hit in server.hits):
                await asyncio.sleep(0.01)
            crawl.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await crawl

        asyncio.run(cut_short())
        assert len(known_urls(db, "cut")) == 5
        server.clear()
        stats = asyncio.run(Crawler(store, settings).run(seeds)).sites["cut"]
        assert (stats.new, stats.errors) == (len(site.notices), 0)
        for notice in site.notices:
            assert len(store.history(server.url(site.flow.detail_path(site, notice)))) == 1
