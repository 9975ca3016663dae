"""The crawl's bookkeeping: sites and their flags (baseline done, listing walked to its
end), crawl runs, failed fetches, and the validators of conditional requests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from govwatch.errors import StoreError
from govwatch.store.core import StoreCore
from govwatch.store.schema import crawl_runs, fetch_errors, sites, validators


class Runs(StoreCore):
    """Sites, crawl runs, failed fetches, validators."""

    def upsert_site(self, site_id: str, name: str, parser: str, topics: list[str]) -> None:
        """Add or update a site; a new one awaits its first (baseline) crawl."""
        stmt = self._insert(sites).values(
            id=site_id, name=name, parser=parser, topics=topics, baselined=False
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[sites.c.id],
            set_={key: stmt.excluded[key] for key in ("name", "parser", "topics")},
        )
        self._execute(stmt)

    def _site_flag(self, site_id: str, column: sa.Column[bool]) -> bool:
        """A site's flag; True for a site not in the store."""
        stmt = sa.select(column).where(sites.c.id == site_id)
        value = self._read(lambda conn: conn.execute(stmt).scalar())
        return value is None or bool(value)

    def _set_site_flag(self, site_id: str, **flag: bool) -> None:
        self._execute(sa.update(sites).where(sites.c.id == site_id).values(**flag))

    def baselined(self, site_id: str) -> bool:
        """Whether the site has had its first whole crawl."""
        return self._site_flag(site_id, sites.c.baselined)

    def finish_baseline(self, site_id: str) -> None:
        self._set_site_flag(site_id, baselined=True)

    def listing_complete(self, site_id: str) -> bool:
        """Whether the site's last listing walk reached its end."""
        return self._site_flag(site_id, sites.c.listing_complete)

    def set_listing_complete(self, site_id: str, complete: bool) -> None:
        self._set_site_flag(site_id, listing_complete=complete)

    def start_run(self, site_ids: list[str]) -> int:
        stmt = (
            sa.insert(crawl_runs)
            .values(started_at=self._clock(), site_ids=site_ids)
            .returning(crawl_runs.c.id)
        )
        return self._run(lambda conn: int(conn.execute(stmt).scalar_one()))

    def finish_run(self, run_id: int, stats: dict[str, Any]) -> None:
        stmt = (
            sa.update(crawl_runs)
            .where(crawl_runs.c.id == run_id)
            .values(finished_at=self._clock(), stats=stats)
        )

        def work(conn: Connection) -> None:
            if conn.execute(stmt).rowcount == 0:
                raise StoreError(f"unknown crawl run {run_id}")

        self._run(work)

    def record_error(
        self,
        run_id: int,
        site_id: str,
        url: str,
        kind: str,
        message: str,
        status: int | None = None,
    ) -> None:
        """Log a failed fetch or parse; the same failure again in one run updates its row."""
        values = {"site_id": site_id, "status": status, "message": message, "at": self._clock()}
        stmt = self._insert(fetch_errors).values(run_id=run_id, url=url, kind=kind, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[fetch_errors.c.run_id, fetch_errors.c.url, fetch_errors.c.kind],
            set_={key: stmt.excluded[key] for key in values},
        )
        self._execute(stmt)

    def get_validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) from the last fetch of `url`, for a conditional request."""
        stmt = sa.select(validators.c.etag, validators.c.last_modified).where(
            validators.c.url == url
        )
        row = self._read(lambda conn: conn.execute(stmt).first())
        return (row.etag, row.last_modified) if row else (None, None)

    def save_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        values = {"etag": etag, "last_modified": last_modified, "updated_at": self._clock()}
        stmt = self._insert(validators).values(url=url, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[validators.c.url],
            set_={key: stmt.excluded[key] for key in values},
        )
        self._execute(stmt)
