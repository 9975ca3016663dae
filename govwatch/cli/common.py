"""What the commands share: their options, output that site text cannot abuse, the
store and the seeds they open, the progress bar."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from govwatch.errors import ConfigError
from govwatch.parsers import registry
from govwatch.settings import Settings
from govwatch.text import printable

if TYPE_CHECKING:
    from govwatch.crawler.engine import Progress
    from govwatch.crawler.seeds import Seed
    from govwatch.store import Store

F = TypeVar("F", bound=Callable[..., Any])
MAX_LISTED = 50


class ExitsOneOnFailure(click.Command):
    """A command whose every failure exits 1, a configuration error too: the README
    promises `fetch`, `add` and `check` one status for "it did not work"."""


# Characters JSON leaves raw that a terminal or an editor acts on (C1 controls such as the
# one-byte CSI, bidi overrides, line separators): written as \u escapes, same data.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def dump(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def safe_lines(text: str) -> str:
    """Site text of several lines for a terminal: no control characters or escape
    sequences, the line breaks kept."""
    return printable(text, keep="\n")


def format_option(*choices: str, default: str) -> Callable[[F], F]:
    """The --format option every command shares, with its own choices."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=default, show_default=True
    )


kind_option = click.option(
    "--kind",
    "expect",
    type=click.Choice(["listing", "detail"]),
    help="What the page is (a column page or a notice); default: let the parser tell.",
)

db_option = click.option(
    "--db", "db", envvar="GOVWATCH_DB", help="Database URL (default: SQLite in the data dir)."
)

seeds_option = click.option(
    "--seeds", "seeds_path", help="Seed file or directory (default: seeds/)."
)


def check_parser(name: str | None) -> None:
    """An unknown --parser is an error before any work."""
    if name is not None:
        registry.get(name)


def open_store(db: str | None, *, create: bool = True) -> Store:
    """The store of --db / GOVWATCH_DB, else the default one, named on stderr. A reading
    command passes `create=False`: a database that is not there is an error, not a new
    empty one."""
    from govwatch.store import Store

    settings = Settings.from_env(db=db)
    if not settings.db:
        click.echo(f"govwatch: using {settings.db_url.removeprefix('sqlite:///')}", err=True)
    return Store.open(settings.db_url, create=create)


def known(ids: Iterable[str]) -> str:
    return f"known: {', '.join(sorted(ids))}" if ids else "none known"


def check_sites(store: Store, sites: tuple[str, ...]) -> None:
    """`--site` values must name sites of the store (search and export filter by them)."""
    names = store.site_names()
    for site in sites:
        if site not in names:
            raise ConfigError(f"--site: no site {site!r} in {store.name} ({known(names)})")


def iso_day(option: str, value: str | None) -> date | None:
    """A day; a datetime (as --since takes elsewhere) counts as its date."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        raise ConfigError(f"{option}: not an ISO date: {value!r}") from None


def load_seeds(path: str | None, only: tuple[str, ...]) -> list[Seed]:
    """The seeds named (all of `only`, enabled or not), else the enabled ones; a
    ConfigError when that leaves nothing to do."""
    from govwatch.crawler.seeds import load_seeds as read_seeds

    where = Path(path or Settings.from_env().seeds)
    seeds = read_seeds(where)
    if only:
        unknown = sorted(set(only) - {s.id for s in seeds})
        if unknown:
            names = ", ".join(unknown)
            raise ConfigError(f"no seed {names} in {where} ({known(s.id for s in seeds)})")
        return [s for s in seeds if s.id in only]
    return [s for s in seeds if s.enabled]


class ProgressBar:
    """A progress bar on a terminal's stderr: requests started of those planned so far
    (the plan grows as listing pages reveal notices)."""

    WIDTH = 30

    @classmethod
    def on_terminal(cls) -> ProgressBar | None:
        return cls() if sys.stderr.isatty() else None

    def update(self, state: Progress) -> None:
        filled = self.WIDTH * state.done // max(state.planned, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"[{bar}] {state.done}/{state.planned}  {state.site}: {printable(state.what)}"
        click.echo(f"\r{line[:110]:<110}", nl=False, err=True)

    def done(self) -> None:
        click.echo("\r" + " " * 110 + "\r", nl=False, err=True)
