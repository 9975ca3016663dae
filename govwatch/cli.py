"""The `govwatch` command: thin wrappers over the packages; user errors are one line."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast
from zoneinfo import ZoneInfo

import click

from govwatch.crawler.proxy import mask
from govwatch.errors import (
    ChallengeError,
    ConfigError,
    FetchError,
    GovwatchError,
    HTTPStatusError,
)
from govwatch.parsers import Page, clean_bytes, registry
from govwatch.parsers.missing import is_soft_404
from govwatch.parsers.records import META_KEYS, META_LABELS, Expect
from govwatch.settings import Settings

if TYPE_CHECKING:
    from govwatch.crawler.engine import Progress
    from govwatch.crawler.probe import HomePage
    from govwatch.crawler.probe import Report as ProbeReport
    from govwatch.crawler.seeds import Seed
    from govwatch.parsers.columns import ColumnLink
    from govwatch.store import Store
    from govwatch.store.rows import EventKind

F = TypeVar("F", bound=Callable[..., Any])
MAX_INPUT_BYTES = 64 * 1024 * 1024
MAX_LISTED = 50


# Characters JSON leaves raw that a terminal or an editor acts on (C1 controls such as the
# one-byte CSI, bidi overrides, line separators): written as \u escapes, same data.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def _dump(obj: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    p = Path(path)
    if not p.exists():
        raise GovwatchError(f"{path}: no such file")
    if p.is_dir():
        raise GovwatchError(f"{path}: is a directory")
    if p.stat().st_size > MAX_INPUT_BYTES:
        raise GovwatchError(f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MiB")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise GovwatchError(f"{path}: {exc.strerror}") from exc


def _clean_one(path: str, url: str | None, parser: str | None, expect: Expect) -> Page:
    data = _read_input(path)
    if len(data) > MAX_INPUT_BYTES:
        raise GovwatchError(f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MiB")
    if not data.strip():
        raise GovwatchError(f"{path}: empty input")
    try:
        return clean_bytes(data, url, parser=parser, expect=expect)
    except GovwatchError as exc:
        raise GovwatchError(f"{path}: {exc}") from exc


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


def _check_parser(name: str | None) -> None:
    if name is not None:
        try:
            registry.get(name)
        except GovwatchError as exc:
            raise click.ClickException(str(exc)) from None


class ConfigProblem(click.ClickException):
    """A one-line usage or configuration error: exit status 2, for scripts to tell."""

    exit_code = 2


class _Main(click.Group):
    """Every command's GovwatchError becomes one line: a ConfigError (a seed, a setting, a
    database that is not there, an unknown id) exits 2, anything else 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise ConfigProblem(str(exc)) from None
        except GovwatchError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Main)
@click.version_option(package_name="govwatch")
def main() -> None:
    """Watch Chinese government notice pages: clean them, keep versions, publish feeds."""


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--url", help="The page's URL: resolves relative links and picks the site parser.")
@click.option("--parser", "parser_name", help="Force a registered parser (see `govwatch parsers`).")
@kind_option
@format_option("json", "jsonl", "text", default="json")
def clean(
    paths: tuple[str, ...], url: str | None, parser_name: str | None, expect: Expect, fmt: str
) -> None:
    """Clean saved HTML pages or text dumps (PATH ... or - for standard input)."""
    _check_parser(parser_name)
    inputs = list(paths) or ["-"]
    if fmt == "jsonl":
        failed = 0
        for path in inputs:
            try:
                record = {"input": path, **_clean_one(path, url, parser_name, expect).to_json()}
            except GovwatchError as exc:
                failed += 1
                record = {"input": path, "error": str(exc)}
                click.echo(f"govwatch: {exc}", err=True)
            click.echo(_dump(record))
        if failed:
            sys.exit(1)
        return
    try:
        pages = [_clean_one(path, url, parser_name, expect) for path in inputs]
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "text":
        click.echo("\n\n\f\n".join(_safe_lines(page.to_text()) for page in pages))
    elif len(pages) == 1:
        click.echo(_dump(pages[0].to_json()))
    else:
        click.echo(_dump([page.to_json() for page in pages]))


