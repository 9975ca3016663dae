"""Settings, declared as data: name, default, help. Defaults < environment < command line.

Each setting reads from the environment variable GOVWATCH_<NAME>; the CLI passes
command-line values on top.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

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
    max_redirects: int = 5
    """Redirects followed before giving up."""
    user_agent: str = USER_AGENT
    """User-Agent sent with every request."""

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
