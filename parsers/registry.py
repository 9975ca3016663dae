"""One registry of parsers by name, filled by the `register` decorator.

A parser is a pure function (page text, URL, what the caller expects) → Page. It may
claim hosts (chosen for pages of those hosts) and page markers (chosen for pages showing
them); `choose` falls back to the generic extractor, or the text cleaner for text dumps.
A CMS family's parser also declares what the generic engine should know of its pages on
any site: the containers its templates put a body in, and the markers around a body.

Every parser has a version (`version`): what the store records beside each version of a
notice, so that a page cleaned differently by newer code is re-extracted, not revised.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version as installed_version
from pathlib import Path
from urllib.parse import urlsplit

from govwatch.errors import ConfigError
from govwatch.parsers.records import Expect, Page

ParseFn = Callable[[str, str | None, Expect], Page]


@dataclass(frozen=True)
class Markers:
    """A body's start and end, as a CMS marks them in the page source. `needle` is text
    that `begin` matches as written: a page without it is passed over by a text search,
    several times cheaper than the pattern's scan of the whole page."""

    needle: str
    begin: re.Pattern[str]
    end: re.Pattern[str]


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
    containers: tuple[str, ...] = ()
    markers: tuple[Markers, ...] = ()


_REGISTRY: dict[str, Parser] = {}


def register(
    name: str,
    *,
    hosts: tuple[str, ...] = (),
    detect: Callable[[str], bool] | None = None,
    text: bool = False,
    request: Callable[[str], Request] | None = None,
    containers: tuple[str, ...] = (),
    markers: tuple[Markers, ...] = (),
) -> Callable[[ParseFn], ParseFn]:
    def add(fn: ParseFn) -> ParseFn:
        if name in _REGISTRY:
            raise ValueError(f"parser {name!r} registered twice")
        _REGISTRY[name] = Parser(name, fn, hosts, detect, text, request, containers, markers)
        return fn

    return add


def family_containers() -> tuple[str, ...]:
    """Body containers of every CMS family, in registration order."""
    return tuple(c for parser in _REGISTRY.values() for c in parser.containers)


def family_markers() -> tuple[Markers, ...]:
    """Body markers of every CMS family, in registration order."""
    return tuple(m for parser in _REGISTRY.values() for m in parser.markers)


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


@cache
def _code_digest() -> str:
    """A digest of everything that decides a parser's output: this package's code, the
    HTML parser and the charset detector. Computed, not hand-bumped: a change nobody
    remembered to announce still counts; one that alters no output costs a re-clean."""
    libraries = (installed_version(lib) for lib in ("selectolax", "charset-normalizer"))
    digest = hashlib.sha256(" ".join(libraries).encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def version(name: str) -> str:
    """`<parser>@<code digest>`: equal versions clean equal bytes to equal records."""
    return f"{get(name).name}@{_code_digest()}"
