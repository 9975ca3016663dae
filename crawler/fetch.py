"""One HTTP fetch with the limits a crawler of public sites needs.

A whole answer, redirects included, must arrive within `timeout` (httpx's own timeouts
bound each read, so a server dripping a byte a second would otherwise never time out);
the body is streamed so an oversized page is cut off, not buffered. Redirects are followed
here, hop by hop, so that each target is checked against the `Destinations` before any
connection is made: off the seed's hosts, or to a private, loopback or link-local address
the seed does not itself live on, a redirect is refused, never followed. Failures become
the project's FetchError family, carrying the URL. `on_send` is called at the moment the
request's headers go onto the wire (httpcore's trace), after any connection setup: the
host's rate is judged there (crawler/politeness.py), and an exception it raises aborts the
request before anything is sent.

https is verified, always: against the default store (certifi), plus the PEM bundle the
`ca_bundle` setting names. A certificate that does not verify is a FetchError of its own
reason, not a ConnectionFailed: retrying cannot fix it, trusting the right CA can.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import cache
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from govwatch.crawler.proxy import mask, mounts
from govwatch.errors import (
    BlockedAddress,
    ConfigError,
    ConnectionFailed,
    FetchError,
    FetchTimeout,
    NoAnswer,
    RedirectError,
    Refused,
    Reset,
    TLSFailure,
    TooLarge,
)
from govwatch.settings import Settings

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    content: bytes
    content_type: str | None
    headers: dict[str, str]


def address_kind(address: str) -> str:
    """The kind of an IP address: public, or which kind of non-public one: loopback,
    link-local, or private (everything else not globally routable: 10/8, 172.16/12,
    192.168/16, CGNAT, ULA, multicast, reserved)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_unspecified:  # 0.0.0.0 reaches the local host on Linux
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_global and not ip.is_multicast:
        return "public"
    return "private"


def _literal_kind(host: str) -> str | None:
    """The address kind of a host written as an IP address, None for a host name."""
    try:
        return address_kind(host.strip("[]"))
    except ValueError:
        return None


