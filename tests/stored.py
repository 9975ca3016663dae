"""What tests read from a store past its API: the notices it knows of a site."""

from __future__ import annotations

import sqlalchemy as sa

from govwatch.store.database import parse_url
from govwatch.store.schema import notices


def known_urls(url: str, site_id: str) -> set[str]:
    """The URLs of every notice of `site_id` in the store at `url`, versioned or not."""
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            stmt = sa.select(notices.c.url).where(notices.c.site_id == site_id)
            return set(conn.execute(stmt).scalars())
    finally:
        engine.dispose()