@main.command()
@click.argument("url")
@click.option("--parser", "parser_name", help="Force a registered parser.")
@kind_option
@format_option("json", "text", default="json")
def fetch(url: str, parser_name: str | None, expect: Expect, fmt: str) -> None:
    """Fetch a notice page over HTTP and clean it."""
    from govwatch.crawler.fetch import fetch as http_fetch
    from govwatch.crawler.fetch import make_client

    _check_parser(parser_name)

    async def run() -> Page:
        settings = Settings.from_env()
        async with make_client(settings, settings.proxy or None) as client:
            resp = await http_fetch(client, url, settings)
        page = clean_bytes(
            resp.content,
            resp.url,
            parser=parser_name,
            content_type=resp.content_type,
            status=resp.status,
            expect=expect,
        )
        if page.kind == "challenge":
            raise ChallengeError(resp.url, page.vendor or "unknown")
        if resp.status >= 400:
            raise HTTPStatusError(resp.url, resp.status)
        if is_soft_404(page):
            raise FetchError(resp.url, "the page only says it does not exist (a soft 404)")
        return page

    try:
        page = asyncio.run(run())
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(_safe_lines(page.to_text()) if fmt == "text" else _dump(page.to_json()))


@main.command("parsers")
def list_parsers() -> None:
    """List the registered parsers and the hosts they claim."""
    for name in registry.names():
        parser = registry.get(name)
        hosts = ", ".join(parser.hosts) or ("text dumps" if parser.text else "-")
        click.echo(f"{name:14} {hosts}")


# --- crawling and the store -------------------------------------------------

db_option = click.option(
    "--db", "db", envvar="GOVWATCH_DB", help="Database URL (default: SQLite in the data dir)."
)


def _open_store(db: str | None, *, create: bool = True) -> Store:
    """The store of --db / GOVWATCH_DB, else the default one, named on stderr. A reading
    command passes `create=False`: a database that is not there is an error, not a new
    empty one."""
    from govwatch.store import Store

    settings = Settings.from_env(db=db)
    if not settings.db:
        click.echo(f"govwatch: using {settings.db_url.removeprefix('sqlite:///')}", err=True)
    return Store.open(settings.db_url, create=create)


def _known(ids: Iterable[str]) -> str:
    return f"known: {', '.join(sorted(ids))}" if ids else "none known"


def _load_seeds(path: str | None, only: tuple[str, ...]) -> list[Seed]:
    """The seeds named (all of `only`, enabled or not), else the enabled ones; a
    ConfigError when that leaves nothing to do."""
    from govwatch.crawler.seeds import load_seeds

    where = Path(path or Settings.from_env().seeds)
    seeds = load_seeds(where)
    if only:
        unknown = sorted(set(only) - {s.id for s in seeds})
        if unknown:
            names = ", ".join(unknown)
            raise ConfigError(f"no seed {names} in {where} ({_known(s.id for s in seeds)})")
        return [s for s in seeds if s.id in only]
    return [s for s in seeds if s.enabled]


