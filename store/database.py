"""Opening a database: engine settings per backend, migrations to head, safe error messages.

SQLite gets WAL (readers never wait for the crawler), foreign keys (off by default there),
a busy timeout, and BEGIN IMMEDIATE for writes so two processes queue up instead of failing
half-way through a transaction. PostgreSQL goes through psycopg 3.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, Connection, Engine

from govwatch.errors import ConfigError

BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 10
# pg_advisory_xact_lock key that serialises migrations of processes opening one database.
MIGRATION_LOCK = 0x6F76_7761_7463_68
READ_OPTION = "govwatch_read"
"""Execution option of the read-only engine: SQLite then starts a plain (deferred) BEGIN."""

_ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def parse_url(url: str) -> URL:
    """The URL with a driver: a bare postgresql:// means psycopg 3, the one installed."""
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise sa.exc.ArgumentError(f"unsupported database {parsed.get_backend_name()!r}")
    return parsed


def require_file(url: URL) -> None:
    """ConfigError unless a SQLite database file exists (a reader must not create an empty
    one), with a hint for the three slashes of a relative path and the four of an absolute
    one."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = Path(url.database)
    if path.is_file():
        return
    hint = ""
    if not path.is_absolute() and Path("/", path).is_file():
        hint = f" (an absolute path takes four slashes: sqlite:////{path})"
    elif path.is_absolute() and Path(str(path).lstrip("/")).is_file():
        hint = f" (a relative path takes three slashes: sqlite:///{str(path).lstrip('/')})"
    raise ConfigError(f"no database at {path}{hint}")


def create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, json_serializer=_json_dumps)
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(
        url,
        json_serializer=_json_dumps,
        pool_pre_ping=True,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S},
    )


def migrate(engine: Engine) -> None:
    """Upgrade to every head in one transaction on this engine (env.py uses the connection
    given). Features that add tables branch from the same base and land in any order;
    a merge revision joins the branches when one migration must follow them all."""
    config = Config(str(_ALEMBIC_INI))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "heads")


def reason(exc: BaseException, url: URL) -> str:
    """One line saying what went wrong, from the driver when there is one, password masked."""
    source = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(source).splitlines() if line.strip()]
    text = lines[0] if lines else type(source).__name__
    if url.password:
        text = text.replace(str(url.password), "***")
    return text


def _json_dumps(value: Any) -> str:
    # Chinese text stays readable (and a third of the size) instead of \uXXXX escapes.
    return json.dumps(value, ensure_ascii=False)


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # The driver's own transaction handling would BEGIN DEFERRED behind our back.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Take the write lock up front: a deferred transaction that upgrades later can fail with
    # SQLITE_BUSY at once, since waiting could deadlock.
    read_only = conn.get_execution_options().get(READ_OPTION, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
