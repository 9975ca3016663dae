"""Proxies: where a seed's requests go out (a domestic egress for a geo-fenced site), one
client per distinct proxy, and the one function that keeps proxy credentials out of
every line govwatch prints, logs or serves (crawler.fetch.Clients holds the clients).

A configured proxy (the `proxy` setting, a seed's `proxy` key) is used for every request
of the seeds it applies to, except to hosts that NO_PROXY / no_proxy names: httpx applies
those only to the proxies it reads from the environment itself, so they are applied here
the same way (comma-separated host names, matching the host and its subdomains; IP
addresses matching exactly; `*` meaning every host).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from govwatch.errors import ConfigError
from govwatch.settings import Settings

if TYPE_CHECKING:  # the CLI imports mask() at start, before any command needs httpx
    import httpx

SCHEMES = ("http", "https", "socks5", "socks5h")
_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def mask(text: str) -> str:
    """`text` with the user and password of every URL in it replaced by `***`."""
    return _CREDENTIALS.sub(r"\1***@", text)


def check_proxy(url: str) -> str:
    """`url` if it is a proxy URL httpx can use; else the reason, for a ConfigError."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises for a port out of range)
    except ValueError as exc:
        return mask(f"not a proxy URL: {url!r} ({exc})")
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        return mask(f"not a proxy URL: {url!r} (use http://, https:// or socks5://HOST:PORT)")
    return ""


def no_proxy_patterns(environ: dict[str, str] | None = None) -> list[str]:
    """httpx mount patterns for the hosts NO_PROXY exempts from a configured proxy."""
    env = os.environ if environ is None else environ
    raw = env.get("NO_PROXY") or env.get("no_proxy") or ""
    patterns = []
    for host in (h.strip().lower() for h in raw.split(",")):
        if not host:
            continue
        if host == "*":
            return ["all://"]
        host = host.lstrip(".")
        if re.fullmatch(r"[\d.]+", host):
            patterns.append(f"all://{host}")
        elif ":" in host:  # an IPv6 address
            patterns.append(f"all://[{host.strip('[]')}]")
        else:  # the host and its subdomains, as curl and httpx read it
            patterns += [f"all://{host}", f"all://*.{host}"]
    return patterns


def proxy_for(settings: Settings, seed_proxy: str | None) -> str | None:
    """The proxy a seed's requests go through: its own, else the setting's, else none."""
    return seed_proxy or settings.proxy or None


def mounts(proxy: str) -> dict[str, httpx.AsyncBaseTransport | None]:
    """A client's routes around `proxy`: None sends the NO_PROXY hosts direct."""
    reason = check_proxy(proxy)
    if reason:
        raise ConfigError(f"proxy: {reason}")
    return dict.fromkeys(no_proxy_patterns())