class Destinations:
    """Where one seed's requests may go.

    `hosts` (None: any) limits the host names; `home` are the seed's own listing hosts. A
    non-public address is allowed only of a kind a home host has: a seed on an intranet
    address may crawl that intranet, a seed on a public site never reaches 10.0.0.1,
    169.254.169.254 or the crawler's own machine, whatever its pages or DNS say. Host
    names are resolved (once per instance) and every address they give is checked.
    """

    def __init__(self, hosts: Iterable[str] | None, home: Iterable[str]) -> None:
        self.hosts = None if hosts is None else frozenset(h.lower() for h in hosts)
        self._home = tuple(h.lower() for h in home)
        self._home_kinds: frozenset[str] | None = None
        self._resolved: dict[str, frozenset[str]] = {}

    async def check(self, url: str) -> None:
        """Raise RedirectError (host not allowed), BlockedAddress (address not allowed) or
        FetchError (not an http(s) URL) unless a request to `url` may be made."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (raises for a port out of range)
        except ValueError as exc:
            raise FetchError(url, f"invalid URL: {exc}") from exc
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise FetchError(url, "not an http(s) URL")
        literal = _literal_kind(host)
        if literal is not None and literal != "public":
            await self._require(url, host, literal)
        if self.hosts is not None and host not in self.hosts:
            raise RedirectError(url, f"{host} is not one of the seed's hosts")
        if literal is None:
            for kind in await self._kinds(url, host):
                if kind != "public":
                    await self._require(url, host, kind)

    async def _require(self, url: str, host: str, kind: str) -> None:
        if kind not in await self._home_address_kinds():
            raise BlockedAddress(url, f"{host} is a {kind} address; the seed is not on one")

    async def _home_address_kinds(self) -> frozenset[str]:
        if self._home_kinds is None:
            kinds: set[str] = set()
            for host in self._home:
                literal = _literal_kind(host)
                if literal is not None:
                    kinds.add(literal)
                    continue
                with contextlib.suppress(ConnectionFailed):  # unresolvable: grants nothing
                    kinds |= await self._kinds(host, host)
            self._home_kinds = frozenset(kinds - {"public"})
        return self._home_kinds

    async def _kinds(self, url: str, host: str) -> frozenset[str]:
        known = self._resolved.get(host)
        if known is None:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, None, type=socket.SOCK_STREAM
                )
            except OSError as exc:
                raise ConnectionFailed(url, f"cannot resolve {host}: {exc}") from exc
            known = frozenset(address_kind(str(info[4][0])) for info in infos)
            self._resolved[host] = known
        return known


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""  # Destinations.check reports the URL as invalid


def tls_context(settings: Settings) -> ssl.SSLContext:
    """httpx's default verifying context, trusting also the `ca_bundle` certificates: added,
    not instead, so a bundle holding one site's missing intermediate breaks no other site.
    Made once per bundle and process: loading the CA store takes a tenth of a second, more
    than a whole small crawl, and a context serves any number of clients and threads."""
    return _tls_context(settings.ca_bundle or None)


@cache
def _tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    context = httpx.create_ssl_context()
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except ssl.SSLError as exc:  # before OSError, which it is too
            reason = str(exc.reason or exc).lower().replace("_", " ")
            raise _bad_bundle(ca_bundle, reason) from exc
        except OSError as exc:
            raise _bad_bundle(ca_bundle, exc.strerror or str(exc)) from exc
    return context


def _bad_bundle(path: str, reason: str) -> ConfigError:
    return ConfigError(f"ca_bundle {path}: cannot load CA certificates ({reason})")


def make_client(settings: Settings, proxy: str | None = None) -> httpx.AsyncClient:
    """A client going out directly (environment proxies honoured, as httpx reads them), or
    through `proxy` (http, https or socks5; NO_PROXY hosts still direct)."""
    timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": settings.user_agent},
        verify=tls_context(settings),
        proxy=proxy,
        mounts=mounts(proxy) if proxy else None,
    )


class Clients:
    """One client per distinct proxy (None: direct), made on first use, closed together."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[str | None, httpx.AsyncClient] = {}
        self._stack = AsyncExitStack()

    async def get(self, proxy: str | None) -> httpx.AsyncClient:
        if proxy not in self._clients:
            client = make_client(self.settings, proxy)
            self._clients[proxy] = await self._stack.enter_async_context(client)
        return self._clients[proxy]

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()


def _certificate_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind an httpx error (httpx wraps httpcore,
    which wraps ssl), if that is what it is."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _os_cause(exc: BaseException) -> BaseException | None:
    """The innermost OS or ssl error under an httpx error (httpx wraps httpcore, which wraps
    anyio's "All connection attempts failed", which wraps the socket's), if any."""
    found = None
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            found = seen
        seen = seen.__cause__ or seen.__context__
    return found


# OpenSSL's verify codes for a chain that ends at no CA the client trusts: the ones a
# ca_bundle can cure (a mismatched name or an expired certificate it cannot).
_UNKNOWN_ISSUER = frozenset({2, 18, 19, 20, 21})


def _certificate_reason(error: ssl.SSLCertVerificationError) -> str:
    why = (error.verify_message or error.reason or "verify failed").rstrip(".")
    if error.verify_code in _UNKNOWN_ISSUER:
        return f"TLS certificate not trusted: {why} (GOVWATCH_CA_BUNDLE can add its CA)"
    return f"TLS certificate rejected: {why}"


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    settings: Settings,
    *,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    form: tuple[tuple[str, str], ...] = (),
    destinations: Destinations | None = None,
    on_send: Callable[[], None] | None = None,
) -> Response:
    """Fetch `url` (GET, or POST of a form), following redirects the `destinations` allow
    (default: any host, non-public addresses only of the kind `url` is on). Any final
    status is returned; transport failures and refused redirects raise FetchError.
    `on_send` is called as the first request goes out; what it raises aborts the fetch."""
    where = destinations or Destinations(None, [_host(url)])
    try:
        async with asyncio.timeout(settings.timeout):
            return await _follow(client, url, settings, headers, method, form, where, on_send)
    except TimeoutError as exc:
        reason = f"timed out: no complete answer within {settings.timeout:g} s"
        raise FetchTimeout(url, reason) from exc


