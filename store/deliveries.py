"""Push deliveries: what each notification target is owed, and what became of it.

A target is a place a topic pushes to, keyed by a digest of its URL as written (secrets
stay in the environment and never reach the database). It is owed the matching events
after `first_event` (the newest event when the target was first configured, so adding a
target announces what comes next, not the history). One row per (event, target), unique:
the message is made once, when the event is found, and sent until it is delivered.

Sending is at least once and never twice on purpose: a sender claims due rows for a lease,
sends, and records the result in its own transaction per message; a sender that dies leaves
its claim to expire, and the rows are sent again by whoever runs next. Only a death between
the service accepting a message and the `sent` commit can repeat it, or a send that outlasts
its lease; a result is recorded only by the sender still holding the claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from govwatch.store.core import StoreCore
from govwatch.store.schema import deliveries, events, push_targets


@dataclass(frozen=True)
class Message:
    """What one event says to one target: found by `topic_id`; Markdown `body`; `line`
    stands for it in a digest."""

    event_id: int
    topic_id: str
    title: str
    body: str
    line: str


@dataclass(frozen=True)
class Delivery:
    """A claimed delivery, to send now."""

    id: int
    event_id: int
    target: str
    title: str
    body: str
    line: str
    attempts: int
    lease: datetime
    """When the caller's claim lapses; the row is the caller's to mark while it holds it."""


@dataclass(frozen=True)
class Cursor:
    key: str
    first_event: int
    scanned_to: int


@dataclass(frozen=True)
class TargetState:
    """A target's deliveries by status, and the last error of one that failed."""

    label: str
    sent: int
    pending: int
    retrying: int
    """Pending after at least one failed attempt."""
    failed: int
    """Given up after every attempt."""
    last_error: str | None


def register_targets(store: StoreCore, labels: Mapping[str, str]) -> dict[str, Cursor]:
    """Add the targets of `labels` (key → label) not yet known, owed the events after the
    newest one now; a known target keeps its cursor and gets the label given."""

    def work(conn: Connection) -> dict[str, Cursor]:
        newest = conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0)))
        first = int(newest.scalar_one())
        now = store._clock()
        for key, label in labels.items():
            stmt = store._insert(push_targets).values(
                key=key, label=label, first_event=first, scanned_to=first, created_at=now
            )
            conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"label": label}))
        return _cursors(conn, list(labels))

    return store._run(work) if labels else {}


def cursors(store: StoreCore, keys: Sequence[str]) -> dict[str, Cursor]:
    return store._read(lambda conn: _cursors(conn, keys))


def _cursors(conn: Connection, keys: Sequence[str]) -> dict[str, Cursor]:
    rows = conn.execute(sa.select(push_targets).where(push_targets.c.key.in_(keys)))
    return {r.key: Cursor(r.key, r.first_event, r.scanned_to) for r in rows}


def add_deliveries(
    store: StoreCore, target: str, messages: Iterable[Message], scanned_to: int
) -> int:
    """Owe `messages` to `target` (each event once, whatever topic found it first) and move
    its cursor to `scanned_to`, in one transaction; returns how many were new."""

    def work(conn: Connection) -> int:
        now = store._clock()
        added = 0
        for m in messages:
            stmt = (
                store._insert(deliveries)
                .values(
                    event_id=m.event_id,
                    target=target,
                    topic_id=m.topic_id,
                    title=m.title,
                    body=m.body,
                    line=m.line,
                    status="pending",
                    attempts=0,
                    next_at=now,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["event_id", "target"])
            )
            added += conn.execute(stmt).rowcount
        conn.execute(
            sa.update(push_targets)
            .where(push_targets.c.key == target, push_targets.c.scanned_to < scanned_to)
            .values(scanned_to=scanned_to)
        )
        return added

    return store._run(work)


def count_due(store: StoreCore, target: str) -> int:
    """Pending deliveries to `target` due now, held by no one or not."""
    stmt = sa.select(sa.func.count()).where(
        deliveries.c.status == "pending",
        deliveries.c.target == target,
        deliveries.c.next_at <= store._clock(),
    )
    return int(store._read(lambda conn: conn.execute(stmt).scalar_one()))


