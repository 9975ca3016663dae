"""A crawl pass for reading: a table of what each site yielded, then why pages failed."""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import TYPE_CHECKING

from govwatch.text import printable

if TYPE_CHECKING:
    from govwatch.crawler.engine import RunSummary

OUTCOMES = ("new", "revised", "removed", "restored", "unchanged", "errors")
MAX_LISTED_FAILURES = 50
"""Failed URLs the table lists per site; the store keeps every one."""


def crawl_table(summary: RunSummary) -> str:
    """One row per site: new / revised / removed / restored / unchanged / errors; then, per
    site with errors, the count by kind and the failed URLs."""
    columns = (*OUTCOMES, "requests")
    label = {site: _label(summary, site) for site in summary.sites}
    width = max([24, *(_width(text) + 2 for text in label.values())])
    lines = [_pad("site", width) + "".join(f"{c:>10}" for c in columns)]
    for site, stats in summary.sites.items():
        values = stats.as_dict()
        lines.append(_pad(label[site], width) + "".join(f"{values[c]:>10}" for c in columns))
    states = {"empty": "empty column", "layout_change": "LAYOUT CHANGE"}
    for site, health in summary.health.items():
        if health.status != "ok":
            state = states.get(health.status, health.status)
            lines.append(f"{_label(summary, site)}: {state}: {health.message}")
    for site, stats in summary.sites.items():
        if stats.reextracted:
            lines.append(
                f"{label[site]}: {stats.reextracted} unchanged notices re-extracted by "
                "this release's parser (no change on the site, no event)"
            )
    for site in summary.sites:
        failed = sorted(
            (f for f in summary.failures if f.site == site), key=lambda f: (f.kind, f.url)
        )
        if not failed:
            continue
        kinds = Counter(f.kind for f in failed)
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
        lines += ["", f"{label[site]}: {len(failed)} errors ({counts})"]
        lines += [
            f"  {f.kind:15} {_cell(f.url)}  {_cell(f.message)[:120]}"
            for f in failed[:MAX_LISTED_FAILURES]
        ]
        if len(failed) > MAX_LISTED_FAILURES:
            lines.append(f"  … and {len(failed) - MAX_LISTED_FAILURES} more")
    return "\n".join(lines)


def _label(summary: RunSummary, site: str) -> str:
    """The site as people know it, with the id commands take: 某某县教育局 通知公告 (zd)."""
    name = _cell(summary.names.get(site, site))
    return name if name == site else f"{name} ({site})"


def _cell(text: str) -> str:
    """Site text in a table: what a terminal would act on becomes a space, keeping columns."""
    return printable(text, replace=" ")


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)
