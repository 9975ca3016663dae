"""The `govwatch` command: thin wrappers over the packages; user errors are one line.

Each family of commands is a module of this package; a new command lives in its own
module and joins the group by one `main.add_command` line below. Commands raise
GovwatchError for what the user must fix, and the group turns it into one line.
"""

from __future__ import annotations

from typing import Any

import click

from govwatch.cli import (
    clean,
    crawl,
    demo,
    export,
    extract,
    fleet,
    history,
    notify,
    search,
    serve,
    show,
    sites,
    worker,
)
from govwatch.cli.common import ExitsOneOnFailure
from govwatch.errors import ConfigError, GovwatchError


class ConfigProblem(click.ClickException):
    """A one-line usage or configuration error: exit status 2, for scripts to tell."""

    exit_code = 2


class _Main(click.Group):
    """Every command's GovwatchError becomes one line: a ConfigError (a seed, a setting, a
    database that is not there, an unknown id) exits 2, anything else 1; a command that
    says only whether it worked (ExitsOneOnFailure) exits 1 for both."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GovwatchError as exc:
            command = self.get_command(ctx, ctx.invoked_subcommand or "")
            usage = isinstance(exc, ConfigError) and not isinstance(command, ExitsOneOnFailure)
            raise (ConfigProblem if usage else click.ClickException)(str(exc)) from None


@click.group(cls=_Main)
@click.version_option(package_name="govwatch")
def main() -> None:
    """Watch Chinese government notice pages: clean them, keep versions, publish feeds."""


main.add_command(clean.clean)
main.add_command(clean.fetch)
main.add_command(clean.list_parsers)
main.add_command(extract.extract)
main.add_command(sites.sites)
main.add_command(crawl.crawl)
main.add_command(history.events)
main.add_command(history.history)
main.add_command(history.diff)
main.add_command(show.show)
main.add_command(search.search)
main.add_command(export.export)
main.add_command(crawl.reparse)
main.add_command(demo.demo)
main.add_command(crawl.migrate)
main.add_command(serve.serve)
main.add_command(worker.worker)
main.add_command(fleet.fleet)
main.add_command(notify.notify)
main.add_command(sites.add)
main.add_command(sites.check)
