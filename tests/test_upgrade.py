"""Upgrades never look like revisions: a newer parser re-extracts stored versions without
events, while a real change of the page is still a revision. Through the mirror, real HTTP
and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import gzip
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from govwatch.crawler.engine import Crawler, SiteStats
from govwatch.crawler.reparse import reparse
from govwatch.crawler.seeds import load_seeds
from govwatch.demo.mirror import Mirror
from govwatch.demo.mirror.build import populate
from govwatch.demo.mirror.site import MirrorSite
from govwatch.demo.mirror.texts import generated_texts
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.database import parse_url
from govwatch.store.schema import extractions, versions
from tests.parser_release import IMPROVED, improved_parser

FAST = Settings(retry_base=0.05, concurrency=16, host_concurrency=4)


def _site() -> MirrorSite:
    # A live view counter: no validators, so every notice is fetched in full every time,
    # as on the many real sites without ETag/Last-Modified.
    return populate(
        MirrorSite("upgrade", "generic", page_size=10, view_counter=True), 12, generated_texts()
    )


def _crawl(store: Store, mirror: Mirror, tmp_path: Path) -> SiteStats:
    if not (tmp_path / "seeds").exists():
        mirror.seed_files(tmp_path / "seeds", rate=500.0)
    seeds = load_seeds(tmp_path / "seeds")
    return asyncio.run(Crawler(store, FAST).run(seeds)).sites["upgrade"]


def test_parser_upgrade_reextracts_without_events(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site()
    with Mirror([site]) as mirror, Store.open(store_url) as store:
        first = _crawl(store, mirror, tmp_path)
        assert (first.new, first.errors) == (12, 0)
        events_before = len(store.events())

        improved_parser(monkeypatch)
        upgraded = _crawl(store, mirror, tmp_path)
        assert (upgraded.new, upgraded.revised, upgraded.removed, upgraded.errors) == (0, 0, 0, 0)
        assert upgraded.reextracted == 12
        assert len(store.events()) == events_before
        url = site.notice_url(site.notices[0].id)
        (only,) = store.history(url)
        assert only.body.endswith(IMPROVED) and only.parser_version == "generic@next-release"
        engine = sa.create_engine(parse_url(store_url))
        with engine.connect() as conn:
            kept = conn.execute(sa.select(sa.func.count()).select_from(extractions)).scalar_one()
            produced = set(conn.execute(sa.select(versions.c.parser_version)).scalars())
        engine.dispose()
        assert kept == 12, "the records the old parser made are kept"
        assert produced == {"generic@next-release"}

        again = _crawl(store, mirror, tmp_path)
        assert (again.revised, again.reextracted) == (0, 0)

        # A real change of the page is still a revision, with only its own field changed.
        edited = site.notices[1]
        site.edit(edited.id, [*edited.paragraphs, "请各校于6月30日前报送。"])
        changed = _crawl(store, mirror, tmp_path)
        assert (changed.new, changed.revised) == (0, 1)
        (event,) = store.events(kind="revised")
        assert event.changed_fields == ("body",)


def test_upgrade_and_a_real_change_in_one_crawl(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that changed while the parser changed too: one revision, whose diff is the
    site's change only (both versions as the new parser reads them)."""
    site = _site()
    with Mirror([site]) as mirror, Store.open(store_url) as store:
        _crawl(store, mirror, tmp_path)
        edited = site.notices[2]
        site.edit(edited.id, [*edited.paragraphs, "请各校于6月30日前报送。"])
        improved_parser(monkeypatch)
        stats = _crawl(store, mirror, tmp_path)
        assert (stats.revised, stats.reextracted) == (1, 11)
        old, new = store.history(site.notice_url(edited.id))
        assert old.body.endswith(IMPROVED) and new.body.endswith(IMPROVED)
        assert new.body.replace(old.body.removesuffix(IMPROVED), "").startswith("请各校")


