"""The one error tree of govwatch.

    GovwatchError
    ├── FetchError            (carries .url)
    │   ├── FetchTimeout
    │   ├── ConnectionFailed  (refused, reset, cut short: worth a retry)
    │   ├── RedirectError     (a loop, too many, or off the allowed hosts)
    │   ├── BlockedAddress    (a private, loopback or link-local address the seed is not on)
    │   ├── HTTPStatusError   (.status)
    │   ├── TooLarge
    │   └── ChallengeError    (.vendor: an anti-bot page was served instead of content)
    ├── DecodeError           (bytes that are no text in any plausible encoding)
    ├── ParseError            (carries .url)
    ├── StoreError            (the database: unreachable, failing, or an unknown notice)
    └── ConfigError           (a setting, a seed or an unknown parser name)

Third-party exceptions are mapped to these at the module that calls the library.
"""

from __future__ import annotations


class GovwatchError(Exception):
    """Base of every error govwatch raises on purpose."""


class FetchError(GovwatchError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class FetchTimeout(FetchError):
    pass


class ConnectionFailed(FetchError):
    pass


class RedirectError(FetchError):
    pass


class BlockedAddress(FetchError):
    """A request that would reach a non-public address (10.x, 169.254.169.254, localhost …)
    of a kind the seed itself does not live on: refused before any connection."""


class HTTPStatusError(FetchError):
    def __init__(self, url: str, status: int) -> None:
        super().__init__(url, f"HTTP {status}")
        self.status = status


class TooLarge(FetchError):
    pass


class ChallengeError(FetchError):
    def __init__(self, url: str, vendor: str) -> None:
        super().__init__(url, f"anti-bot challenge page ({vendor}) instead of content")
        self.vendor = vendor


class DecodeError(GovwatchError):
    pass


class ParseError(GovwatchError):
    def __init__(self, url: str | None, reason: str) -> None:
        super().__init__(f"{url or '<input>'}: {reason}")
        self.url = url


class StoreError(GovwatchError):
    pass


class ConfigError(GovwatchError):
    pass
