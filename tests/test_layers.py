"""The package's shape: one top-level name, and imports that only go down the layers.

Layers, bottom to top (a module may import its own layer and those below it):

0. base: `govwatch` itself, `errors`, `settings`, `config`, `text`, imported by everything;
1. `govwatch.parsers`: pure, bytes in and records out;
2. `govwatch.store`: the versioned store, which keeps the parsers' records;
3. `govwatch.crawler` and `govwatch.feeds`: the crawler writes into the store and the
   feeds read from it; neither imports the other;
4. the application: the CLI, the server, the demo and its mirror, the docs generator.

The crawler sits above the store because it records what it fetched (I/O lives in the
crawler and the store); the store never calls out to the network.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYER_DIRS = {
    "govwatch.parsers": "parsers",
    "govwatch.crawler": "crawler",
    "govwatch.store": "store",
    "govwatch.feeds": "feeds",
}
BASE = {"govwatch", "govwatch.errors", "govwatch.settings", "govwatch.config", "govwatch.text"}
# (rank, group): a module may import a rank below its own, or its own group.
RANKS = {
    "govwatch.parsers": (1, "parsers"),
    "govwatch.store": (2, "store"),
    "govwatch.crawler": (3, "crawler"),
    "govwatch.feeds": (3, "feeds"),
}
APP = (4, "app")


def _package_dirs() -> dict[str, Path]:
    """Every package as it installs, from the folders of the repository."""
    found = {"govwatch": ROOT / "govwatch"}
    for init in (ROOT / "govwatch").rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT).parts
        found[".".join(rel)] = init.parent
    for name, folder in LAYER_DIRS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found[".".join((name, *rel))] = init.parent
    return found


def _modules() -> Iterator[tuple[str, Path]]:
    for package, folder in _package_dirs().items():
        for path in sorted(folder.glob("*.py")):
            stem = path.stem
            yield (package if stem == "__init__" else f"{package}.{stem}"), path


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module


def _rank(module: str) -> tuple[int, str]:
    if module in BASE:
        return (0, "base")
    for prefix, rank in RANKS.items():
        if module == prefix or module.startswith(prefix + "."):
            return rank
    return APP


def _allowed(importer: str, imported: str) -> bool:
    (low, group), (high, other) = _rank(imported), _rank(importer)
    return low < high or (low == high and group == other)


def test_one_top_level_package_is_installed() -> None:
    """pyproject's package list is every package folder, each installed under govwatch."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    assert sorted(setuptools["packages"]) == sorted(_package_dirs())
    assert {name.split(".")[0] for name in setuptools["packages"]} == {"govwatch"}
    assert setuptools["package-dir"] == LAYER_DIRS


def test_nothing_imports_the_folders_by_their_own_names() -> None:
    """From the repository root `import parsers` would still work, as a second copy of
    the module beside govwatch.parsers; the tests and benchmarks must not do it either."""
    old = set(LAYER_DIRS.values())
    paths = [path for _, path in _modules()]
    paths += sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "bench").rglob("*.py"))
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in paths
        for line, name in _imports(path)
        if name.split(".")[0] in old
    ]
    assert offenders == []


def test_imports_only_go_down_the_layers() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} ({module}) imports {name}"
        for module, path in _modules()
        for line, name in _imports(path)
        if name.split(".")[0] == "govwatch" and not _allowed(module, name)
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("importer", "imported", "allowed"),
    [
        ("govwatch.errors", "govwatch.parsers.records", False),
        ("govwatch.parsers.generic", "govwatch.store", False),
        ("govwatch.store.store", "govwatch.crawler.engine", False),
        ("govwatch.feeds.items", "govwatch.crawler.seeds", False),
        ("govwatch.crawler.engine", "govwatch.cli", False),
        ("govwatch.crawler.engine", "govwatch.store.rows", True),
        ("govwatch.cli", "govwatch.feeds.topics", True),
        ("govwatch.parsers.html", "govwatch.errors", True),
    ],
)
def test_the_rule_itself(importer: str, imported: str, allowed: bool) -> None:
    assert _allowed(importer, imported) is allowed
