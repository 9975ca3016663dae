"""One registry of parsers by name, filled by the `register` decorator.

A parser is a pure function (page text, URL) → Page. It may claim hosts (chosen
for pages of those hosts) and page markers (chosen for pages showing them);
`choose` falls back to the generic extractor, or the text cleaner for text dumps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from govwatch.errors import ConfigError
from parsers.records import Page

ParseFn = Callable[[str, str | None], Page]


@dataclass(frozen=True)
class Request:
    """How to ask for a URL a parser named: most are GETs; some paging APIs want a POST."""

    method: str
    url: str
    form: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Parser:
    name: str
    parse: ParseFn
    hosts: tuple[str, ...] = ()
    detect: Callable[[str], bool] | None = None
    text: bool = False
    request: Callable[[str], Request] | None = None


_REGISTRY: dict[str, Parser] = {}


def register(
    name: str,
    *,
    hosts: tuple[str, ...] = (),
    detect: Callable[[str], bool] | None = None,
    text: bool = False,
    request: Callable[[str], Request] | None = None,
) -> Callable[[ParseFn], ParseFn]:
    def add(fn: ParseFn) -> ParseFn:
        if name in _REGISTRY:
            raise ValueError(f"parser {name!r} registered twice")
        _REGISTRY[name] = Parser(name, fn, hosts, detect, text, request)
        return fn

    return add


def names() -> list[str]:
    return sorted(_REGISTRY)


def get(name: str) -> Parser:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown parser {name!r} (known: {', '.join(names())})") from None


def _host_matches(host: str, pattern: str) -> bool:
    return host == pattern or host.endswith("." + pattern)


def choose(page: str, url: str | None, *, is_html: bool) -> Parser:
    """The parser for a page: by host, then by page markers, else a fallback."""
    if not is_html:
        return _REGISTRY["text"]
    host = (urlsplit(url).hostname or "").lower() if url else ""
    candidates = [p for p in _REGISTRY.values() if not p.text and p.name != "generic"]
    if host:
        for parser in candidates:
            if any(_host_matches(host, h) for h in parser.hosts):
                return parser
    for parser in candidates:
        if parser.detect is not None and parser.detect(page):
            return parser
    return _REGISTRY["generic"]
