"""One HTTP fetch with the limits a crawler of public sites needs.

Timeouts, a redirect limit and a body size cap bound every request; the body is
streamed so an oversized page is cut off, not buffered. Failures become the
project's FetchError family, carrying the URL.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from govwatch.errors import ConnectionFailed, FetchError, FetchTimeout, RedirectError, TooLarge
from govwatch.settings import Settings


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    content: bytes
    content_type: str | None
    headers: dict[str, str]


def make_client(settings: Settings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={"User-Agent": settings.user_agent},
    )


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    settings: Settings,
    *,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    form: tuple[tuple[str, str], ...] = (),
) -> Response:
    """Fetch `url` (GET, or POST of a form). Any status is returned; transport
    failures raise FetchError."""
    try:
        async with client.stream(
            method, url, headers=headers, data=dict(form) if form else None
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
    except httpx.TimeoutException as exc:
        raise FetchTimeout(url, f"timed out ({type(exc).__name__})") from exc
    except httpx.TooManyRedirects as exc:
        raise RedirectError(url, f"more than {settings.max_redirects} redirects") from exc
    except httpx.InvalidURL as exc:
        raise FetchError(url, f"invalid URL: {exc}") from exc
    except httpx.UnsupportedProtocol as exc:
        raise FetchError(url, f"unsupported URL scheme: {exc}") from exc
    except httpx.TransportError as exc:
        raise ConnectionFailed(url, f"{type(exc).__name__}: {exc}") from exc
    except httpx.HTTPError as exc:
        raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc
