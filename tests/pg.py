"""A throwaway PostgreSQL server for the test session, started from the local binaries.

`postgres_url` initdb's a cluster in a temporary directory (trust auth, superuser
`postgres`), starts it on a free port of 127.0.0.1 with its Unix socket in that directory,
creates a database and yields its URL; the server is stopped and its files removed at the
end of the session. PostgreSQL refuses to run as root, so as root the server runs as the
unprivileged `nobody` (the directory is handed to it). Without the binaries the tests that
need the server are skipped, except under CI, which must have them and fails instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

SERVER_TOOLS = ("initdb", "pg_ctl", "postgres", "createdb")
UNPRIVILEGED_USER = "nobody"
START_TIMEOUT_S = 60
# Durability buys nothing for a server that is deleted after the tests.
SERVER_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def find_bindir() -> Path | None:
    """The directory of initdb and friends: PATH first, then Debian's versioned folders."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    versioned = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versioned, key=lambda p: _version(p.parent.name), reverse=True)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in SERVER_TOOLS):
            return bindir
    return None


def fresh_database(server_url: str) -> str:
    """URL of a new, empty database on the server of `server_url` (one per test)."""
    bindir = find_bindir()
    assert bindir is not None, "fresh_database needs the server that postgres_url started"
    return _createdb(bindir, server_url, f"t_{uuid.uuid4().hex[:16]}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bindir = find_bindir()
    if bindir is None:
        reason = (
            "PostgreSQL server binaries (initdb, pg_ctl, postgres, createdb) are neither on "
            "PATH nor in /usr/lib/postgresql/*/bin; install the postgresql package"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the PostgreSQL tests)")
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="govwatch-pg-"))
    as_user = _unprivileged(root)
    data, log, port = root / "data", root / "server.log", _free_port()
    pg_ctl = bindir / "pg_ctl"
    try:
        initdb = ["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"]
        _run(bindir / "initdb", "-D", data, *initdb, cwd=root, **as_user)
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 {SERVER_OPTIONS}"
        try:
            start = ["-w", "-t", START_TIMEOUT_S, "-l", log, "-o", options]
            _run(pg_ctl, "start", "-D", data, *start, cwd=root, **as_user)
        except AssertionError as exc:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise AssertionError(f"{exc}\nserver log:\n{tail}") from None
        try:
            server = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
            yield _createdb(bindir, server, "govwatch_test")
        finally:
            _run(pg_ctl, "stop", "-w", "-m", "fast", "-D", data, cwd=root, **as_user)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _createdb(bindir: Path, server_url: str, name: str) -> str:
    url = sa.make_url(server_url)
    _run(bindir / "createdb", "-h", url.host, "-p", url.port, "-U", url.username, name)
    return url.set(database=name).render_as_string(hide_password=False)


def _unprivileged(root: Path) -> dict[str, Any]:
    """subprocess arguments that drop root (initdb and postgres refuse it) and own `root`."""
    if os.geteuid() != 0:
        return {}
    user = pwd.getpwnam(UNPRIVILEGED_USER)
    os.chown(root, user.pw_uid, user.pw_gid)
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _run(*args: object, **kwargs: Any) -> None:
    """Run a PostgreSQL tool; its output only matters (and is shown) when it fails."""
    done = subprocess.run(
        [str(a) for a in args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        **kwargs,
    )
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())
