"""Reading the project's TOML files (seeds, topics) with errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from govwatch.errors import ConfigError


def read_toml(path: Path) -> dict[str, Any]:
    """The table in `path`; ConfigError naming the file when it cannot be read or parsed."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