RELEASE_STORE = Path(__file__).parent / "fixtures" / "stores" / "release-2026-11.db.gz"
# The mirror the release store was crawled from (tests/fixtures/stores/README.md).
RELEASE_PORT = 47391
RELEASE_SITES = (
    ("rel-generic", "generic", 20, 10, True),
    ("rel-trs-wcm", "trs_wcm", 20, 10, False),
    ("rel-hanweb-jcms", "hanweb_jcms", 40, 10, False),
    ("rel-hanweb-jpaas", "hanweb_jpaas", 30, 15, False),
    ("rel-sd-gongkai", "sd_gongkai", 20, 10, False),
)


@pytest.mark.xdist_group("release-store-port")
def test_store_of_the_previous_release_migrates_and_crawls_quietly(tmp_path: Path) -> None:
    """A store written by 0.1.0 (schema 0002, no parser versions), migrated and crawled
    again over the unchanged sites: nothing new, revised or removed; then a real edit is
    one revision."""
    db = tmp_path / "release.db"
    db.write_bytes(gzip.decompress(RELEASE_STORE.read_bytes()))
    sites = [
        populate(
            MirrorSite(name, flow, page_size=size, view_counter=counter, listen_port=RELEASE_PORT),
            count,
            generated_texts(),
        )
        for name, flow, count, size, counter in RELEASE_SITES
    ]
    with Mirror(sites) as mirror, Store.open(f"sqlite:///{db}") as store:
        events_before = len(store.events(limit=10_000))
        mirror.seed_files(tmp_path / "seeds", rate=500.0)
        seeds = load_seeds(tmp_path / "seeds")
        crawl = Crawler(store, FAST)
        summary = asyncio.run(crawl.run(seeds))
        for name, stats in summary.sites.items():
            assert (stats.new, stats.revised, stats.removed, stats.errors) == (0, 0, 0, 0), name
        assert len(store.events(limit=10_000)) == events_before

        site = mirror.site("rel-generic")
        edited = site.notices[0]
        site.edit(edited.id, [*edited.paragraphs, "请各校于6月30日前报送。"])
        stats = asyncio.run(crawl.run(seeds)).sites["rel-generic"]
        assert (stats.new, stats.revised, stats.removed) == (0, 1, 0)


def test_reparse_reextracts_stored_pages_in_one_pass(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site()
    with Mirror([site]) as mirror, Store.open(store_url) as store:
        _crawl(store, mirror, tmp_path)
        edited = site.notices[0]
        site.edit(edited.id, [*edited.paragraphs, "请各校于6月30日前报送。"])
        _crawl(store, mirror, tmp_path)  # a second version of one notice
        events_before = len(store.events())

        improved_parser(monkeypatch)
        done: list[tuple[int, int]] = []
        summary = reparse(store, [], "upgrade", lambda n, total: done.append((n, total)))
        assert (summary.checked, summary.reextracted, summary.failed) == (13, 13, [])
        assert done[-1] == (13, 13)
        assert len(store.events()) == events_before
        old, new = store.history(site.notice_url(edited.id))
        assert old.body.endswith(IMPROVED) and new.body.endswith(IMPROVED)
        assert reparse(store, [], "upgrade").checked == 0

        after = _crawl(store, mirror, tmp_path)
        assert (after.new, after.revised, after.reextracted) == (0, 0, 0)


@pytest.mark.xdist_group("release-store-port")
def test_reparse_command_on_a_store_of_the_previous_release(tmp_path: Path) -> None:
    db = tmp_path / "release.db"
    db.write_bytes(gzip.decompress(RELEASE_STORE.read_bytes()))
    url = f"sqlite:///{db}"
    command = [sys.executable, "-m", "govwatch", "reparse", "--db", url]
    first = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("reparsed 130 stored versions: "), first.stdout
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert (again.returncode, again.stdout) == (0, "")
    assert "nothing to reparse" in again.stderr
    with Store.open(url) as store:
        assert {e.kind for e in store.events(limit=10_000)} == {"new"}
