"""The store's identity for feed items, so their GUIDs do not depend on the serving address.

A GUID names this store (`instance`, random, made by the migration), the notice, the
version and the event kind. Events written before that migration keep the address-based
GUIDs they were first served with: `legacy_before` is the first event id past them, and
`legacy_base_url` the address those GUIDs were made of — the `legacy_guid_base` setting
when the operator gives it (the address readers had), else, as a fallback, that of the
first server that ran after the upgrade.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from govwatch.errors import ConfigError
from govwatch.store.core import StoreCore
from govwatch.store.schema import feed_identity

_ADDRESS = re.compile(r"https?://[^/\s?#]+(/[^\s?#]*)?")


@dataclass(frozen=True)
class FeedIdentity:
    instance: str
    legacy_before: int
    """Events with a smaller id keep their address-based GUIDs."""
    legacy_base_url: str | None
    """The address those GUIDs were made of; None until one was recorded."""


def read_identity(store: StoreCore) -> FeedIdentity:
    stmt = sa.select(feed_identity).where(feed_identity.c.id == 1)
    row = store._read(lambda conn: conn.execute(stmt).one())
    return FeedIdentity(row.instance, row.legacy_before, row.legacy_base_url)


def check_legacy_base(configured: str) -> None:
    """ConfigError unless the legacy_guid_base setting is empty or an http(s) address."""
    if configured and _ADDRESS.fullmatch(configured) is None:
        raise ConfigError(
            f"legacy_guid_base {configured!r}: give the http:// or https:// address readers "
            "had the feeds from before the upgrade (such as http://127.0.0.1:8080)"
        )


def settle_legacy_base(store: StoreCore, configured: str, serving: str) -> FeedIdentity:
    """The identity, its legacy base recorded: `configured` (the legacy_guid_base setting)
    when given, replacing any recorded before; else the one recorded; else `serving`, the
    address of this server, recorded now. Nothing is recorded for a store without legacy
    GUIDs. ConfigError for a `configured` that is no http(s) address."""
    check_legacy_base(configured)
    is_legacy = sa.and_(feed_identity.c.id == 1, feed_identity.c.legacy_before > 1)
    if configured:
        stmt = sa.update(feed_identity).where(is_legacy)
    else:  # only the first server pins its own address, in case two start at once
        stmt = sa.update(feed_identity).where(is_legacy, feed_identity.c.legacy_base_url.is_(None))
    store._execute(stmt.values(legacy_base_url=(configured or serving).rstrip("/")))
    return read_identity(store)
