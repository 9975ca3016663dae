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
from urllib.parse import unquote, urlsplit

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


def browser_proxy(proxy: str, environ: dict[str, str] | None = None) -> dict[str, str] | None:
    """`proxy` as a browser context takes it: server, credentials apart, and the NO_PROXY
    hosts to go direct (None: NO_PROXY=* sends everything direct). Chromium's own bypass of
    loopback is turned off ("<-loopback>"): a configured proxy is for every host it was not
    told to skip. Chromium cannot log in to a SOCKS proxy: a ConfigError says so."""
    parts = urlsplit(proxy)
    if parts.scheme.startswith("socks") and (parts.username or parts.password):
        raise ConfigError(
            f"proxy {mask(proxy)}: the browser of render = true cannot log in to a SOCKS proxy;"
            " use an http:// proxy for this seed"
        )
    env = os.environ if environ is None else environ
    raw = env.get("NO_PROXY") or env.get("no_proxy") or ""
    skip = [host.strip() for host in raw.split(",") if host.strip()]
    if "*" in skip:
        return None
    out = {
        "server": f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}",
        "bypass": ",".join([*skip, "<-loopback>"]),
    }
    if parts.username:
        out["username"] = unquote(parts.username)
        out["password"] = unquote(parts.password or "")
    return out


def proxy_for(settings: Settings, seed_proxy: str | None) -> str | None:
    """The proxy a seed's requests go through: its own, else the setting's, else none."""
    return seed_proxy or settings.proxy or None


def mounts(proxy: str) -> dict[str, httpx.AsyncBaseTransport | None]:
    """A client's routes around `proxy`: None sends the NO_PROXY hosts direct."""
    reason = check_proxy(proxy)
    if reason:
        raise ConfigError(f"proxy: {reason}")
    return dict.fromkeys(no_proxy_patterns())
