"""The main job end to end, offline: crawl the local mirror, change it, crawl again.

Serves the demo mirror (one site per CMS flow) on 127.0.0.x, crawls it into a fresh
SQLite store, then edits one notice, adds one and removes one on the unseen-site
flow, crawls twice more (a removal needs two 404s) and shows the events and the
revision's diff. This is what `make demo` runs. The store is thrown away at the end
unless a directory to keep it in is given (`govwatch demo --keep DIR`); either way the
demo ends by saying how to go on. The mirror's notices are generated text unless a
directory of seed notices is named (`--seed-texts DIR` or GOVWATCH_SEED_TEXTS).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path

from govwatch.cli.summary import crawl_table
from govwatch.crawler.engine import Crawler
from govwatch.crawler.seeds import load_seeds
from govwatch.demo.mirror import demo_mirror
from govwatch.errors import ConfigError
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.diff import diff_bodies, to_unified

ADDED_SENTENCE = "请各校于6月30日前将汇总表报送至局办公室。"


def run(
    say: Callable[[str], None], keep: Path | None = None, seed_texts: Path | None = None
) -> None:
    """The demo, told through `say`; with `keep`, a new or empty directory, the store and
    the seeds stay there; with `seed_texts`, the mirror's notices are those seed notices."""
    if keep is not None and keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        raise ConfigError(f"{keep}: not a new or empty directory (the demo's store goes there)")
    with tempfile.TemporaryDirectory() as tmp, demo_mirror(seed_texts) as mirror:
        root = keep.resolve() if keep else Path(tmp)
        mirror.seed_files(root / "seeds", rate=50.0)
        seeds = load_seeds(root / "seeds")
        db = f"sqlite:///{root / 'demo.db'}"
        settings = Settings(db=db)
        with Store.open(db) as store:
            crawler = Crawler(store, settings)
            say(f"Mirror: {', '.join(f'{s.name} {s.base_url}' for s in mirror.sites)}\n")
            say("Crawl 1: every notice is new")
            say(crawl_table(asyncio.run(crawler.run(seeds))) + "\n")

            site = mirror.site("generic")
            edited, removed = site.notices[2], site.notices[4]
            paragraphs = edited.paragraphs[:]
            paragraphs[1] += ADDED_SENTENCE
            site.edit(edited.id, paragraphs)
            say(f"Changed on {site.name}: edited {site.notice_url(edited.id)}")
            say(f"                      removed {site.notice_url(removed.id)}")
            site.remove(removed.id)
            added = site.make_notice(
                "关于做好2024年暑期安全教育工作的通知",
                ["各学校：", "暑期将至，现就做好学生暑期安全教育工作通知如下。", "特此通知。"],
                "2024-06-30",
            )
            site.add(added)
            say(f"                      added   {site.notice_url(added.id)}\n")

            say("Crawl 2: one revised, one new (the removed page answered 404 once)")
            say(crawl_table(asyncio.run(crawler.run(seeds))) + "\n")
            say("Crawl 3: the second 404 in a row marks the notice removed")
            say(crawl_table(asyncio.run(crawler.run(seeds))) + "\n")

            say("Events after the first crawl:")
            for event in store.events():
                if event.kind != "new" or event.url == site.notice_url(added.id):
                    say(f"  {event.kind:8} v{event.version}  {event.title}  {event.url}")
            url = site.notice_url(edited.id)
            say(f"\ngovwatch diff {url}")
            old, new = store.version(url, 1), store.version(url, 2)
            say(to_unified(diff_bodies(old.body, new.body), old_label="v1", new_label="v2"))
    say(_next_steps(db if keep else None, url))


def _next_steps(db: str | None, url: str) -> str:
    """Where the store is, and how to go on with a site of one's own."""
    if db is None:
        kept = [
            "The demo's store was in a temporary directory, now removed; "
            "`govwatch demo --keep DIR` keeps it in DIR."
        ]
    else:
        kept = [
            f"The demo's store is kept in {db.removeprefix('sqlite:///')}. Look around in it:",
            f"  govwatch events --db {db}",
            f"  govwatch diff {url} --db {db}",
            f"  govwatch serve --db {db}   # then open http://127.0.0.1:8080/",
            "(The mirror stopped with the demo: serve from the repository, whose seeds/ are",
            "disabled, and it serves the store without crawling.)",
        ]
    return "\n".join(
        (
            "",
            *kept,
            "",
            "To watch a column of your own (the README says more):",
            "  govwatch add URL     # the column page's URL: writes seeds/<id>.toml",
            "  govwatch check ID    # a dry run of that seed",
            "  govwatch crawl ID    # one crawl into your store",
            "  govwatch serve       # crawls every enabled seed on its interval, serves feeds",
        )
    )
