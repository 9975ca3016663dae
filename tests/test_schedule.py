"""The store's schedule: next due times, claims, leases, failures, and per-host slots."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from govwatch.store import Store
from govwatch.store.schedule import (
    FAILURE_BACKOFF,
    SLOW_FACTOR,
    Claim,
    ClaimLost,
    Overdue,
    SitePlan,
)

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def plan(site: str, interval: float = 600.0, enabled: bool = True) -> SitePlan:
    return SitePlan(site, f"站点{site}", "generic", ["教育"], interval, enabled)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_seeds_come_in_once_and_due_sites_are_claimed_once(store_url: str, clock: Clock) -> None:
    with Store.open(store_url, clock=clock) as store:
        store.plan_sites([plan("a"), plan("b"), plan("off", enabled=False)])
        store.plan_sites([plan("a"), plan("b"), plan("off", enabled=False)])  # idempotent
        assert store.site_names() == {"a": "站点a", "b": "站点b", "off": "站点off"}
        assert not store.baselined("a")
        claims = store.claim_due(10)
        assert sorted(c.site_id for c in claims) == ["a", "b"]
        assert store.claim_due(10) == []  # held: never claimed twice
        clock.advance(2)
        assert store.overdue() == Overdue(2, 2.0)  # claimed, but no crawl started yet
        assert all(store.claim_started(c) for c in claims)
        assert store.overdue().sites == 0
        first = claims[0]
        clock.advance(3)
        assert store.finish_claim(first, failed=False)
        assert not store.finish_claim(first, failed=False)  # a claim finishes once
        assert store.schedule()[first.site_id].next_due == T0 + timedelta(seconds=600)
        clock.advance(600)
        assert [c.site_id for c in store.claim_due(10)] == [first.site_id]


def test_replanning_keeps_the_next_due_time_and_follows_the_seed(
    store_url: str, clock: Clock
) -> None:
    with Store.open(store_url, clock=clock) as store:
        store.plan_sites([plan("a", interval=60)])
        (claim,) = store.claim_due(1)
        store.finish_claim(claim, failed=False)
        store.plan_sites([plan("a", interval=30, enabled=False)])
        row = store.schedule()["a"]
        assert row.next_due == T0 + timedelta(seconds=60)
        clock.advance(120)
        assert store.claim_due(5) == []  # disabled by its seed


def test_failures_back_off_and_a_success_resets_them(store_url: str, clock: Clock) -> None:
    with Store.open(store_url, clock=clock) as store:
        store.plan_sites([plan("a", interval=3600)])
        waits = []
        for _ in range(3):
            (claim,) = store.claim_due(1)
            store.finish_claim(claim, failed=True)
            row = store.schedule()["a"]
            waits.append((row.next_due - clock.now).total_seconds())
            clock.now = row.next_due
        assert waits == [FAILURE_BACKOFF, 2 * FAILURE_BACKOFF, 4 * FAILURE_BACKOFF]
        (claim,) = store.claim_due(1)
        store.finish_claim(claim, failed=False)
        assert store.schedule()["a"].failures == 0


def test_a_lease_that_runs_out_frees_the_site_and_the_old_claim_is_void(
    store_url: str, clock: Clock
) -> None:
    with Store.open(store_url, clock=clock) as store:
        store.plan_sites([plan("a")])
        (old,) = store.claim_due(1, lease=30)
        clock.advance(20)
        store.renew_claims([old.token], lease=30)
        clock.advance(20)
        assert store.claim_due(1, lease=30) == []  # renewed: still held
        clock.advance(11)
        (new,) = store.claim_due(1, lease=30)
        assert new.token != old.token
        assert not store.claim_started(old) and not store.finish_claim(old, failed=False)
        assert store.claim_started(new)


def test_a_released_claim_is_due_at_once(store_url: str, clock: Clock) -> None:
    with Store.open(store_url, clock=clock) as store:
        store.plan_sites([plan("a"), plan("b")])
        claims = store.claim_due(2)  # held until freed: a worker's claims
        clock.advance(3600)
        assert store.claim_due(2) == []
        assert store.release_claim(claims[0].token)
        assert not store.release_claim(claims[0].token)
        assert [c.site_id for c in store.claim_due(2)] == [claims[0].site_id]
        assert store.release_all_claims() == 2
        assert len(store.claim_due(2)) == 2


def test_a_crawl_whose_claim_was_taken_writes_nothing_more(store_url: str, clock: Clock) -> None:
    """A crawl writes through the store fenced by its claim: once the claim is freed (its
    worker reaped) and another crawl holds the site, every write of the first one fails and
    leaves nothing; the successor writes as ever."""
    first_url, second_url = "http://h/1.html", "http://h/2.html"
    with Store.open(store_url, clock=clock) as store:
        store.plan_sites([plan("a")])
        (claim,) = store.claim_due(1)
        crawl = store.fenced(claim)
        run = crawl.start_run(["a"])
        assert crawl.mark_listed("a", first_url, "第一", None, run)
        assert store.release_claim(claim.token)  # reaped: due again at once
        (successor,) = store.claim_due(1)
        for write in (
            lambda: crawl.mark_listed("a", second_url, "第二", None, run),
            lambda: crawl.finish_run(run, {}),
            lambda: crawl.start_run(["a"]),
        ):
            with pytest.raises(ClaimLost):
                write()
        assert store.notice(second_url) is None
        assert crawl.notice(first_url) is not None  # reads are as ever
        redo = store.fenced(successor)
        assert not redo.mark_listed("a", first_url, "第一", None, redo.start_run(["a"]))
        assert redo.mark_listed("a", second_url, "第二", None, None)
        with store._engine.connect() as conn:
            finished = conn.execute(
                sa.text("SELECT finished_at FROM crawl_runs WHERE id = :id"), {"id": run}
            ).scalar()
        assert finished is None  # the reaped crawl's run never ends: it overlaps nothing


def test_dispatch_runs_in_the_claiming_transaction(store_url: str, clock: Clock) -> None:
    """A dispatcher that fails takes the claims with it: nothing stays claimed and undone."""
    with Store.open(store_url, clock=clock) as store:
        store.plan_sites([plan("a")])

        def broken(conn: sa.Connection, claims: list[Claim]) -> None:
            raise RuntimeError("the queue is down")

        with pytest.raises(RuntimeError):
            store.claim_due(5, dispatch=broken)
        seen: list[str] = []
        store.claim_due(5, dispatch=lambda conn, claims: seen.extend(c.site_id for c in claims))
        assert seen == ["a"]


@pytest.mark.slow
def test_concurrent_ticks_on_postgresql_never_claim_a_site_twice(postgres_url: str) -> None:
    from tests.pg import fresh_database

    with Store.open(fresh_database(postgres_url)) as store:
        store.plan_sites([plan(f"s{i:03}") for i in range(200)])
        claimed: list[str] = []
        lock = threading.Lock()

        def tick() -> None:
            for _ in range(10):
                got = store.claim_due(7)
                with lock:
                    claimed.extend(c.site_id for c in got)

        threads = [threading.Thread(target=tick) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(claimed) == 200 and set(Counter(claimed).values()) == {1}


@pytest.mark.slow
@pytest.mark.serial
def test_host_slots_on_postgresql_space_every_booker_and_slow_down_after_429(
    postgres_url: str,
) -> None:
    from tests.pg import fresh_database

    gap = 0.2
    with Store.open(fresh_database(postgres_url)) as store:
        slots: list[float] = []
        lock = threading.Lock()

        def request() -> None:
            for _ in range(4):
                slot = store.book_slot("h.example", gap)
                with lock:
                    slots.append(slot)

        started = store.database_time()
        threads = [threading.Thread(target=request) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        slots.sort()
        gaps = [b - a for a, b in itertools.pairwise(slots)]
        # Sixteen bookers at once, every slot at least a whole gap after the one before.
        assert min(gaps) >= gap - 1e-6, gaps
        assert started <= slots[0] <= store.database_time()
        store.slow_host("h.example", 1.0)
        assert store.book_slot("h.example", gap) - store.database_time() >= 0.9
        first = store.book_slot("h.example", gap)
        second = store.book_slot("h.example", gap)
        assert second - first == pytest.approx(SLOW_FACTOR * gap, abs=0.02)
        assert store.book_slot("other.example", gap) <= store.database_time()