@main.command()
@click.option("--seeds", "seeds_path", help="Seed file or directory (default: seeds/).")
def sites(seeds_path: str | None) -> None:
    """List the seeds: id, parser, interval, listing URLs (disabled ones marked)."""
    from govwatch.crawler.seeds import load_seeds

    try:
        seeds = load_seeds(Path(seeds_path or Settings.from_env().seeds))
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    for seed in seeds:
        urls = " ".join(seed.listing_urls)
        state = "" if seed.enabled else " (disabled)"
        via = f" via {_safe(mask(seed.proxy))}" if seed.proxy else ""
        click.echo(
            f"{seed.id:24} {seed.parser:13} {_duration(seed.interval):>5}  {urls}{via}{state}"
        )


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@main.command()
@click.argument("site_ids", nargs=-1)
@click.option("--seeds", "seeds_path", help="Seed file or directory (default: seeds/).")
@db_option
def crawl(site_ids: tuple[str, ...], seeds_path: str | None, db: str | None) -> None:
    """Crawl the sites once: new, revised and removed notices into the store."""
    from govwatch.crawler.engine import Crawler

    seeds = _load_seeds(seeds_path, site_ids)
    if not seeds:
        where = seeds_path or Settings.from_env().seeds
        raise ConfigError(
            f"no enabled seed in {where}: set enabled = true in one, or name it "
            "(govwatch crawl ID; govwatch sites lists them)"
        )
    store = _open_store(db)
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        summary = asyncio.run(
            Crawler(store, Settings.from_env(db=db), progress.update if progress else None).run(
                seeds
            )
        )
    except GovwatchError as exc:  # the store failing mid-pass: pages failing are no error
        raise click.ClickException(str(exc)) from None
    finally:
        if progress:
            progress.done()
        store.close()
    click.echo(summary.table())
    # For cron: 1 when a site could not be crawled at all (no listing page read, or its
    # listing stopped yielding notices); a failed notice page is in the table, not fatal.
    if any(h.status in ("unreachable", "layout_change") for h in summary.health.values()):
        sys.exit(1)


class _Progress:
    """A progress bar on a terminal's stderr: requests started of those planned so far
    (the plan grows as listing pages reveal notices)."""

    WIDTH = 30

    def update(self, state: Progress) -> None:
        filled = self.WIDTH * state.done // max(state.planned, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"[{bar}] {state.done}/{state.planned}  {state.site}: {_safe(state.what)}"
        click.echo(f"\r{line[:110]:<110}", nl=False, err=True)

    def done(self) -> None:
        click.echo("\r" + " " * 110 + "\r", nl=False, err=True)


@main.command()
@db_option
@click.option("--site", help="Only this site id.")
@click.option("--kind", type=click.Choice(["new", "revised", "removed", "restored"]))
@click.option("--since", help="Only events at or after this time (ISO date or datetime).")
@format_option("table", "json", default="table")
def events(db: str | None, site: str | None, kind: str | None, since: str | None, fmt: str) -> None:
    """Show what happened: new, revised, removed and restored notices, newest first."""
    zone = Settings.from_env().zone
    when = _parse_since(since, zone)
    store = _open_store(db, create=False)
    try:
        if site is not None and site not in (names := store.site_names()):
            raise ConfigError(f"--site: no site {site!r} in {store.name} ({_known(names)})")
        rows = store.events(site=site, kind=cast("EventKind | None", kind), since=when)
    finally:
        store.close()
    if not rows:
        click.echo("govwatch: no events" + (f" since {when.isoformat()}" if when else ""), err=True)
    if fmt == "json":
        click.echo(
            _dump(
                [
                    {
                        "kind": r.kind,
                        "url": r.url,
                        "title": r.title,
                        "site": r.site,
                        "site_name": r.site_name,
                        "at": r.at.astimezone(zone).isoformat(),
                        "version": r.version,
                        "changed_fields": list(r.changed_fields),
                        "baseline": r.baseline,
                    }
                    for r in rows
                ]
            )
        )
        return
    for r in rows:
        click.echo(
            f"{_local(r.at, zone)}  {r.kind:8} v{r.version or '-':<3} {_safe(r.site_name)}  "
            f"{_safe(r.title)}  {_safe(r.url)}"
        )


def _local(when: datetime, zone: ZoneInfo) -> str:
    """A time in the configured zone, labelled with its offset: 2026-12-01 16:00+08:00."""
    local = when.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M") + local.isoformat()[-6:]


