"""What every part of the store shares: opening a database, transactions retried when
they lose a race, INSERT ... ON CONFLICT on both backends, a stored version as a record.

Every public method of the store is one transaction. Writes can be repeated without harm
(the same page twice is one version, one event), except where counting is the point:
start_run opens a new run and record_gone counts each 404. Several processes may share one
database. On PostgreSQL, writes that concern one notice lock its row first (SELECT ... FOR
UPDATE), so two crawlers serialise on it; the unique constraints catch anything that slips
past, and such a collision (or a serialisation failure or deadlock) is retried from the
start. On SQLite every write transaction is BEGIN IMMEDIATE, which serialises writers
outright.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import sqlalchemy as sa
from alembic.util import CommandError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine

from govwatch.errors import StoreError
from govwatch.store import database

T = TypeVar("T")
R = TypeVar("R")

ATTEMPTS = 8
"""Tries of one transaction that lost a race before the error reaches the caller."""

# serialization_failure, deadlock_detected, unique_violation
_RETRY_SQLSTATES = frozenset({"40001", "40P01", "23505"})


def utcnow() -> datetime:
    return datetime.now(UTC)


class StoreCore:
    """An open database and how to run a transaction on it; the store's parts build on it."""

    def __init__(self, engine: Engine, url: URL, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._reader = engine.execution_options(**{database.READ_OPTION: True})
        self._url = url
        self._clock = clock
        self.name = url.render_as_string(hide_password=True)

    @classmethod
    def open(cls, url: str, *, clock: Callable[[], datetime] = utcnow, create: bool = True) -> Self:
        """Connect and migrate to the newest schema; StoreError (password masked) if we can't.

        `clock` gives the times written to the store; tests pass a fake one. Without
        `create`, a SQLite file that does not exist is a ConfigError, not a new store.
        """
        try:
            parsed = database.parse_url(url)
        except sa.exc.ArgumentError as exc:
            raise StoreError(
                "not a usable database URL (sqlite:///PATH or postgresql+psycopg://...): "
                + str(exc).splitlines()[0].replace(url, "<url>")
            ) from exc
        if not create:
            database.require_file(parsed)
        engine = database.create_engine(parsed)
        try:
            database.migrate(engine)
        except (sa.exc.SQLAlchemyError, CommandError) as exc:
            engine.dispose()
            masked = parsed.render_as_string(hide_password=True)
            raise StoreError(
                f"cannot open database {masked}: {database.reason(exc, parsed)}"
            ) from exc
        return cls(engine, parsed, clock)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.name!r})"

    def _run(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in a write transaction, again from the start when it lost a race."""
        return self._transaction(self._engine, work)

    def _read(self, work: Callable[[Connection], T]) -> T:
        return self._transaction(self._reader, work)

    def _execute(self, stmt: sa.Executable) -> None:
        self._run(lambda conn: conn.execute(stmt))

    def _transaction(self, engine: Engine, work: Callable[[Connection], T]) -> T:
        attempt = 1
        while True:
            try:
                with engine.begin() as conn:
                    return work(conn)
            except sa.exc.DBAPIError as exc:
                sqlstate = getattr(exc.orig, "sqlstate", None)
                if attempt < ATTEMPTS and sqlstate in _RETRY_SQLSTATES:
                    time.sleep(random.uniform(0.005, 0.02) * attempt)
                    attempt += 1
                    continue
                raise StoreError(f"{self.name}: {database.reason(exc, self._url)}") from exc

    def _insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        """INSERT with ON CONFLICT, which both backends spell the same way."""
        if self._engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)


def from_row(cls: type[R], row: Any, **values: Any) -> R:
    """A record of dataclass `cls` from the row's columns of its fields' names; `values`
    gives the fields whose column is named otherwise or must be converted."""
    names = [field.name for field in fields(cast(Any, cls)) if field.name not in values]
    return cls(**{name: getattr(row, name) for name in names}, **values)


def record_of(version: sa.Row[Any]) -> dict[str, Any]:
    """A stored version as the cleaned record it was hashed from."""
    return {
        "title": version.title,
        "body": version.body,
        "meta": version.meta,
        "attachments": version.attachments,
    }
