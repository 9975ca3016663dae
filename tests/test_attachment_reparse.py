"""Re-extraction keeps the files a version was stored with: after `govwatch reparse` or a
parser upgrade in a crawl, each attachment keeps its sha256 (so its fetch stays
conditional), and a file replaced on the site is still a revision, not a re-extraction."""

from __future__ import annotations

from pathlib import Path

import pytest

from govwatch.crawler.reparse import reparse
from govwatch.crawler.seeds import load_seeds
from govwatch.store import Store
from tests import attachment_files as files
from tests.conftest import LocalServer
from tests.parser_release import IMPROVED, improved_parser
from tests.test_attachment_crawl import Files, crawl, site

LINKS = {1: [("附件：岗位表.xlsx", "/files/gwb.xlsx")]}
NEW_POST = ("003", "初中英语教师", "1", "研究生")


def test_after_reparse_files_keep_their_sha256_and_a_replaced_file_is_a_revision(
    http_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shelf = Files(http_server)
    shelf.put("/files/gwb.xlsx", files.xlsx())
    seeds = site(http_server, LINKS, tmp_path)
    url = f"{http_server.base}/tzgg/1.html"
    with Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        assert crawl(store, seeds).sites["qs"].new == 1
        stored = store.current_files(url)
        assert list(stored) == [f"{http_server.base}/files/gwb.xlsx"]

        improved_parser(monkeypatch)
        summary = reparse(store, load_seeds(seeds))
        assert (summary.checked, summary.reextracted, summary.failed) == (1, 1, [])
        (version,) = store.history(url)
        assert version.body.endswith(IMPROVED)
        assert store.current_files(url) == stored

        asked = shelf.mark()
        again = crawl(store, seeds).sites["qs"]
        assert (again.revised, again.reextracted, again.unchanged) == (0, 0, 1)
        assert shelf.full_fetches(asked) == []  # the file's fetch was conditional: a 304

        shelf.put("/files/gwb.xlsx", files.xlsx((*files.POSTS, NEW_POST)))
        replaced = crawl(store, seeds).sites["qs"]
        assert (replaced.revised, replaced.reextracted) == (1, 0)
        (event,) = store.events(kind="revised")
        assert event.changed_fields == ("attachments",)
        assert store.current_files(url) != stored


def test_a_file_replaced_in_the_crawl_of_a_parser_upgrade_is_a_revision(
    http_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shelf = Files(http_server)
    shelf.put("/files/gwb.xlsx", files.xlsx())
    seeds = site(http_server, LINKS, tmp_path)
    url = f"{http_server.base}/tzgg/1.html"
    with Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}") as store:
        crawl(store, seeds)
        stored = store.current_files(url)

        improved_parser(monkeypatch)
        shelf.put("/files/gwb.xlsx", files.xlsx((*files.POSTS, NEW_POST)))
        stats = crawl(store, seeds).sites["qs"]
        assert (stats.revised, stats.reextracted, stats.errors) == (1, 0, 0)
        (event,) = store.events(kind="revised")
        assert event.changed_fields == ("attachments",)
        old, new = store.history(url)
        assert old.body == new.body and old.body.endswith(IMPROVED)
        assert [a.sha256 for a in old.attachments] == list(stored.values())
        assert [a.sha256 for a in new.attachments] == list(store.current_files(url).values())
        assert store.current_files(url) != stored
