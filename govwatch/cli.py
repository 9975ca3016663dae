"""The `govwatch` command: thin wrappers over the packages; user errors are one line."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from govwatch.errors import ChallengeError, FetchError, GovwatchError, HTTPStatusError
from govwatch.settings import Settings
from parsers import Page, clean_bytes, registry
from parsers.missing import is_soft_404
from parsers.records import Expect

if TYPE_CHECKING:
    from crawler.engine import Progress
    from crawler.seeds import Seed
    from store import Store
    from store.rows import EventKind

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


@click.group()
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
    from crawler.fetch import fetch as http_fetch
    from crawler.fetch import make_client

    _check_parser(parser_name)

    async def run() -> Page:
        settings = Settings.from_env()
        async with make_client(settings) as client:
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


def _open_store(db: str | None) -> Store:
    from store import Store

    try:
        return Store.open(Settings.from_env(db=db).db_url)
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None


def _load_seeds(path: str | None, only: tuple[str, ...]) -> list[Seed]:
    from crawler.seeds import load_seeds

    try:
        seeds = load_seeds(Path(path or Settings.from_env().seeds))
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    if only:
        unknown = sorted(set(only) - {s.id for s in seeds})
        if unknown:
            raise click.ClickException(f"unknown site id: {', '.join(unknown)}")
        return [s for s in seeds if s.id in only]
    return [s for s in seeds if s.enabled]


@main.command()
@click.option("--seeds", "seeds_path", help="Seed file or directory (default: seeds/).")
def sites(seeds_path: str | None) -> None:
    """List the seeds: id, parser, interval, listing URLs (disabled ones marked)."""
    from crawler.seeds import load_seeds

    try:
        seeds = load_seeds(Path(seeds_path or Settings.from_env().seeds))
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    for seed in seeds:
        urls = " ".join(seed.listing_urls)
        state = "" if seed.enabled else " (disabled)"
        click.echo(f"{seed.id:24} {seed.parser:13} {_duration(seed.interval):>5}  {urls}{state}")


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
    from crawler.engine import Crawler

    seeds = _load_seeds(seeds_path, site_ids)
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
    when = _parse_since(since)
    store = _open_store(db)
    try:
        rows = store.events(site=site, kind=cast("EventKind | None", kind), since=when)
    finally:
        store.close()
    if fmt == "json":
        click.echo(
            _dump(
                [
                    {
                        "kind": r.kind,
                        "url": r.url,
                        "title": r.title,
                        "site": r.site,
                        "at": r.at.isoformat(),
                        "version": r.version,
                        "changed_fields": list(r.changed_fields),
                    }
                    for r in rows
                ]
            )
        )
        return
    for r in rows:
        click.echo(
            f"{r.at:%Y-%m-%d %H:%M}  {r.kind:8} v{r.version or '-':<3} {r.site:20} "
            f"{_safe(r.title)}  {_safe(r.url)}"
        )


def _parse_since(since: str | None) -> datetime | None:
    if since is None:
        return None
    try:
        when = datetime.fromisoformat(since)
    except ValueError:
        raise click.ClickException(f"--since: not an ISO date or datetime: {since!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


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
    store = _open_store(db)
    try:
        rows = store.history(url)
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    if fmt == "json":
        click.echo(
            _dump(
                [
                    {
                        "version": r.number,
                        "fetched_at": r.fetched_at.isoformat(),
                        "title": r.title,
                        "hash": r.content_hash,
                        "changed_fields": list(r.changed_fields),
                    }
                    for r in rows
                ]
            )
        )
        return
    for r in rows:
        changed = ", ".join(r.changed_fields) or "-"
        click.echo(f"v{r.number:<3} {r.fetched_at:%Y-%m-%d %H:%M}  {changed:24} {_safe(r.title)}")


@main.command()
@click.argument("url")
@db_option
@click.option("--from", "from_", type=int, help="Old version (default: the one before --to).")
@click.option("--to", type=int, help="New version (default: the latest).")
@format_option("text", "json", "html", default="text")
def diff(url: str, db: str | None, from_: int | None, to: int | None, fmt: str) -> None:
    """What changed between two versions of a notice."""
    from store.diff import diff_bodies, to_html, to_json, to_unified

    store = _open_store(db)
    try:
        versions = store.history(url)
        newest = versions[-1].number if versions else 0
        new_no = to or newest
        old_no = from_ or max(new_no - 1, 1)
        old = store.version(url, old_no)
        new = store.version(url, new_no)
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
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
    from crawler.engine import Progress
    from crawler.reparse import reparse as run_reparse
    from crawler.seeds import load_seeds

    path = Path(seeds_path or Settings.from_env().seeds)
    try:
        seeds = load_seeds(path) if seeds_path or path.exists() else []
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    store = _open_store(db)
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
def demo() -> None:
    """Crawl a local mirror of the seed sites, change it, crawl again, show what changed."""
    from govwatch.demo import run

    run(click.echo)


# --- the server -------------------------------------------------------------


@main.command()
@db_option
def migrate(db: str | None) -> None:
    """Bring the database to the newest schema (opening the store does it too)."""
    store = _open_store(db)
    store.close()
    click.echo(f"{store.name}: schema up to date")


@main.command()
@click.option("--seeds", "seeds_path", help="Seed file or directory (default: seeds/).")
@click.option("--topics", "topics_path", help="Topics file (default: only the `all` topic).")
@db_option
@click.option("--host", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default 8080).")
def serve(
    seeds_path: str | None,
    topics_path: str | None,
    db: str | None,
    host: str | None,
    port: int | None,
) -> None:
    """Serve the topic feeds and notice pages, crawling each enabled seed on its interval."""
    import logging

    from feeds.topics import load_topics
    from govwatch.server.app import serve as run_server

    try:
        settings = Settings.from_env(db=db, host=host, port=port, topics=topics_path)
        topics = load_topics(Path(settings.topics) if settings.topics else None)
    except GovwatchError as exc:
        raise click.ClickException(str(exc)) from None
    seeds = _load_seeds(seeds_path, ())
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
        started = run_server(store, topics, seeds, settings)
    finally:
        store.close()
    if not started:
        sys.exit(3)
