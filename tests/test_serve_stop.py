"""Stopping `govwatch serve` and starting it on a bad address, as a process: a first Ctrl-C
lets running crawls finish while the server still answers, a second stops now (and the next
crawl finishes the site), and a port or host it cannot listen on is one line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from govwatch.demo.mirror import Mirror, demo_mirror
from govwatch.store import Store
from tests.conftest import ROOT
from tests.test_crash import inconsistencies
from tests.test_server import free_port, wait_for, write_seeds

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # server processes stopped by signals

SLOW = "hanweb-jcms"
"""The mirror site the slow crawls run on: 40 notices, a listing page and a POST."""


@contextmanager
def serving(seeds: Path, db: str, port: int) -> Iterator[subprocess.Popen[str]]:
    command = [sys.executable, "-m", "govwatch", "serve", "--seeds", str(seeds), "--db", db]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def health(port: int) -> dict[str, Any] | None:
    """/healthz when it answers 200, else None (also when nothing listens)."""
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except httpx.HTTPError:
        return None
    return dict(answer.json()) if answer.status_code == 200 else None


def crawling(port: int) -> bool:
    state = health(port)
    return state is not None and state["sites"][SLOW]["running"]


def count(db: str, query: str) -> tuple[int, ...]:
    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(sa.text(query)).one())
    finally:
        engine.dispose()


def runs(db: str) -> tuple[int, ...]:
    """Crawl runs in the store: all of them, and the finished ones."""
    return count(db, "SELECT count(*), count(finished_at) FROM crawl_runs")


def stored_once(db: str, mirror: Mirror) -> None:
    """Every notice of the slow site is in the store once, with one version and one event."""
    site = mirror.site(SLOW)
    with Store.open(db) as store:
        for notice in site.notices:
            (version,) = store.history(site.notice_url(notice.id))
            assert (version.title, version.body) == (notice.title, notice.body)
        assert len(store.events(kind="new", limit=10_000)) == len(site.notices)
    assert inconsistencies(db) == []


def test_first_ctrl_c_lets_the_running_crawl_finish(tmp_path: Path) -> None:
    """The first SIGINT says how many crawls run; the server answers until they finish,
    starts no other, and exits 0."""
    db = f"sqlite:///{tmp_path / 'govwatch.db'}"
    port = free_port()
    with demo_mirror() as mirror:
        write_seeds(mirror, tmp_path / "seeds", SLOW, interval="1s", rate=10.0)
        with serving(tmp_path / "seeds", db, port) as proc:
            wait_for(lambda: crawling(port), 30, "a crawl to start")
            proc.send_signal(signal.SIGINT)
            answered: list[dict[str, Any]] = []
            while (state := health(port)) is not None:
                answered.append(state)
                time.sleep(0.2)
            _, stderr = proc.communicate(timeout=30)
        stored_once(db, mirror)
    assert proc.returncode == 0, stderr
    assert "stopping: waiting for 1 running crawl to finish (Ctrl-C again to stop now)" in stderr
    assert "cancelling" not in stderr and "Traceback" not in stderr, stderr
    # Still serving after the signal, health included, while the crawl went on.
    assert answered and all(s["status"] == "ok" and s["scheduler"]["stopping"] for s in answered)
    assert answered[0]["sites"][SLOW]["running"] and answered[0]["sites"][SLOW]["next_run"] is None
    assert runs(db) == (1, 1), "the crawl was cut short, or another one started"


def test_ctrl_c_with_no_crawl_running_stops_at_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'govwatch.db'}"
    port = free_port()
    with demo_mirror() as mirror:
        write_seeds(mirror, tmp_path / "seeds", "generic", interval="1h")

        def crawled() -> bool:
            state = health(port)
            return state is not None and state["sites"]["generic"]["last_success"] is not None

        with serving(tmp_path / "seeds", db, port) as proc:
            wait_for(crawled, 30, "the first crawl to end")
            started = time.monotonic()
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert time.monotonic() - started < 5, stderr
    assert "stopping: no crawl running" in stderr


@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_a_second_signal_stops_now_and_the_next_crawl_finishes(
    sig: signal.Signals, status: int, tmp_path: Path
) -> None:
    """A second Ctrl-C (or SIGTERM) in the middle of a slow crawl: the process is gone within
    seconds with status 128 + the signal, the store is consistent, and `govwatch crawl` then
    stores the rest of the site, each notice once."""
    db = f"sqlite:///{tmp_path / 'govwatch.db'}"
    port = free_port()
    with demo_mirror() as mirror:
        write_seeds(mirror, tmp_path / "seeds", SLOW, rate=4.0)
        site = mirror.site(SLOW)
        with serving(tmp_path / "seeds", db, port) as proc:
            wait_for(lambda: len(site.log) >= 8, 30, "notices to be fetched")
            proc.send_signal(sig)
            wait_for(lambda: (h := health(port)) and h["scheduler"]["stopping"], 5, "a stop")
            started = time.monotonic()
            proc.send_signal(sig)
            _, stderr = proc.communicate(timeout=30)
            took = time.monotonic() - started
        assert proc.returncode == status, stderr
        assert took < 4, stderr
        again = "Ctrl-C" if sig == signal.SIGINT else "SIGTERM"
        assert f"stopping: waiting for 1 running crawl to finish ({again} again" in stderr
        assert "stopping now: cancelling 1 running crawl" in stderr
        assert "Traceback" not in stderr, stderr
        assert runs(db) == (1, 0)
        assert inconsistencies(db) == []
        (stored,) = count(db, "SELECT count(*) FROM versions")
        assert 0 < stored < len(site.notices), "the crawl was not cut short"

        write_seeds(mirror, tmp_path / "seeds", SLOW, rate=200.0)
        command = [sys.executable, "-m", "govwatch", "crawl", "--seeds", str(tmp_path / "seeds")]
        done = subprocess.run(
            [*command, "--db", db], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        stored_once(db, mirror)


# --- addresses it cannot listen on ---------------------------------------------


def serve_fails(tmp_path: Path, *options: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`govwatch serve` with `options` and one enabled seed (so that no warning about
    seeds comes first), expected to fail before it crawls."""
    seed = tmp_path / "seeds" / "unreached.toml"
    seed.parent.mkdir()
    seed.write_text(
        'id = "unreached"\nname = "unreached"\nparser = "generic"\ninterval = "1h"\n'
        'listing_urls = ["http://127.0.0.1:9/tzgg/"]\n',
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "govwatch", "serve", "--seeds", str(seed.parent)]
    command += ["--db", f"sqlite:///{tmp_path / 'gw.db'}", *options]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=30, env={**os.environ, **env}
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_a_bad_port_is_a_usage_error_naming_it(port: str, tmp_path: Path) -> None:
    done = serve_fails(tmp_path, "--port", port)
    assert done.returncode == 2
    # click's usage error: a hint how to get help, then one line naming the value.
    (error,) = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert error.startswith("Error: Invalid value for '--port': ") and port in error
    assert not (tmp_path / "gw.db").exists(), "opened the store for nothing"


def test_a_port_in_use_is_one_line_naming_it(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.3", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = serve_fails(tmp_path, "--host", "127.0.0.3", "--port", str(port))
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        f"Error: cannot listen on 127.0.0.3:{port}: address already in use"
    ]


def test_a_port_out_of_range_from_the_environment_is_one_line(tmp_path: Path) -> None:
    done = serve_fails(tmp_path, GOVWATCH_PORT="70000")
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        "Error: cannot listen on 127.0.0.1:70000: a port is 1 to 65535"
    ]


def test_a_host_that_is_no_name_is_one_line(tmp_path: Path) -> None:
    done = serve_fails(tmp_path, "--host", "nosuch.invalid", "--port", "8080")
    assert done.returncode == 3
    (line,) = done.stderr.splitlines()
    assert line.startswith("Error: cannot listen on nosuch.invalid:8080: "), line
