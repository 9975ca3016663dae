"""A dry run of a seed for reading, as `govwatch add` and `check` show it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from govwatch.parsers.records import META_KEYS, META_LABELS
from govwatch.text import printable

if TYPE_CHECKING:
    from govwatch.crawler.probe import Report

MAX_SHOWN = 10
"""Items, columns and next pages listed by `add` before "… and N more"."""


def more(lines: list[str], total: int) -> list[str]:
    return [*lines, f"          … and {total - len(lines)} more"] if total > len(lines) else lines


def count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def report_lines(report: Report, *, full: bool) -> list[str]:
    """A dry run for reading: listing, notices, next page, problems with their fixes."""
    seed, listing = report.seed, report.listing
    lines = [f"listing   {printable(seed.listing_urls[0])}"]
    if report.rows_url:
        lines.append(f"          rows from {printable(report.rows_url)}")
    if report.json_urls:
        lines.append(
            f"          the list is filled from {printable(report.json_urls[0])}: "
            "a plain seed could read it"
        )
    if listing.page is None:
        lines.append(f"  FAILED  {printable(listing.error)}")
    else:
        dates = sorted(i.date for i in report.items if i.date)
        newest = f", newest {dates[-1]}" if dates else ""
        state = "ok" if report.items else "EMPTY"
        listed = count(len(report.items), "notice")
        lines.append(f"  {state:6}  {listed} listed, {len(dates)} dated{newest}")
        if report.off_host:
            lines.append(f"          {report.off_host} more on other hosts (not crawled)")
        if full:
            shown = [
                f"          {i.date or '':10}  {printable(i.title)}"
                for i in report.items[:MAX_SHOWN]
            ]
            lines += more(shown, len(report.items))
    if report.notices:
        cleaned = sum(n.cleaned for n in report.notices)
        lines.append(f"notices   {cleaned} of {len(report.notices)} cleaned")
    for notice in report.notices:
        page = notice.page
        if notice.cleaned and page is not None:
            keys = ", ".join(k for k in META_KEYS if page.meta.get(k)) or "none"
            files = f", {count(len(page.attachments), 'attachment')}" if page.attachments else ""
            lines.append(f"  ok      {printable(page.title)}")
            lines.append(f"          body {len(page.body)} characters, metadata: {keys}{files}")
        else:
            lines.append(f"  FAILED  {printable(notice.error)}")
        lines.append(f"          {printable(notice.url)}")
    example = next((n.page for n in report.notices if n.cleaned and n.page), None)
    if full and example is not None:
        lines += ["", f"one notice as cleaned: {printable(example.title)}"]
        lines += [
            f"  {META_LABELS[k]} ({k}): {printable(example.meta[k])}"
            for k in META_KEYS
            if example.meta.get(k)
        ]
        body = example.body.splitlines()
        lines += [f"  | {printable(line)[:60]}" for line in body[:4]]
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
        lines += [
            f"pages     next page {printable(second.url)}",
            f"  FAILED  {printable(second.error)}",
        ]
    else:
        lines.append(f"pages     next page: {count(len(second.page.items), 'notice')} listed")
        lines.append(f"          {printable(second.url)}")
        further = len(report.next_pages)
        lines.append(
            f"          {count(further, 'further listing page')} found; a crawl reads up to "
            f"max_pages = {seed.max_pages}"
        )
        if full:
            shown = [f"          {printable(u)}" for u in report.next_pages[1:MAX_SHOWN]]
            lines += more(shown, further - 1)
    for problem in report.problems:
        lines += [f"problem   {printable(problem.what)}", f"  fix     {problem.fix}"]
    if report.works:
        lines.append(f"result    works ({count(report.requests, 'request')})")
    else:
        lines.append(f"result    does NOT work ({count(report.requests, 'request')})")
    return lines


def failure(report: Report) -> str:
    """Why a dry run failed, in one line."""
    if report.problems:
        return report.problems[0].what
    return "no notice was cleaned"