def _parse_since(since: str | None, zone: ZoneInfo) -> datetime | None:
    """--since: ISO 8601; without an offset, a time in the configured zone."""
    if since is None:
        return None
    try:
        when = datetime.fromisoformat(since)
    except ValueError:
        raise ConfigError(f"--since: not an ISO date or datetime: {since!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=zone)


def _safe(text: str) -> str:
    """Site text on a terminal: no control characters or escape sequences."""
    return "".join(ch for ch in text if ch.isprintable())


def _safe_lines(text: str) -> str:
    """`_safe` for text of several lines."""
    return "\n".join(_safe(line) for line in text.split("\n"))


@main.command()
@click.argument("url")
@db_option
@format_option("table", "json", default="table")
def history(url: str, db: str | None, fmt: str) -> None:
    """The versions of one notice."""
    zone = Settings.from_env().zone
    store = _open_store(db, create=False)
    try:
        rows = store.history(url)
    finally:
        store.close()
    if not rows:
        click.echo("govwatch: the notice is listed but was never fetched: no versions", err=True)
    if fmt == "json":
        click.echo(
            _dump(
                [
                    {
                        "version": r.number,
                        "fetched_at": r.fetched_at.astimezone(zone).isoformat(),
                        "title": r.title,
                        "hash": r.content_hash,
                        "changed_fields": list(r.changed_fields),
                        "parser": r.parser_version,
                    }
                    for r in rows
                ]
            )
        )
        return
    for r in rows:
        changed = ", ".join(r.changed_fields) or "-"
        click.echo(f"v{r.number:<3} {_local(r.fetched_at, zone)}  {changed:24} {_safe(r.title)}")


@main.command()
@click.argument("url")
@db_option
@click.option("--from", "from_", type=int, help="Old version (default: the one before --to).")
@click.option("--to", type=int, help="New version (default: the latest).")
@format_option("text", "json", "html", default="text")
def diff(url: str, db: str | None, from_: int | None, to: int | None, fmt: str) -> None:
    """What changed between two versions of a notice."""
    from govwatch.store.diff import diff_bodies, to_html, to_json, to_unified

    store = _open_store(db, create=False)
    try:
        versions = store.history(url)
        if len(versions) < 2 and from_ is None:
            have = "only one version" if versions else "no version yet"
            click.echo(f"govwatch: {have}: nothing to diff", err=True)
            return
        new_no = to or versions[-1].number
        old_no = from_ or max(new_no - 1, 1)
        old = store.version(url, old_no)
        new = store.version(url, new_no)
    finally:
        store.close()
    body = diff_bodies(old.body, new.body)
    if fmt == "json":
        click.echo(
            _dump(
                {
                    "url": url,
                    "from": old_no,
                    "to": new_no,
                    "title": {"old": old.title, "new": new.title}
                    if old.title != new.title
                    else None,
                    "meta": {
                        k: {"old": old.meta.get(k), "new": new.meta.get(k)}
                        for k in sorted(set(old.meta) | set(new.meta))
                        if old.meta.get(k) != new.meta.get(k)
                    },
                    "body": to_json(body),
                }
            )
        )
    elif fmt == "html":
        click.echo(to_html(body))
    else:
        lines = []
        if old.title != new.title:
            lines += [f"-title: {_safe(old.title)}", f"+title: {_safe(new.title)}"]
        for key in sorted(set(old.meta) | set(new.meta)):
            if old.meta.get(key) != new.meta.get(key):
                lines += [f"-{key}: {old.meta.get(key, '')}", f"+{key}: {new.meta.get(key, '')}"]
        text = to_unified(body, old_label=f"{url} v{old_no}", new_label=f"{url} v{new_no}")
        click.echo(_safe_lines("\n".join([*lines, text]).strip("\n")))


@main.command()
@click.option("--site", help="Only this site id.")
@click.option("--seeds", "seeds_path", help="Seed file or directory, for the sites' encodings.")
@db_option
def reparse(site: str | None, seeds_path: str | None, db: str | None) -> None:
    """Re-clean stored pages with this release's parsers (no revisions, no events)."""
    from govwatch.crawler.engine import Progress
    from govwatch.crawler.reparse import reparse as run_reparse
    from govwatch.crawler.seeds import load_seeds

    path = Path(seeds_path or Settings.from_env().seeds)
    try:
        seeds = load_seeds(path) if seeds_path or path.exists() else []
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    store = _open_store(db, create=False)
    bar = _Progress() if sys.stderr.isatty() else None

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(Progress(done, total, site or "all sites", "reparse"))

    try:
        summary = run_reparse(store, seeds, site, progress)
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if bar is not None:
            bar.done()
        store.close()
    if not summary.checked:
        click.echo("nothing to reparse: this release's parsers made every stored version", err=True)
        return
    click.echo(summary.line())
    for url, number, reason in summary.failed[:MAX_LISTED]:
        click.echo(f"  v{number} {_safe(url)}: {_safe(reason)}")


@main.command()
@click.option(
    "--keep",
    type=click.Path(path_type=Path),
    help="A new or empty directory to keep the demo's store in (default: thrown away).",
)
def demo(keep: Path | None) -> None:
    """Crawl a local mirror of the seed sites, change it, crawl again, show what changed."""
    from govwatch.demo import run

    run(click.echo, keep)


# --- the server -------------------------------------------------------------


@main.command()
@db_option
def migrate(db: str | None) -> None:
    """Bring the database to the newest schema (opening the store does it too)."""
    store = _open_store(db)
    store.close()
    click.echo(f"{store.name}: schema up to date")


class CannotStart(click.ClickException):
    """`serve` could not start serving: exit status 3, as the README says."""

    exit_code = 3


@main.command()
@click.option("--seeds", "seeds_path", help="Seed file or directory (default: seeds/).")
@click.option("--topics", "topics_path", help="Topics file (default: only the `all` topic).")
@db_option
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default 8080).")
def serve(
    seeds_path: str | None,
    topics_path: str | None,
    db: str | None,
    host: str | None,
    port: int | None,
) -> None:
    """Serve the topic feeds and notice pages, crawling each enabled seed on its interval."""
    import logging

    from govwatch.crawler.seeds import load_seeds
    from govwatch.feeds.topics import load_topics
    from govwatch.server.app import ListenError
    from govwatch.server.app import serve as run_server

    try:
        settings = Settings.from_env(db=db, host=host, port=port, topics=topics_path)
        every_seed = load_seeds(Path(seeds_path or settings.seeds))
        # A disabled seed's id counts: its site is only paused.
        topics = load_topics(
            Path(settings.topics) if settings.topics else None, {s.id for s in every_seed}
        )
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    seeds = [s for s in every_seed if s.enabled]
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # One line per crawl is ours to log; one per request or scheduler tick is noise.
    for chatty in ("apscheduler", "httpx", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    if not seeds:
        logging.getLogger("govwatch.server").warning("no enabled seeds: serving without crawling")
    store = _open_store(db)
    try:
        status = run_server(store, topics, seeds, settings)
    except ListenError as exc:
        raise CannotStart(str(exc)) from None
    finally:
        store.close()
    sys.exit(status)


# --- adding and checking seeds ----------------------------------------------

MAX_SHOWN = 10
"""Items, columns and next pages listed by `add` before "… and N more"."""


def _more(lines: list[str], total: int) -> list[str]:
    return [*lines, f"          … and {total - len(lines)} more"] if total > len(lines) else lines


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _pick_column(yes: bool) -> Callable[[HomePage], ColumnLink]:
    """How `add` chooses among a home page's columns: the best-ranked one with --yes, else
    the user's pick."""

    def pick(home: HomePage) -> ColumnLink:
        click.echo(f"home page {_safe(home.url)}: {_count(len(home.columns), 'column')} found")
        shown = [
            f"  {n:>3}. {_safe(c.text)}  {_safe(c.url)}"
            for n, c in enumerate(home.columns[:MAX_SHOWN], 1)
        ]
        click.echo("\n".join(_more(shown, len(home.columns))))
        if yes:
            choice = home.columns[0]
            click.echo(f"picked {_safe(choice.text)} (the best-ranked column): {_safe(choice.url)}")
            return choice
        number = click.prompt(
            "column to watch", type=click.IntRange(1, min(len(home.columns), MAX_SHOWN)), default=1
        )
        return home.columns[number - 1]

    return pick


def _report_lines(report: ProbeReport, *, full: bool) -> list[str]:
    """A dry run for reading: listing, notices, next page, problems with their fixes."""
    seed, listing = report.seed, report.listing
    lines = [f"listing   {_safe(seed.listing_urls[0])}"]
    if report.rows_url:
        lines.append(f"          rows from {_safe(report.rows_url)}")
    if report.json_urls:
        lines.append(
            f"          the list is filled from {_safe(report.json_urls[0])}: "
            "a plain seed could read it"
        )
    if listing.page is None:
        lines.append(f"  FAILED  {_safe(listing.error)}")
    else:
        dates = sorted(i.date for i in report.items if i.date)
        newest = f", newest {dates[-1]}" if dates else ""
        state = "ok" if report.items else "EMPTY"
        listed = _count(len(report.items), "notice")
        lines.append(f"  {state:6}  {listed} listed, {len(dates)} dated{newest}")
        if report.off_host:
            lines.append(f"          {report.off_host} more on other hosts (not crawled)")
        if full:
            shown = [
                f"          {i.date or '':10}  {_safe(i.title)}" for i in report.items[:MAX_SHOWN]
            ]
            lines += _more(shown, len(report.items))
    if report.notices:
        cleaned = sum(n.cleaned for n in report.notices)
        lines.append(f"notices   {cleaned} of {len(report.notices)} cleaned")
    for notice in report.notices:
        page = notice.page
        if notice.cleaned and page is not None:
            keys = ", ".join(k for k in META_KEYS if page.meta.get(k)) or "none"
            files = f", {_count(len(page.attachments), 'attachment')}" if page.attachments else ""
            lines.append(f"  ok      {_safe(page.title)}")
            lines.append(f"          body {len(page.body)} characters, metadata: {keys}{files}")
        else:
            lines.append(f"  FAILED  {_safe(notice.error)}")
        lines.append(f"          {_safe(notice.url)}")
    example = next((n.page for n in report.notices if n.cleaned and n.page), None)
    if full and example is not None:
        lines += ["", f"one notice as cleaned: {_safe(example.title)}"]
        lines += [
            f"  {META_LABELS[k]} ({k}): {_safe(example.meta[k])}"
            for k in META_KEYS
            if example.meta.get(k)
        ]
        body = example.body.splitlines()
        lines += [f"  | {_safe(line)[:60]}" for line in body[:4]]
        if len(body) > 4:
            lines.append(f"  | … {len(body) - 4} more lines")
        lines.append("")
    second = report.second
    if second is None:
        if listing.page is not None:
            lines.append(
                "pages     no further listing page found "
                "(a one-page column, or a pager govwatch cannot read)"
            )
    elif second.page is None:
        lines += [f"pages     next page {_safe(second.url)}", f"  FAILED  {_safe(second.error)}"]
    else:
        lines.append(f"pages     next page: {_count(len(second.page.items), 'notice')} listed")
        lines.append(f"          {_safe(second.url)}")
        further = len(report.next_pages)
        lines.append(
            f"          {_count(further, 'further listing page')} found; a crawl reads up to "
            f"max_pages = {seed.max_pages}"
        )
        if full:
            shown = [f"          {_safe(u)}" for u in report.next_pages[1:MAX_SHOWN]]
            lines += _more(shown, further - 1)
    for problem in report.problems:
        lines += [f"problem   {_safe(problem.what)}", f"  fix     {problem.fix}"]
    if report.works:
        lines.append(f"result    works ({_count(report.requests, 'request')})")
    else:
        lines.append(f"result    does NOT work ({_count(report.requests, 'request')})")
    return lines


def _failure(report: ProbeReport) -> str:
    """Why a dry run failed, in one line."""
    if report.problems:
        return report.problems[0].what
    return "no notice was cleaned"


@main.command()
@click.argument("url")
@click.option("--id", "seed_id", help="The seed's id (default: from the host and column).")
@click.option("--seeds", "seeds_dir", help="Seed directory to write to (default: seeds/).")
@click.option(
    "--yes", is_flag=True, help="Write without asking; on a home page take the best column."
)
def add(url: str, seed_id: str | None, seeds_dir: str | None, yes: bool) -> None:
    """Make a seed from a column page or a site's home page: dry-run it, then write it."""
    from govwatch.crawler.probe import survey
    from govwatch.crawler.seeds import ensure_new_id, seed_toml, used_ids, write_seed

    try:
        settings = Settings.from_env()
        directory = Path(seeds_dir or settings.seeds)
        if seed_id is not None:
            ensure_new_id(directory, seed_id)
        found = asyncio.run(
            survey(url, settings, pick=_pick_column(yes), seed_id=seed_id, used=used_ids(directory))
        )
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    seed, column = found.seed, found.column
    click.echo(f"column    {_safe(column.url)}  ({_safe(seed.name)})")
    click.echo(f"parser    {seed.parser} ({column.how})")
    click.echo("\n".join(_report_lines(found.report, full=True)))
    if not found.report.works:
        raise click.ClickException(f"{url}: no seed written: {_failure(found.report)}")
    header = found.header(url, datetime.now(UTC).date())
    path = directory / f"{seed.id}.toml"
    click.echo(f"\n{path}:")
    click.echo("\n".join(f"  {_safe(line)}" for line in seed_toml(seed, header).splitlines()))
    if not yes:
        click.confirm(f"write {path}?", default=True, abort=True)
    try:
        path = write_seed(directory, seed, header)
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    where = f" --seeds {directory}" if seeds_dir else ""
    click.echo(f"wrote {path}; `govwatch check {seed.id}{where}` checks it again at any time")


def _seed_to_check(target: str, seeds_path: str | None) -> Seed:
    """A seed by URL (an ad-hoc generic seed), by file, or by id in the seeds directory."""
    from govwatch.crawler.probe import adhoc_seed
    from govwatch.crawler.seeds import load_seed, load_seeds

    if re.match(r"https?://", target, re.I):
        return adhoc_seed(target)
    path = Path(target)
    if path.suffix == ".toml" or path.is_file():
        return load_seed(path)
    directory = Path(seeds_path or Settings.from_env().seeds)
    seeds = load_seeds(directory)
    for seed in seeds:
        if seed.id == target:
            return seed
    known = ", ".join(s.id for s in seeds) or "none"
    raise GovwatchError(f"unknown seed id {target!r} in {directory} (known: {known})")


@main.command()
@click.argument("target", metavar="SEED_ID|FILE|URL")
@click.option("--seeds", "seeds_path", help="Seed file or directory (default: seeds/).")
def check(target: str, seeds_path: str | None) -> None:
    """Dry-run a seed: listing, a few notices, the next page; exit 0 only when it works."""
    from govwatch.crawler.probe import check_seed
    from govwatch.crawler.proxy import proxy_for

    try:
        seed = _seed_to_check(target, seeds_path)
        settings = Settings.from_env()
        report = asyncio.run(check_seed(seed, settings))
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    where = str(seed.path) if seed.path else "a bare URL, checked as a generic seed"
    click.echo(f"seed      {seed.id}  ({_safe(where)})")
    hosts = ", ".join(seed.hosts)
    click.echo(f"parser    {seed.parser}, rate {seed.rate:g}/s, hosts {hosts}")
    proxy = proxy_for(settings, seed.proxy)
    if proxy:
        click.echo(f"proxy     {_safe(mask(proxy))}")
    click.echo("\n".join(_report_lines(report, full=False)))
    if not report.works:
        raise click.ClickException(f"{seed.id} does not work: {_failure(report)}")
    if not seed.enabled:
        click.echo(f"note      enabled = false in {seed.path}: set it to true to crawl this seed")
