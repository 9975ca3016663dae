import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from govwatch.config import REQUIRED, parse_duration
from govwatch.crawler.seeds import REVISIT_KEYS, SEED_KEYS, load_seeds
from govwatch.errors import ConfigError
from govwatch.feeds.topics import load_topics
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


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (("max_pages = 3", "max_pages = true"), "max_pages: must be an integer, not a boolean"),
        (("max_pages = 3", "max_pages = 3\nrate = true"), "rate: must be a number, not a boolean"),
        (("max_pages = 3", 'max_pages = 3\nenabled = "yes"'), "enabled: must be true or false"),
        (('name = "示例 通知公告"', 'name = " "'), "name: must be a non-empty string"),
        (('topics = ["教育"]', 'topics = ["教育", 1]'), "topics: must be a list of non-empty"),
        (
            ('[revisit]\nrecent_days = 10\nold_every = "2d"', "revisit = 3"),
            "revisit: must be a table, not an integer",
        ),
    ],
)
def test_a_wrong_type_says_what_it_must_be(
    tmp_path: Path, change: tuple[str, str], says: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as err:
        load_seeds(path)
    assert str(err.value).startswith(f"{path}: {says}")


def test_a_seed_of_required_keys_only_has_the_declared_defaults(tmp_path: Path) -> None:
    required = [k for k in SEED_KEYS if k.default is REQUIRED]
    (seed,) = load_seeds(write(tmp_path, "\n".join(f"{k.name} = {k.example}" for k in required)))
    for key in SEED_KEYS:
        if key.default is not REQUIRED and key.name != "revisit":
            assert getattr(seed, key.name) == key.default, key.name
    for key in REVISIT_KEYS:
        assert getattr(seed.revisit, key.name) == key.default, key.name


# --- topics meet seeds in `sites` ---------------------------------------------------

TOPICS = '[[topic]]\nid = "a"\ntitle = "A"\n\n[[topic]]\nid = "b"\ntitle = "B"\nsites = {}\n'


def test_a_topic_naming_a_seed_no_one_has_is_a_mistake(tmp_path: Path) -> None:
    path = write(tmp_path, TOPICS.format('["x-tzgg", "nosuch", "other"]'), "topics.toml")
    assert [t.id for t in load_topics(path)] == ["all", "a", "b"]  # no seeds to check against
    with pytest.raises(ConfigError) as err:
        load_topics(path, {"x-tzgg", "y-tzgg"})
    assert str(err.value) == (
        f"{path}: topic 'b': sites: no seed has the id nosuch, other (seed ids: x-tzgg, y-tzgg)"
    )


@pytest.mark.parametrize("topics", ["topics.toml", "deploy/example/topics.toml"])
def test_the_shipped_topics_name_shipped_seeds(topics: str) -> None:
    ids = {s.id for s in load_seeds(ROOT / "seeds")}
    assert len(load_topics(ROOT / topics, ids)) > 1


def test_serve_refuses_a_topic_naming_an_unknown_seed_in_one_line(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    write(seeds, GOOD.replace("max_pages = 3", "max_pages = 3\nenabled = false"), "demo.toml")
    topics = write(tmp_path, TOPICS.format('["demo-tzgg", "demo-tzgk"]'), "topics.toml")
    db = tmp_path / "serve.db"
    args = ["--seeds", str(seeds), "--topics", str(topics), "--db", f"sqlite:///{db}"]
    done = subprocess.run(
        [sys.executable, "-m", "govwatch", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"{topics}: topic 'b': sites: no seed has the id demo-tzgk" in done.stderr
    assert "(seed ids: demo-tzgg)" in done.stderr
    assert not db.exists()