def claim_due(store: StoreCore, target: str, limit: int, lease: timedelta) -> list[Delivery]:
    """Up to `limit` pending deliveries to `target` that are due and held by no one, oldest
    event first, now held by the caller for `lease` (a sender that dies lets go then)."""

    def work(conn: Connection) -> list[Delivery]:
        now = store._clock()
        free = sa.or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now)
        rows = conn.execute(
            sa.select(deliveries)
            .where(
                deliveries.c.status == "pending",
                deliveries.c.target == target,
                deliveries.c.next_at <= now,
                free,
            )
            .order_by(deliveries.c.event_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        until = now + lease
        if rows:
            conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.id.in_([r.id for r in rows]))
                .values(claimed_until=until)
            )
        return [
            Delivery(r.id, r.event_id, r.target, r.title, r.body, r.line, r.attempts, until)
            for r in rows
        ]

    return store._run(work)


def _held(claimed: Sequence[Delivery]) -> sa.ColumnElement[bool]:
    """The rows of `claimed` still under the caller's own lease. Once a slow send outlived
    it, another sender may hold them (and send them): that sender's outcome is the one to
    record, not a stale one that would mark them sent or pending again under it."""
    return sa.and_(
        deliveries.c.id.in_([d.id for d in claimed]),
        deliveries.c.claimed_until.in_({d.lease for d in claimed}),
    )


def mark_sent(store: StoreCore, claimed: Sequence[Delivery]) -> int:
    """`claimed` delivered; returns how many the caller still held (the rest it left alone)."""
    stmt = (
        sa.update(deliveries)
        .where(_held(claimed))
        .values(status="sent", sent_at=store._clock(), claimed_until=None, last_error=None)
    )
    return int(store._run(lambda conn: conn.execute(stmt).rowcount))


def mark_failed(
    store: StoreCore, claimed: Sequence[Delivery], error: str, retry_in: timedelta | None
) -> None:
    """One more failed attempt of `claimed`, those the caller still holds: again after
    `retry_in`, or given up (None)."""
    now = store._clock()
    values: dict[str, object] = {
        "attempts": deliveries.c.attempts + 1,
        "last_error": error,
        "claimed_until": None,
    }
    if retry_in is None:
        values["status"] = "failed"
    else:
        values["next_at"] = now + retry_in
    store._execute(sa.update(deliveries).where(_held(claimed)).values(**values))


def postpone(store: StoreCore, target: str, retry_in: timedelta) -> None:
    """Put off every pending delivery to `target` due now by `retry_in`, not counted as an
    attempt: one failed send says the service is down for all of them."""
    now = store._clock()
    store._execute(
        sa.update(deliveries)
        .where(
            deliveries.c.status == "pending",
            deliveries.c.target == target,
            deliveries.c.next_at <= now,
        )
        .values(next_at=now + retry_in)
    )


def target_states(store: StoreCore) -> list[TargetState]:
    """Every target's deliveries by status, by label."""
    retrying = sa.and_(deliveries.c.status == "pending", deliveries.c.attempts > 0)

    def count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.count(deliveries.c.id).filter(condition)

    stmt = (
        sa.select(
            push_targets.c.key,
            push_targets.c.label,
            count(deliveries.c.status == "sent").label("sent"),
            count(deliveries.c.status == "pending").label("pending"),
            count(retrying).label("retrying"),
            count(deliveries.c.status == "failed").label("failed"),
        )
        .select_from(push_targets.outerjoin(deliveries, deliveries.c.target == push_targets.c.key))
        .group_by(push_targets.c.key, push_targets.c.label)
        .order_by(push_targets.c.label)
    )
    errors = (
        sa.select(deliveries.c.target, deliveries.c.last_error)
        .where(deliveries.c.last_error.is_not(None), deliveries.c.status != "sent")
        .order_by(deliveries.c.id)
    )

    def work(conn: Connection) -> list[TargetState]:
        last = {row.target: row.last_error for row in conn.execute(errors)}
        return [
            TargetState(r.label, r.sent, r.pending, r.retrying, r.failed, last.get(r.key))
            for r in conn.execute(stmt)
        ]

    return store._read(work)
