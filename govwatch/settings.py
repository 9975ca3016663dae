"""Settings, declared as data: name, default, help. Defaults < environment < command line.

Each setting reads from the environment variable GOVWATCH_<NAME>; the CLI passes
command-line values on top.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from govwatch import USER_AGENT
from govwatch.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    connect_timeout: float = 10.0
    """Seconds to wait for a connection."""
    timeout: float = 30.0
    """Seconds a whole response may take."""
    max_bytes: int = 10 * 1024 * 1024
    """Largest response body read; a larger page is an error, not a truncated notice."""
    attachment_max_bytes: int = 50 * 1024 * 1024
    """Largest attachment file fetched (a seed with `attachments = true`); a larger one is
    an error of the crawl, and the notice keeps the file it had."""
    notice_attachment_bytes: int = 200 * 1024 * 1024
    """Bytes of attachments fetched for one notice at most, all its files together."""
    extract_timeout: float = 60.0
    """Seconds the text extraction of one attachment may take (its status is then timeout)."""
    extract_memory: int = 1024
    """Memory cap, in MB, of the process extracting an attachment's text."""
    max_redirects: int = 5
    """Redirects followed before giving up."""
    user_agent: str = USER_AGENT
    """User-Agent sent with every request."""
    retries: int = 3
    """Retries of a request after a timeout, connection error, 5xx or 429."""
    retry_base: float = 0.5
    """Seconds of the first retry's backoff ceiling; doubles each retry, with jitter."""
    concurrency: int = 8
    """Requests in flight across all hosts."""
    host_concurrency: int = 2
    """Requests in flight per host."""
    gone_after: int = 2
    """Consecutive 404/410 answers before a notice is marked removed."""
    db: str = ""
    """Database URL (sqlite:///path or postgresql+psycopg://…); empty: a SQLite file in
    the user's data directory."""
    seeds: str = "seeds"
    """Seed file or directory."""
    topics: str = ""
    """Topics file (topics.toml) for `govwatch serve`; empty: only the built-in `all` topic."""
    host: str = "127.0.0.1"
    """Address `govwatch serve` listens on."""
    port: int = 8080
    """Port `govwatch serve` listens on."""
    base_url: str = ""
    """Public URL of the server, for links in feeds and OPML (set it behind a reverse proxy);
    empty: http://host:port."""
    legacy_guid_base: str = ""
    """The address readers had the feeds from before the upgrade to tag: GUIDs (such as
    http://127.0.0.1:8080): items of events stored before it keep GUIDs made of it. Empty:
    the one recorded in the store, else that of the first `govwatch serve` after the upgrade."""
    jitter: float = 0.1
    """Fraction of a seed's interval by which each scheduled crawl is delayed at random, so
    sites are not all hit at the same moment."""
    shutdown_timeout: float = 120.0
    """Seconds a stopping server waits for running crawls to finish before cancelling them."""
    tick: float = 5.0
    """Seconds between two claims of due sites, at most (`govwatch serve` ticks sooner when
    a site is due sooner); a fleet's tick runs once across all workers, in whole seconds."""
    heartbeat: float = 5.0
    """Seconds between two heartbeats of a `govwatch worker`."""
    stalled_after: float = 20.0
    """Seconds without a heartbeat after which a worker counts as dead: its crawls are
    reaped and their sites crawled again."""
    timezone: str = "Asia/Shanghai"
    """IANA time zone the CLI shows times in and reads `--since` in (default China time)."""
    ca_bundle: str = ""
    """PEM file of CA certificates to trust for https sites, besides the default store (for
    a site whose chain the default store cannot complete); empty: the default store only."""
    chromium: str = "/usr/bin/chromium"
    """The Chromium executable that renders listing pages of seeds with `render = true`."""
    render_timeout: float = 30.0
    """Seconds a rendered listing page may take to load and settle."""
    proxy: str = ""
    """Proxy for every seed without its own `proxy` (http://, https:// or socks5://, with
    user:password@ if it needs them); empty: direct, or the environment's HTTP(S)_PROXY."""
    notify_digest: int = 5
    """A target owed more events than this at once gets one digest message instead."""
    notify_retry_base: float = 30.0
    """Seconds before a failed push is tried again; doubles each attempt, up to an hour."""
    notify_attempts: int = 10
    """Attempts of a push before it is given up (and shown as failed)."""

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"timezone {self.timezone!r}: not an IANA time zone") from None

    @property
    def db_url(self) -> str:
        if self.db:
            return self.db
        path = Path(platformdirs.user_data_dir("govwatch")) / "govwatch.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"GOVWATCH_{f.name.upper()}")
            if raw is None:
                continue
            kind = type(getattr(cls, f.name))
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise ConfigError(
                    f"GOVWATCH_{f.name.upper()}={raw!r} is not a valid {kind.__name__}"
                ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)
