"""The one error tree of govwatch.

    GovwatchError
    ├── FetchError            (carries .url, and .kind: why, for summaries and advice)
    │   ├── FetchTimeout
    │   │   └── NoAnswer      (TCP never answered: blackholed or geo-fenced)
    │   ├── ConnectionFailed  (refused, reset, cut short: worth a retry)
    │   │   ├── Refused
    │   │   └── Reset
    │   ├── TLSFailure        (a handshake or certificate that fails: no retry cures it)
    │   ├── RedirectError     (a loop, too many, or off the allowed hosts)
    │   ├── BlockedAddress    (a private, loopback or link-local address the seed is not on)
    │   └── TooLarge
    ├── DecodeError           (bytes that are no text in any plausible encoding)
    ├── ParseError            (carries .url)
    ├── StoreError            (the database: unreachable, failing, or an unknown notice)
    └── ConfigError           (a setting, a seed or an unknown parser name)

Each class declares its `kind` once, the word a crawl records and counts a failed page
under (`timeout`, `tls`, `decode` …). Third-party exceptions are mapped to these at the
module that calls the library.
"""

from __future__ import annotations


class GovwatchError(Exception):
    """Base of every error govwatch raises on purpose."""

    kind = "error"


class FetchError(GovwatchError):
    kind = "fetch"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class FetchTimeout(FetchError):
    kind = "timeout"


class NoAnswer(FetchTimeout):
    kind = "no_answer"


class ConnectionFailed(FetchError):
    kind = "connection"


class Refused(ConnectionFailed):
    kind = "refused"


class Reset(ConnectionFailed):
    kind = "reset"


class TLSFailure(FetchError):
    kind = "tls"


class RedirectError(FetchError):
    kind = "redirect"


class BlockedAddress(FetchError):
    """A request that would reach a non-public address (10.x, 169.254.169.254, localhost …)
    of a kind the seed itself does not live on: refused before any connection."""

    kind = "blocked_address"


class TooLarge(FetchError):
    kind = "too_large"


class DecodeError(GovwatchError):
    kind = "decode"


class ParseError(GovwatchError):
    kind = "parse"

    def __init__(self, url: str | None, reason: str) -> None:
        super().__init__(f"{url or '<input>'}: {reason}")
        self.url = url


class StoreError(GovwatchError):
    kind = "store"


class ConfigError(GovwatchError):
    kind = "config"
