"""The README's tables of seed and topic keys, made from the declarations the readers check
against (crawler.seeds.SEED_KEYS, feeds.topics.TOPIC_KEYS), so the two cannot drift.

    python -m govwatch.config_docs            # exit status 1 when README.md differs
    python -m govwatch.config_docs --write    # rewrite the tables in README.md

Each table sits between `<!-- NAME:start -->` and `<!-- NAME:end -->` lines.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from govwatch.config import KIND_NAMES, REQUIRED, Key, format_duration
from govwatch.crawler.seeds import SEED_KEYS
from govwatch.feeds.topics import TOPIC_KEYS

SECTIONS = {"seed-keys": SEED_KEYS, "topic-keys": TOPIC_KEYS}
HEADER = "| key | type | unit | default | meaning | example |\n|---|---|---|---|---|---|"


def table(keys: tuple[Key, ...]) -> str:
    """A Markdown table of `keys`, a table's own keys under it as `table.key`."""
    rows = [HEADER]
    for key in keys:
        rows.append(_row(key.name, key))
        rows += [_row(f"{key.name}.{sub.name}", sub) for sub in key.keys]
    return "\n".join(rows)


def example(key: Key) -> str:
    """The key's example value as TOML; a table's is an inline table of its keys' examples."""
    if key.keys:
        return "{ " + ", ".join(f"{sub.name} = {example(sub)}" for sub in key.keys) + " }"
    return key.example


def render(text: str) -> str:
    """`text` (the README) with every section's table made anew."""
    for name, keys in SECTIONS.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        before, found, rest = text.partition(start)
        if not found or end not in rest:
            raise ValueError(f"no {start} … {end} lines to put the table between")
        text = f"{before}{start}\n{table(keys)}\n{end}{rest.partition(end)[2]}"
    return text


def _row(name: str, key: Key) -> str:
    cells = (
        f"`{name}`",
        KIND_NAMES[key.kind],
        key.unit,
        _default(key),
        key.description,
        f"`{name} = {example(key)}`",
    )
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _default(key: Key) -> str:
    if key.default is REQUIRED:
        return "required"
    return key.default_text or f"`{_toml(key.default)}`"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        return json.dumps(format_duration(value))
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m govwatch.config_docs", description=__doc__)
    ap.add_argument("readme", nargs="?", type=Path, default=Path("README.md"))
    ap.add_argument("--write", action="store_true", help="rewrite the tables in README.md")
    args = ap.parse_args(argv)
    readme: Path = args.readme
    try:
        text = readme.read_text(encoding="utf-8")
        made = render(text)
    except (OSError, ValueError) as exc:
        print(f"{readme}: {exc}", file=sys.stderr)
        return 1
    if made == text:
        print(f"{readme}: the seed and topic key tables are up to date")
    elif args.write:
        readme.write_text(made, encoding="utf-8")
        print(f"{readme}: rewrote the seed and topic key tables")
    else:
        print(
            f"{readme}: the key tables differ from the declarations; "
            "run `python -m govwatch.config_docs --write`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
