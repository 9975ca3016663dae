"""Site health: what each crawl of a site yielded and how it was judged."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from govwatch.store.core import StoreCore, from_row
from govwatch.store.rows import HealthRow, HealthStatus, SiteYield
from govwatch.store.schema import site_health


class SiteHealth(StoreCore):
    """Each crawl's health of each site."""

    def record_health(
        self, run_id: int, site_id: str, status: HealthStatus, message: str, yielded: SiteYield
    ) -> bool:
        """Keep one crawl's health of a site; True when its status differs from the site's
        previous crawl (no previous crawl counts as healthy)."""

        def work(conn: Connection) -> bool:
            previous = conn.execute(
                sa.select(site_health.c.status)
                .where(site_health.c.site_id == site_id, site_health.c.run_id != run_id)
                .order_by(site_health.c.id.desc())
                .limit(1)
            ).scalar()
            changed = (previous or "ok") != status
            values = {
                "at": self._clock(),
                "status": status,
                "message": message,
                "changed": changed,
                **asdict(yielded),
            }
            stmt = self._insert(site_health).values(run_id=run_id, site_id=site_id, **values)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[site_health.c.run_id, site_health.c.site_id],
                    set_={key: stmt.excluded[key] for key in values},
                )
            )
            return changed

        return self._run(work)

    def healthy_yields(self, site_id: str, limit: int = 10) -> list[SiteYield]:
        """What the site's last `limit` healthy crawls yielded, newest first."""
        stmt = (
            sa.select(site_health)
            .where(site_health.c.site_id == site_id, site_health.c.status == "ok")
            .order_by(site_health.c.id.desc())
            .limit(limit)
        )
        return self._read(lambda conn: [_health_row(r).yielded for r in conn.execute(stmt)])

    def latest_health(self) -> dict[str, HealthRow]:
        """Each site's health at its last crawl."""
        last = (
            sa.select(sa.func.max(site_health.c.id))
            .group_by(site_health.c.site_id)
            .scalar_subquery()
        )
        stmt = sa.select(site_health).where(site_health.c.id.in_(last))
        return self._read(
            lambda conn: {row.site_id: _health_row(row) for row in conn.execute(stmt)}
        )

    def health_changes(self, limit: int = 50) -> list[HealthRow]:
        """Crawls whose health differed from the crawl before, newest first: when a site
        broke and when it came back, once each, however many crawls it stayed that way."""
        stmt = (
            sa.select(site_health)
            .where(site_health.c.changed)
            .order_by(site_health.c.id.desc())
            .limit(limit)
        )
        return self._read(lambda conn: [_health_row(row) for row in conn.execute(stmt)])


def _health_row(row: sa.Row[Any]) -> HealthRow:
    return from_row(HealthRow, row, yielded=from_row(SiteYield, row))
