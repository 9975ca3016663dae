"""Reading the project's TOML files (seeds, topics) with errors that name the file.

Each reader declares its keys once, as `Key` records: the reader checks and defaults
every value by them, and the README's key tables are generated from them
(`python -m govwatch.config_docs --write`), so the two cannot drift apart.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from govwatch.errors import ConfigError

Kind = Literal["string", "integer", "number", "boolean", "strings", "duration", "table"]

KIND_NAMES: dict[Kind, str] = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "strings": "list of strings",
    "duration": "duration",
    "table": "table",
}


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The default of a key that must be given."""


@dataclass(frozen=True)
class Key:
    """One key of a table: what the reader accepts and what the README says about it."""

    name: str
    kind: Kind
    default: Any
    description: str
    example: str
    """The value as written in TOML."""
    unit: str = ""
    default_text: str = ""
    """The default in words, where it is no value (`encoding`: what each page declares)."""
    keys: tuple[Key, ...] = ()
    """A table's own keys."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """ "30m", "6h", "10s", "7d" → timedelta."""
    m = _DURATION.match(text)
    if m is None:
        raise ValueError(f"not a duration like 30m, 6h, 10s or 7d: {text!r}")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def format_duration(delta: timedelta) -> str:
    """timedelta → the largest whole unit parse_duration reads ("6h", "90m", "45s")."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def defaults(keys: tuple[Key, ...]) -> dict[str, Any]:
    """Name → default of the keys that have one, for the dataclasses the readers fill."""
    return {k.name: k.default for k in keys if k.default is not REQUIRED}


def read_toml(path: Path) -> dict[str, Any]:
    """The table in `path`; ConfigError naming the file when it cannot be read or parsed."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


# What a value of each kind is in TOML, as Python types and in an error's words.
_EXPECTED: dict[Kind, tuple[tuple[type, ...], str]] = {
    "string": ((str,), "a string"),
    "integer": ((int,), "an integer"),
    "number": ((int, float), "a number"),
    "boolean": ((bool,), "true or false"),
    "strings": ((list,), "a list of non-empty strings"),
    "duration": ((str,), "a duration like 30m, 6h, 10s or 7d"),
    "table": ((dict,), "a table"),
}
_TOML_TYPES = {str: "a string", int: "an integer", float: "a float", bool: "a boolean"}
_TOML_TYPES.update({list: "an array", dict: "a table"})


class TableReader:
    """One table's values checked against its declared keys; every error names the file,
    `prefix` (where in the file the table is) and the key."""

    def __init__(
        self, path: Path, data: dict[str, Any], keys: tuple[Key, ...], prefix: str = ""
    ) -> None:
        self.path = path
        self.data = data
        self.keys = {k.name: k for k in keys}
        self.prefix = prefix
        unknown = sorted(set(data) - set(self.keys))
        if unknown:
            raise self.fail(unknown[0], "unknown key")

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.prefix}{key}: {problem}")

    def __getitem__(self, name: str) -> Any:
        """The value of key `name` as written (lists as tuples, durations as timedelta,
        numbers as float), else its default; blank strings are refused."""
        key = self.keys[name]
        if name not in self.data:
            if key.default is REQUIRED:
                raise self.fail(name, "missing")
            return key.default
        value = self._checked(key, self.data[name])
        if key.kind == "string" and not value.strip():
            raise self.fail(name, "must be a non-empty string")
        if key.kind == "strings":
            if not all(isinstance(v, str) and v.strip() for v in value):
                raise self.fail(name, f"must be {_EXPECTED['strings'][1]}")
            return tuple(value)
        if key.kind == "duration":
            try:
                return parse_duration(value)
            except ValueError as exc:
                raise self.fail(name, str(exc)) from None
        return float(value) if key.kind == "number" else value

    def table(self, name: str) -> TableReader:
        """The reader of table key `name` (of no values when the key is not given)."""
        key = self.keys[name]
        table = self._checked(key, self.data.get(name, {}))
        return TableReader(self.path, table, key.keys, f"{self.prefix}{name}.")

    def _checked(self, key: Key, value: Any) -> Any:
        types, expected = _EXPECTED[key.kind]
        # bool is an int to Python, never to TOML
        if not isinstance(value, types) or (isinstance(value, bool) and key.kind != "boolean"):
            found = _TOML_TYPES.get(type(value), "a date or time")
            raise self.fail(key.name, f"must be {expected}, not {found}")
        return value
