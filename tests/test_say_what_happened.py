"""No silent no-ops, exit codes cron can use, one clock: the CLI as a user runs it, in a
real process, against the local mirror and real stores."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from govwatch.crawler.seeds import load_seeds
from govwatch.demo.mirror import Mirror
from govwatch.demo.mirror.build import populate
from govwatch.demo.mirror.site import MirrorSite
from govwatch.demo.mirror.texts import generated_texts

pytestmark = pytest.mark.slow  # every check is a `govwatch` process

CHINA = ZoneInfo("Asia/Shanghai")


def govwatch(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVWATCH_")}
    env["GOVWATCH_RETRIES"] = "0"
    if home is not None:
        env["XDG_DATA_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "govwatch", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, datetime]]:
    """A store after one crawl of a mirror site: (seeds dir, db URL, when it started)."""
    tmp = tmp_path_factory.mktemp("said")
    site = populate(MirrorSite("county", "generic", page_size=10), 4, generated_texts())
    with Mirror([site]) as mirror:
        mirror.seed_files(tmp / "seeds", rate=200.0)
        db = f"sqlite:///{tmp / 'gw.db'}"
        started = datetime.now(CHINA)
        done = govwatch("crawl", "--seeds", str(tmp / "seeds"), "--db", db)
        assert done.returncode == 0, done.stderr
        yield tmp / "seeds", db, started


def test_crawl_with_no_enabled_seed_exits_2(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    done = govwatch(
        "crawl", "--seeds", str(tmp_path / "seeds"), "--db", f"sqlite:///{tmp_path}/x.db"
    )
    assert done.returncode == 2
    assert "no enabled seed" in one_line(done.stderr)
    assert not (tmp_path / "x.db").exists()


def test_crawl_of_a_site_that_refuses_connections_exits_1(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    (tmp_path / "down.toml").write_text(
        'id = "down"\nname = "某某县教育局 通知公告"\nparser = "generic"\n'
        f'listing_urls = ["http://127.0.0.1:{port}/tzgg/index.html"]\ninterval = "6h"\n',
        encoding="utf-8",
    )
    done = govwatch(
        "crawl", "--seeds", str(tmp_path / "down.toml"), "--db", f"sqlite:///{tmp_path}/x.db"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "某某县教育局 通知公告 (down): unreachable: no listing page could be read" in done.stdout


def test_crawl_table_names_sites(crawled: tuple[Path, str, datetime]) -> None:
    seeds, db, _ = crawled
    name = load_seeds(seeds)[0].name
    again = govwatch("crawl", "--seeds", str(seeds), "--db", db)
    assert again.returncode == 0
    assert again.stdout.splitlines()[1].startswith(f"{name} (county)  ")


def test_reading_a_database_that_is_not_there_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    done = govwatch("events", "--db", f"sqlite:///{missing}")
    assert done.returncode != 0
    assert str(missing) in one_line(done.stderr)
    assert not missing.exists()


def test_slashes_hint(crawled: tuple[Path, str, datetime], tmp_path: Path) -> None:
    _, db, _ = crawled
    absolute = db.removeprefix("sqlite:///")
    done = govwatch("events", "--db", f"sqlite:///{absolute.lstrip('/')}")
    assert f"an absolute path takes four slashes: sqlite:////{absolute.lstrip('/')}" in one_line(
        done.stderr
    )


def test_default_database_is_named(tmp_path: Path) -> None:
    done = govwatch("migrate", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"govwatch: using {tmp_path / 'govwatch' / 'govwatch.db'}"


def test_events_for_an_unknown_site_exits_2_naming_the_known(
    crawled: tuple[Path, str, datetime],
) -> None:
    _, db, _ = crawled
    done = govwatch("events", "--db", db, "--site", "nope")
    assert done.returncode == 2
    assert "known: county" in one_line(done.stderr)


def test_since_is_china_time_and_times_say_their_offset(
    crawled: tuple[Path, str, datetime],
) -> None:
    seeds, db, started = crawled
    before = (started - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    after = (datetime.now(CHINA) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    found = json.loads(govwatch("events", "--db", db, "--since", before, "--format", "json").stdout)
    assert len(found) == 4
    assert all(e["at"].endswith("+08:00") and e["site_name"] for e in found)
    none = govwatch("events", "--db", db, "--since", after, "--format", "json")
    assert json.loads(none.stdout) == [] and "no events" in none.stderr
    first = govwatch("events", "--db", db).stdout.splitlines()[0]
    assert first[16:22] == "+08:00" and f" {load_seeds(seeds)[0].name}  " in first


def test_diff_of_a_notice_with_one_version_says_so(crawled: tuple[Path, str, datetime]) -> None:
    _, db, _ = crawled
    url = json.loads(govwatch("events", "--db", db, "--format", "json").stdout)[0]["url"]
    done = govwatch("diff", url, "--db", db)
    assert (done.returncode, done.stdout) == (0, "")
    assert one_line(done.stderr) == "govwatch: only one version: nothing to diff"
