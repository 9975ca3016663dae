"""Running the server: the listening socket, uvicorn, and the two-step stop on signals."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from types import FrameType

import uvicorn

from govwatch.crawler.seeds import Seed
from govwatch.errors import GovwatchError
from govwatch.feeds.topics import Topic
from govwatch.server.app import create_app
from govwatch.server.scheduler import CrawlScheduler
from govwatch.settings import Settings
from govwatch.store import Store

log = logging.getLogger(__name__)

DRAIN_SECONDS = 30
"""On SIGTERM, how long open requests may take to finish before their connections close."""
STOP_NOW_DRAIN = 1
"""The same on a second stop signal, which means now."""


class ListenError(GovwatchError):
    """The server's address cannot be listened on: in use, not this host's, not a name."""


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port the way uvicorn binds one, else a ListenError naming both."""
    address = _address(host, port)
    if not 1 <= port <= 65535:  # GOVWATCH_PORT reaches here unchecked; --port cannot
        raise ListenError(f"cannot listen on {address}: a port is 1 to 65535")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise ListenError(f"cannot listen on {address}: {reason[:1].lower()}{reason[1:]}") from None
    return sock


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve(store: Store, topics: list[Topic], seeds: list[Seed], settings: Settings) -> int:
    """Run the server until stopped by SIGTERM or SIGINT (see Server); returns the exit
    status. A ListenError when it cannot listen, before anything was crawled."""
    # Bound before uvicorn starts the lifespan, and with it the crawls.
    sock = listen(settings.host, settings.port)
    app = create_app(store, topics, seeds, settings)
    config = uvicorn.Config(
        app,
        lifespan="on",
        timeout_graceful_shutdown=DRAIN_SECONDS,
        server_header=False,
        log_level="info",
    )
    server = Server(config, app.state.crawls, settings.shutdown_timeout)
    log.info("listening on http://%s (Ctrl-C to stop)", _address(settings.host, settings.port))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return server.status


class Server(uvicorn.Server):
    """uvicorn's server, stopped in two steps. The first SIGINT or SIGTERM stops new crawls
    and keeps serving until the running ones finish (up to `timeout`, then they are
    cancelled), then stops with status 0. A second one stops now: running crawls are
    cancelled, open requests get STOP_NOW_DRAIN, and the status is 128 + the signal (130
    for Ctrl-C)."""

    def __init__(
        self, config: uvicorn.Config, crawls: CrawlScheduler | None, timeout: float
    ) -> None:
        super().__init__(config)
        self.crawls = crawls
        self.timeout = timeout
        self.status = 0
        self._signalled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finishing: asyncio.Task[None] | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # A signal handler runs between any two bytecodes: it leaves the work to the loop.
        # (uvicorn's own would stop serving at once, and raise the signal again at the end.)
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._stop_now if self._signalled else self._stop, sig)
        self._signalled = True

    def _stop(self, sig: int) -> None:
        crawls = self.crawls
        running = crawls.pause() if crawls else 0
        if crawls is None or not running:
            log.info("stopping: no crawl running")
            self.should_exit = True
            return
        again = "Ctrl-C" if sig == signal.SIGINT else signal.Signals(sig).name
        log.warning(
            "stopping: waiting for %s to finish (%s again to stop now)", _crawls(running), again
        )
        self._finishing = asyncio.create_task(self._finish(crawls))

    async def _finish(self, crawls: CrawlScheduler) -> None:
        await crawls.stop(self.timeout)
        self.should_exit = True

    def _stop_now(self, sig: int) -> None:
        self.status = 128 + sig
        running = self.crawls.pause() if self.crawls else 0
        if self.crawls and running:
            log.warning("stopping now: cancelling %s", _crawls(running))
            self.crawls.cancel()
        else:
            log.warning("stopping now")
        self.config.timeout_graceful_shutdown = STOP_NOW_DRAIN
        self.should_exit = True


def _crawls(n: int) -> str:
    return f"{n} running crawl" if n == 1 else f"{n} running crawls"
