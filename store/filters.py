"""Which notices a reader asks for: site, publisher, 主题分类, a date range, event kinds.

One filter for every query that lists notices (search, and any listing of notices): its
conditions are SQL on the columns the caller names, so each query keeps its own joins.
A notice's date is its own 发布日期 (else 发文日期, 成文日期), else the date its listing
showed, else the day it was first fetched (China time): `notice_day` says it once, for
rows in Python and as SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from govwatch.parsers.records import CHINA_TZ
from govwatch.store.rows import EventKind
from govwatch.store.schema import events

DATE_KEYS = ("published_date", "issued_date", "written_date")
"""Metadata dates that say when a notice was published, best first."""

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def notice_day(meta: Mapping[str, Any], listed_date: str | None, fetched_at: datetime) -> str:
    """The notice's date as YYYY-MM-DD (see the module)."""
    for value in [*(meta.get(key) for key in DATE_KEYS), listed_date]:
        if isinstance(value, str) and _DAY.match(value):
            return value
    return fetched_at.astimezone(CHINA_TZ).date().isoformat()


@dataclass(frozen=True)
class NoticeFilter:
    """Empty fields filter nothing. Publishers and categories match by containment (sites
    spell one bureau with and without its city); dates are inclusive."""

    sites: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    kinds: tuple[EventKind, ...] = ()

    def clauses(
        self,
        *,
        site_id: sa.ColumnElement[str],
        meta: sa.ColumnElement[Any],
        day: sa.ColumnElement[str],
        notice_id: sa.ColumnElement[int],
        version: sa.ColumnElement[int],
    ) -> list[sa.ColumnElement[bool]]:
        """The conditions on a query's columns: the notice's site, the version's metadata
        (JSON) and number, and the notice's date as YYYY-MM-DD text. `kinds` keeps the
        versions an event of those kinds is about (new: a first version, revised: a later
        one, removed/restored: the version shown when it happened)."""
        where: list[sa.ColumnElement[bool]] = []
        if self.sites:
            where.append(site_id.in_(self.sites))
        for key, wanted in (("publisher", self.publishers), ("category", self.categories)):
            if wanted:
                value = meta[key].as_string()
                where.append(sa.or_(*(value.contains(w, autoescape=True) for w in wanted)))
        if self.since is not None:
            where.append(day >= self.since.isoformat())
        if self.until is not None:
            where.append(day <= self.until.isoformat())
        if self.kinds:
            where.append(
                sa.exists().where(
                    events.c.notice_id == notice_id,
                    events.c.version == version,
                    events.c.kind.in_(self.kinds),
                )
            )
        return where
