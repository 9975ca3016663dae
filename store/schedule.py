"""When each site is due, which crawl holds it, and each host's next free request slot.

One scheduling model for both ways of running govwatch. Every site has a next-due time; a
tick claims the due sites in one transaction (PostgreSQL: FOR UPDATE SKIP LOCKED, so
ticks of several processes never claim one site twice; SQLite: one process, BEGIN
IMMEDIATE) and hands each claim to a dispatcher inside that transaction: `govwatch serve`
runs the crawls in-process, `govwatch worker` defers procrastinate jobs on the same
connection, so a claim and its job commit together or not at all.

A claim is a token. The crawl that holds it marks it started and finishes it, which
frees the site and sets its next due time; a claim that is no longer the crawl's own (it
was reaped meanwhile) is left alone. In-process claims carry a lease the process renews
while the crawl runs, so a killed `serve` frees its sites by itself; a worker's claim has
none: its job's heartbeat says whether it lives, and the reaper frees it (govwatch/fleet).

A crawl writes through a view of the store fenced by its claim (`fenced`): each of its
write transactions first checks that the claim is still its own, else raises ClaimLost and
writes nothing. On PostgreSQL the check holds the site's fence lock (an advisory lock,
shared) to the commit, and the reaper frees a claim only under that lock exclusively, so
it never frees one in the middle of a fenced write, and every fenced write after it fails;
a site whose crawl is mid-write (its worker paused there) is skipped and freed by a later
tick. On SQLite every write transaction runs alone anyway. So a crawl taken for dead (its
worker cut off from the database, paused) never writes beside the crawl that replaced it.
"""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Self, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from govwatch.errors import StoreError
from govwatch.store.core import StoreCore
from govwatch.store.schema import site_schedule, sites

T = TypeVar("T")

FENCE_LOCKS = 0x67770F
"""First key of the sites' fence locks (pg_advisory_xact_lock(FENCE_LOCKS, hashtext(site)))."""
FAILURE_BACKOFF = 60.0
"""Seconds a site waits after its first failed crawl; doubled per failure in a row, never
more than its interval."""
SLOW_FACTOR = 2.0
"""How much longer a host's gap is while it is slowed down after a 429 or Retry-After."""
SLOW_WINDOW = 60.0
"""Seconds a host stays slowed down after the wait its 429 asked for."""


@dataclass(frozen=True)
class SitePlan:
    """A seed as the schedule needs it: the site, and how often to crawl it."""

    site_id: str
    name: str
    parser: str
    topics: list[str]
    interval: float
    enabled: bool


@dataclass(frozen=True)
class Claim:
    """One crawl's hold on one site."""

    site_id: str
    token: str
    claimed_at: datetime
    interval: float


@dataclass(frozen=True)
class ScheduleRow:
    site_id: str
    next_due: datetime
    running: bool
    failures: int
    last_finished: datetime | None


@dataclass(frozen=True)
class QueueFigures:
    """procrastinate's side of the fleet: queue workers alive, crawl jobs waiting and
    running, and how long the oldest waiting job has waited (seconds)."""

    workers: int
    waiting: int
    running: int
    oldest_waiting: float | None


@dataclass(frozen=True)
class Overdue:
    """Enabled sites due and not yet being crawled, and the longest such wait in seconds."""

    sites: int
    max_seconds: float


class ClaimLost(StoreError):
    """A fenced write of a crawl whose claim is no longer its own: another crawl holds
    the site now (this one was reaped, or released)."""

    kind = "claim_lost"


Dispatch = Callable[[Connection, list[Claim]], None]
"""Hands claimed sites on, inside the claiming transaction."""


