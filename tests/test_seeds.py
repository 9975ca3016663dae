from datetime import timedelta
from pathlib import Path

import pytest

from crawler.seeds import load_seeds, parse_duration
from govwatch.errors import ConfigError
from tests.conftest import ROOT

GOOD = """
id = "demo-tzgg"
name = "示例 通知公告"
parser = "generic"
listing_urls = ["http://127.0.0.1:8000/tzgg/index.html"]
max_pages = 3
interval = "30m"
topics = ["教育"]
[revisit]
recent_days = 10
old_every = "2d"
"""


def write(tmp_path: Path, text: str, name: str = "seed.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_seed_loads(tmp_path: Path) -> None:
    (seed,) = load_seeds(write(tmp_path, GOOD))
    assert seed.id == "demo-tzgg"
    assert seed.interval == timedelta(minutes=30)
    assert seed.hosts == ("127.0.0.1",)
    assert seed.revisit.recent_days == 10
    assert seed.revisit.old_every == timedelta(days=2)
    assert seed.enabled


def test_the_shipped_seeds_load() -> None:
    seeds = load_seeds(ROOT / "seeds")
    assert {s.parser for s in seeds} >= {"sd_gongkai", "hanweb_jpaas"}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (('parser = "generic"', 'parser = "nosuch"'), "parser"),
        (('interval = "30m"', 'interval = "soon"'), "interval"),
        (("max_pages = 3", 'max_pages = "3"'), "max_pages"),
        (("max_pages = 3", "max_pages = 0"), "max_pages"),
        (
            (
                'listing_urls = ["http://127.0.0.1:8000/tzgg/index.html"]',
                'listing_urls = ["ftp://x"]',
            ),
            "listing_urls",
        ),
        (('id = "demo-tzgg"', 'id = "Demo Site"'), "id"),
        (('topics = ["教育"]', 'topics = ["教育"]\nintervall = "1h"'), "intervall"),
        (('old_every = "2d"', 'old_every = "2x"'), "revisit.old_every"),
        (('name = "示例 通知公告"\n', ""), "name"),
    ],
)
def test_a_mistake_names_file_and_key(tmp_path: Path, change: tuple[str, str], key: str) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as err:
        load_seeds(path)
    assert str(err.value).startswith(f"{path}: {key}:")


def test_broken_toml_and_duplicate_ids(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_seeds(write(tmp_path, "id = [", "broken.toml"))
    folder = tmp_path / "dir"
    folder.mkdir()
    write(folder, GOOD, "a.toml")
    write(folder, GOOD, "b.toml")
    with pytest.raises(ConfigError, match="already used"):
        load_seeds(folder)


def test_durations() -> None:
    assert parse_duration("10s") == timedelta(seconds=10)
    assert parse_duration("6h") == timedelta(hours=6)
    with pytest.raises(ValueError):
        parse_duration("6 hours")