async def _follow(
    client: httpx.AsyncClient,
    url: str,
    settings: Settings,
    headers: dict[str, str] | None,
    method: str,
    form: tuple[tuple[str, str], ...],
    where: Destinations,
    on_send: Callable[[], None] | None,
) -> Response:
    current, seen = url, {url}
    for _ in range(settings.max_redirects + 1):
        await where.check(current)
        resp = await _one(client, current, settings, headers, method, form, on_send)
        on_send = None  # the slot was the first request's
        location = resp.headers.get("location", "").strip()
        if resp.status not in REDIRECT_STATUSES or not location:
            return resp
        target = urljoin(current, location).split("#", 1)[0]
        if target in seen:
            raise RedirectError(url, f"redirect loop back to {target}")
        seen.add(target)
        current = target
        if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
            method, form = "GET", ()
    raise RedirectError(url, f"more than {settings.max_redirects} redirects")


async def _one(
    client: httpx.AsyncClient,
    url: str,
    settings: Settings,
    headers: dict[str, str] | None,
    method: str,
    form: tuple[tuple[str, str], ...],
    on_send: Callable[[], None] | None,
) -> Response:
    """One request, no redirects followed, the body read up to the size cap."""
    extensions = {"trace": _sending(on_send)} if on_send is not None else None
    try:
        async with client.stream(
            method, url, headers=headers, data=dict(form) if form else None, extensions=extensions
        ) as resp:
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > settings.max_bytes:
                raise TooLarge(url, f"body of {declared} bytes exceeds {settings.max_bytes}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > settings.max_bytes:
                    raise TooLarge(url, f"body exceeds {settings.max_bytes} bytes")
                chunks.append(chunk)
            return Response(
                url=str(resp.url),
                status=resp.status_code,
                content=b"".join(chunks),
                content_type=resp.headers.get("content-type"),
                headers=dict(resp.headers),
            )
    except httpx.ConnectTimeout as exc:
        reason = f"no answer to connect within {settings.connect_timeout:g} s"
        raise NoAnswer(url, reason) from exc
    except httpx.TimeoutException as exc:
        raise FetchTimeout(url, f"timed out ({type(exc).__name__})") from exc
    except httpx.InvalidURL as exc:
        raise FetchError(url, f"invalid URL: {exc}") from exc
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(url, f"unsupported URL scheme: {exc}") from exc
    except httpx.TransportError as exc:
        bad_cert = _certificate_error(exc)
        if bad_cert is not None:
            raise TLSFailure(url, _certificate_reason(bad_cert)) from exc
        detail = mask(str(exc)) or "the connection was reset or closed"
        cause = _os_cause(exc)
        if isinstance(cause, ssl.SSLError):
            raise TLSFailure(url, f"TLS handshake failed: {detail}") from exc
        if isinstance(cause, ConnectionRefusedError):
            raise Refused(url, "connection refused") from exc
        if isinstance(cause, ConnectionResetError):
            raise Reset(url, "connection reset") from exc
        raise ConnectionFailed(url, f"{type(exc).__name__}: {detail}") from exc
    except httpx.HTTPError as exc:
        raise FetchError(url, f"{type(exc).__name__}: {mask(str(exc))}") from exc


def _sending(on_send: Callable[[], None]) -> Callable[[str, dict[str, Any]], Any]:
    """An httpcore trace hook calling `on_send` as the request's headers are about to be
    written: the connection is set up by then (connect, TLS, a proxy's CONNECT)."""

    async def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith(".send_request_headers.started"):
            on_send()

    return trace
