"""A `govwatch worker` cut off from its database for longer than `stalled_after` exits with
EXIT_RESTART and says why, for its supervisor to start it again; a shorter outage it rides
out. The worker reaches PostgreSQL through a TCP relay the test can silence (packets go
nowhere, as on a broken network: every query hangs) or shut (connections refused)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from govwatch.fleet.worker import EXIT_RESTART
from govwatch.store import Store
from tests.fleet import Fleet, fleet_mirror, runs_by_site, wait_for
from tests.pg import fresh_database
from tests.test_worker import FAST

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # PostgreSQL, worker processes

STALLED_AFTER = float(FAST["GOVWATCH_STALLED_AFTER"])


class Relay:
    """127.0.0.1:<port> relayed to `target`. `silence()`: bytes are taken and dropped both
    ways and new connections accepted and never answered; `shut()`: every connection
    closed and new ones refused; `restore()`: relaying again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.silent = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        self.silent.clear()
        listener = socket.create_server(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def silence(self) -> None:
        self.silent.set()

    def shut(self) -> None:
        assert self._listener is not None
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):  # wakes its pump's recv, tells the peer
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # shut
                return
            with self._lock:
                self._sockets.append(client)
            if self.silent.is_set():
                continue
            server = socket.create_connection(self.target)
            with self._lock:
                self._sockets.append(server)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self.silent.is_set():
                    sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            sock.close()


@pytest.fixture
def relayed(postgres_url: str) -> Iterator[tuple[sa.Engine, str, Relay]]:
    """A fresh database (an engine on it, for the test), its URL through a relay (for the
    worker), and the relay."""
    db = fresh_database(postgres_url)
    Store.open(db).close()
    url = sa.make_url(db)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    engine = sa.create_engine(db)
    yield engine, url.set(port=relay.port).render_as_string(hide_password=False), relay
    engine.dispose()
    relay.shut()


@pytest.mark.parametrize("outage", ["silenced", "shut"])
def test_a_worker_cut_off_for_longer_than_stalled_after_exits_to_be_restarted(
    relayed: tuple[sa.Engine, str, Relay], tmp_path: Path, outage: str
) -> None:
    engine, db, relay = relayed
    with fleet_mirror(sites=2, hosts=1, notices=2) as mirror:
        seeds = mirror.seed_files(tmp_path / "seeds", rate=20.0)
        fleet = Fleet(db, seeds, tmp_path, FAST)
        try:
            worker = fleet.worker("w", concurrency=2)
            wait_for(lambda: len(runs_by_site(engine)) == 2, 60, "both sites crawled", 0.5)
            time.sleep(2 * float(FAST["GOVWATCH_HEARTBEAT"]))  # beats confirmed
            if outage == "silenced":
                relay.silence()
            else:
                relay.shut()
            cut = time.monotonic()
            status = worker.wait(timeout=STALLED_AFTER + 40)
            took = time.monotonic() - cut
        finally:
            fleet.stop()
    log = fleet.log("w")
    assert status == EXIT_RESTART, log[-3000:]
    # Not at the first failed look: only once the fleet takes the worker for dead.
    assert STALLED_AFTER - 3 <= took <= STALLED_AFTER + 15, (took, log[-3000:])
    assert "the fleet takes this worker for dead" in log, log[-3000:]
    assert f"exiting with status {EXIT_RESTART}" in log


def test_a_worker_rides_out_an_outage_shorter_than_stalled_after(
    relayed: tuple[sa.Engine, str, Relay], tmp_path: Path
) -> None:
    engine, db, relay = relayed
    with fleet_mirror(sites=2, hosts=1, notices=2) as mirror:
        seeds = mirror.seed_files(tmp_path / "seeds", rate=20.0)
        fleet = Fleet(db, seeds, tmp_path, FAST)
        try:
            worker = fleet.worker("w", concurrency=2)
            wait_for(lambda: len(runs_by_site(engine)) == 2, 60, "both sites crawled", 0.5)
            relay.shut()
            time.sleep(STALLED_AFTER / 3)
            relay.restore()
            time.sleep(STALLED_AFTER + 5)  # long enough for an exit that should not come
            assert worker.poll() is None, fleet.log("w")[-3000:]
        finally:
            statuses = fleet.stop()
    assert statuses == {"w": 0}, fleet.log("w")[-3000:]
