"""The store's identity for feed items, so their GUIDs do not depend on the serving address.

A GUID names this store (`instance`, random, made by the migration), the notice, the
version and the event kind. Events written before that migration keep the address-based
GUIDs they were first served with: `legacy_before` is the first event id past them, and
`legacy_base_url` the address those GUIDs were made of, pinned by the first server that
runs after the upgrade (the address readers already have).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from govwatch.store.core import StoreCore
from govwatch.store.schema import feed_identity


@dataclass(frozen=True)
class FeedIdentity:
    instance: str
    legacy_before: int
    """Events with a smaller id keep their address-based GUIDs."""
    legacy_base_url: str | None
    """The address those GUIDs were made of; None until a server pinned it."""


def read_identity(store: StoreCore) -> FeedIdentity:
    stmt = sa.select(feed_identity).where(feed_identity.c.id == 1)
    row = store._read(lambda conn: conn.execute(stmt).one())
    return FeedIdentity(row.instance, row.legacy_before, row.legacy_base_url)


def pin_legacy_base(store: StoreCore, base_url: str) -> FeedIdentity:
    """Record `base_url` as the address of the legacy GUIDs unless one is recorded already
    (or there are none); returns the identity as it stands."""
    stmt = (
        sa.update(feed_identity)
        .where(
            feed_identity.c.id == 1,
            feed_identity.c.legacy_base_url.is_(None),
            feed_identity.c.legacy_before > 1,
        )
        .values(legacy_base_url=base_url.rstrip("/"))
    )
    store._execute(stmt)
    return read_identity(store)