class Schedule(StoreCore):
    """Next due times and claims of sites; per-host request slots across processes."""

    _fence: Claim | None = None
    """The claim a fenced view's writes require (see `fenced`)."""

    def fenced(self, claim: Claim) -> Self:
        """This store for the crawl holding `claim`: every write transaction checks first,
        under a share lock on the site's schedule row, that the claim is still held, and
        raises ClaimLost (nothing written) once it is not. Reads are as ever."""
        view = copy.copy(self)
        view._fence = claim
        return view

    def _run(self, work: Callable[[Connection], T]) -> T:
        fence = self._fence
        if fence is None:
            return super()._run(work)

        def fenced(conn: Connection) -> T:
            if conn.dialect.name == "postgresql":
                conn.execute(
                    sa.text(
                        "SELECT pg_advisory_xact_lock_shared("
                        "CAST(:locks AS integer), hashtext(:site))"
                    ),
                    {"locks": FENCE_LOCKS, "site": fence.site_id},
                )
            held = conn.execute(
                sa.select(site_schedule.c.claim).where(site_schedule.c.site_id == fence.site_id)
            ).scalar()
            if held != fence.token:
                raise ClaimLost(f"{self.name}: the crawl of {fence.site_id} lost its claim")
            return work(conn)

        return super()._run(fenced)

    def plan_sites(self, plans: Sequence[SitePlan]) -> None:
        """Bring seeds into the store: their sites, and a schedule row due at once for a
        site new to it. Idempotent, so every process may do it at start; a site's next due
        time and claim are kept, its interval and whether it is enabled follow the seed."""
        if not plans:
            return
        now = self._clock()

        def work(conn: Connection) -> None:
            site = self._insert(sites)
            conn.execute(
                site.on_conflict_do_update(
                    index_elements=[sites.c.id],
                    set_={key: site.excluded[key] for key in ("name", "parser", "topics")},
                ),
                [
                    # A new site awaits its first (baseline) crawl.
                    {"id": p.site_id, "name": p.name, "parser": p.parser}
                    | {"topics": p.topics, "baselined": False}
                    for p in plans
                ],
            )
            row = self._insert(site_schedule)
            conn.execute(
                row.on_conflict_do_update(
                    index_elements=[site_schedule.c.site_id],
                    set_={k: row.excluded[k] for k in ("interval_seconds", "enabled")},
                ),
                [
                    {
                        "site_id": p.site_id,
                        "interval_seconds": p.interval,
                        "enabled": p.enabled,
                        "next_due": now,
                    }
                    for p in plans
                ],
            )

        self._run(work)

    def claim_due(
        self,
        limit: int,
        *,
        lease: float | None = None,
        dispatch: Dispatch | None = None,
        only: Collection[str] | None = None,
    ) -> list[Claim]:
        """Claim up to `limit` enabled sites (of `only`, when given) that are due and held by
        no live claim (none, or one whose lease ran out), earliest due first, and hand them
        to `dispatch` in the same transaction. `lease`: seconds an in-process claim holds
        without renewal; None for a claim that holds until its crawl finishes or the reaper
        frees it."""
        if limit < 1 or (only is not None and not only):
            return []

        def work(conn: Connection) -> list[Claim]:
            now = self._clock()
            stmt = (
                sa.select(site_schedule.c.site_id, site_schedule.c.interval_seconds)
                .where(
                    site_schedule.c.enabled,
                    site_schedule.c.next_due <= now,
                    sa.or_(site_schedule.c.claim.is_(None), site_schedule.c.lease_until < now),
                )
                .order_by(site_schedule.c.next_due, site_schedule.c.site_id)
                .limit(limit)
            )
            if only is not None:
                stmt = stmt.where(site_schedule.c.site_id.in_(list(only)))
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            claims = [
                Claim(row.site_id, uuid.uuid4().hex, now, row.interval_seconds)
                for row in conn.execute(stmt)
            ]
            until = now + timedelta(seconds=lease) if lease is not None else None
            for claim in claims:
                conn.execute(
                    sa.update(site_schedule)
                    .where(site_schedule.c.site_id == claim.site_id)
                    .values(claim=claim.token, claimed_at=now, started_at=None, lease_until=until)
                )
            if claims and dispatch is not None:
                dispatch(conn, claims)
            return claims

        return self._run(work)

    def claim_started(self, claim: Claim) -> bool:
        """Mark the claimed crawl as started; False when the claim is no longer its own."""
        return self._update_claim(claim.token, started_at=self._clock())

    def renew_claims(self, tokens: Collection[str], lease: float) -> None:
        """Extend the leases of running in-process claims."""
        if tokens:
            until = self._clock() + timedelta(seconds=lease)
            self._execute(
                sa.update(site_schedule)
                .where(site_schedule.c.claim.in_(list(tokens)))
                .values(lease_until=until)
            )

    def finish_claim(self, claim: Claim, *, failed: bool, jitter: float = 0.0) -> bool:
        """Free the site after its crawl and set when it is due next: `interval` after the
        claim (later by up to `jitter` of it, at random; at once when the crawl outlasted
        it), or after a failure, a backoff that doubles per failure in a row up to the
        interval. False (and nothing changed) when the claim is no longer the crawl's."""

        def work(conn: Connection) -> bool:
            now = self._clock()
            row = conn.execute(
                sa.select(site_schedule.c.failures).where(site_schedule.c.claim == claim.token)
            ).first()
            if row is None:
                return False
            failures = row.failures + 1 if failed else 0
            if failed:
                wait = min(claim.interval, FAILURE_BACKOFF * 2 ** (failures - 1))
                due = now + timedelta(seconds=wait)
            else:
                wait = claim.interval * (1 + jitter * random.random())
                due = max(claim.claimed_at + timedelta(seconds=wait), now)
            conn.execute(
                sa.update(site_schedule)
                .where(site_schedule.c.claim == claim.token)
                .values(next_due=due, failures=failures, last_finished=now, **_FREE)
            )
            return True

        return self._run(work)

    def release_claim(self, token: str) -> bool:
        """Free a claim whose crawl will not finish it (reaped, cancelled): the site is due
        again at once. False when no site holds that claim."""
        return self._update_claim(token, next_due=self._clock(), **_FREE)

    def release_orphans(self, task: str) -> list[str]:
        """Free the job-held claims (PostgreSQL) that no waiting or running procrastinate
        job of `task` holds any more: their job was reaped, aborted or deleted. A claim
        and its job commit together, so a claim never waits for its job to appear. Returns
        the sites freed, due again at once. A claim whose crawl is in the middle of a
        fenced write (its fence lock taken) is left for a later call."""
        stmt = sa.text(
            """
            UPDATE site_schedule s
               SET claim = NULL, claimed_at = NULL, started_at = NULL, lease_until = NULL,
                   next_due = :now
             WHERE s.claim IS NOT NULL AND s.lease_until IS NULL
               AND CASE WHEN EXISTS (
                        SELECT 1 FROM procrastinate_jobs j
                         WHERE j.task_name = :task AND j.status IN ('todo', 'doing')
                           AND j.args ->> 'token' = s.claim)
                   THEN false
                   ELSE pg_try_advisory_xact_lock(CAST(:locks AS integer), hashtext(s.site_id)) END
            RETURNING s.site_id
            """
        )
        params = {"task": task, "now": self._clock(), "locks": FENCE_LOCKS}
        return self._run(lambda conn: list(conn.execute(stmt, params).scalars()))

    def release_all_claims(self) -> int:
        """Free every claim: for a process that knows it is the only one scheduling (SQLite)
        and starts after one that was killed. Returns how many were freed."""
        stmt = sa.update(site_schedule).where(site_schedule.c.claim.is_not(None)).values(**_FREE)
        return self._run(lambda conn: conn.execute(stmt).rowcount)

    def schedule(self) -> dict[str, ScheduleRow]:
        """Every site's schedule, by site id."""
        stmt = sa.select(site_schedule).order_by(site_schedule.c.site_id)

        def work(conn: Connection) -> dict[str, ScheduleRow]:
            return {
                row.site_id: ScheduleRow(
                    row.site_id,
                    row.next_due,
                    row.started_at is not None,
                    row.failures,
                    row.last_finished,
                )
                for row in conn.execute(stmt)
            }

        return self._read(work)

    def next_due(self) -> datetime | None:
        """When the earliest enabled, unclaimed site is due."""
        stmt = sa.select(sa.func.min(site_schedule.c.next_due)).where(
            site_schedule.c.enabled, site_schedule.c.claim.is_(None)
        )
        return self._read(lambda conn: conn.execute(stmt).scalar())

    def overdue(self) -> Overdue:
        """Enabled sites past their due time whose crawl has not started, and by how much
        the earliest of them is late: what operators alert on."""
        now = self._clock()
        stmt = sa.select(sa.func.count(), sa.func.min(site_schedule.c.next_due)).where(
            site_schedule.c.enabled,
            site_schedule.c.next_due < now,
            site_schedule.c.started_at.is_(None),
        )
        count, earliest = self._read(lambda conn: conn.execute(stmt).one())
        late = (now - earliest).total_seconds() if earliest is not None else 0.0
        return Overdue(int(count), late)

    @property
    def shared(self) -> bool:
        """Whether other processes may use this store at once (PostgreSQL): then hosts'
        request slots are booked in it (host_slots), whatever command crawls."""
        return self._url.get_backend_name() == "postgresql"

    def queue_conninfo(self) -> str | None:
        """The database as libpq takes it, for the job queue (procrastinate's psycopg
        connector); None on SQLite, which holds no queue."""
        if not self.shared:
            return None
        return self._url.set(drivername="postgresql").render_as_string(hide_password=False)

    def queue_figures(self, queue: str, alive_within: float) -> QueueFigures | None:
        """The job queue's figures on PostgreSQL (None on SQLite, which has no queue):
        workers that beat within `alive_within` seconds, jobs of `queue`."""
        if self._engine.dialect.name != "postgresql":
            return None
        stmt = sa.text(
            """
            SELECT
              (SELECT count(*) FROM procrastinate_workers
                WHERE last_heartbeat > now() - make_interval(secs => :alive)) AS workers,
              (SELECT count(*) FROM procrastinate_jobs
                WHERE status = 'todo' AND queue_name = :queue) AS waiting,
              (SELECT count(*) FROM procrastinate_jobs
                WHERE status = 'doing' AND queue_name = :queue) AS running,
              (SELECT extract(epoch FROM now() - min(e.at))
                 FROM procrastinate_jobs j
                 JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
                WHERE j.status = 'todo' AND j.queue_name = :queue) AS oldest
            """
        )
        params = {"alive": alive_within, "queue": queue}
        row = self._read(lambda conn: conn.execute(stmt, params).one())
        oldest = float(row.oldest) if row.oldest is not None else None
        return QueueFigures(row.workers, row.waiting, row.running, oldest)

    def beat_age(self, worker_id: int) -> float | None:
        """Seconds since the queue worker `worker_id` last beat, on the database's clock;
        None when the queue no longer knows it (pruned as stalled: taken for dead)."""
        stmt = sa.text(
            "SELECT extract(epoch FROM clock_timestamp() - last_heartbeat)"
            " FROM procrastinate_workers WHERE id = :id"
        )
        age = self._read(lambda conn: conn.execute(stmt, {"id": worker_id}).scalar())
        return None if age is None else float(age)

    # Per-host request slots (PostgreSQL; in-process crawls keep them in memory)

    def book_slot(self, host: str, gap: float) -> float:
        """Book the host's next free request slot, `gap` seconds after the one before it
        (SLOW_FACTOR times that while the host is slowed down), and return when it is, in
        seconds of the database's clock (database_time). One statement on that clock:
        nothing stays locked while the caller waits, and every process books from the
        same time."""
        stmt = sa.text(
            """
            INSERT INTO host_slots AS h (host, next_slot, gap)
            VALUES (:host, extract(epoch FROM clock_timestamp()) + :gap, :gap)
            ON CONFLICT (host) DO UPDATE SET
                gap = CASE WHEN h.slow_until > extract(epoch FROM clock_timestamp())
                           THEN :gap * :slow ELSE :gap END,
                next_slot = greatest(h.next_slot, extract(epoch FROM clock_timestamp()))
                    + CASE WHEN h.slow_until > extract(epoch FROM clock_timestamp())
                           THEN :gap * :slow ELSE :gap END
            RETURNING next_slot - gap
            """
        )
        params = {"host": host, "gap": gap, "slow": SLOW_FACTOR}
        return float(self._run(lambda conn: conn.execute(stmt, params).scalar_one()))

    def database_time(self) -> float:
        """The database's clock, in seconds since the epoch."""
        stmt = sa.text("SELECT extract(epoch FROM clock_timestamp())")
        return float(self._read(lambda conn: conn.execute(stmt).scalar_one()))

    def slow_host(self, host: str, seconds: float) -> None:
        """A 429 or Retry-After from `host`: no process starts a request to it for
        `seconds`, and for SLOW_WINDOW after that every gap is SLOW_FACTOR times longer."""
        stmt = sa.text(
            """
            INSERT INTO host_slots AS h (host, next_slot, gap, slow_until)
            VALUES (:host, extract(epoch FROM clock_timestamp()) + :wait, 0,
                    extract(epoch FROM clock_timestamp()) + :wait + :window)
            ON CONFLICT (host) DO UPDATE SET
                next_slot = greatest(h.next_slot, excluded.next_slot),
                slow_until = greatest(h.slow_until, excluded.slow_until)
            """
        )
        params = {"host": host, "wait": seconds, "window": SLOW_WINDOW}
        self._run(lambda conn: conn.execute(stmt, params))

    def _update_claim(self, token: str, **values: object) -> bool:
        stmt = sa.update(site_schedule).where(site_schedule.c.claim == token).values(**values)
        return bool(self._run(lambda conn: conn.execute(stmt).rowcount))


_FREE: dict[str, None] = dict.fromkeys(("claim", "claimed_at", "started_at", "lease_until"))
"""A site held by no claim."""
