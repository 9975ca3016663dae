"""Every setting and every CLI command is documented in the README; its tables of seed and
topic keys are what the declarations make, and its examples and commands work."""

import json
import subprocess
import sys
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest

from govwatch import config_docs
from govwatch.cli import main
from govwatch.crawler.seeds import SEED_KEYS, load_seed
from govwatch.feeds.topics import TOPIC_KEYS, load_topics
from govwatch.parsers.registry import names
from govwatch.settings import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [f.name for f in fields(Settings) if f"`{f.name}`" not in README]
    assert not missing


def test_every_command_is_documented() -> None:
    missing = [name for name in main.commands if f"govwatch {name}" not in README]
    assert not missing


def test_every_parser_is_documented() -> None:
    missing = [name for name in names() if f"`{name}`" not in README]
    assert not missing


def test_the_seed_and_topic_key_tables_are_made_from_the_declarations() -> None:
    assert config_docs.render(README) == README, "run `python -m govwatch.config_docs --write`"


def test_the_tables_command_finds_and_mends_a_stale_readme(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README.replace("| `rate` | number |", "| `rate` | float |"), "utf-8")
    assert config_docs.main([str(readme)]) == 1
    assert config_docs.main([str(readme), "--write"]) == 0
    assert readme.read_text("utf-8") == README
    readme.write_text("# no tables\n", "utf-8")
    assert config_docs.main([str(readme), "--write"]) == 1


def test_every_example_in_the_tables_is_read_by_its_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WECOM_KEY", "the-key")  # notify's example takes its key from there
    seed = tmp_path / "seed.toml"
    seed.write_text("\n".join(f"{k.name} = {config_docs.example(k)}" for k in SEED_KEYS), "utf-8")
    assert load_seed(seed).revisit.old_every == timedelta(days=3)
    topics = tmp_path / "topics.toml"
    lines = [f"{k.name} = {config_docs.example(k)}" for k in TOPIC_KEYS]
    topics.write_text("[[topic]]\n" + "\n".join(lines), "utf-8")
    assert load_topics(topics)[1].kinds == ("new", "revised")


@pytest.mark.slow  # the whole demo, then `govwatch` processes on its store
def test_after_the_demo_its_kept_store_can_be_looked_at(tmp_path: Path) -> None:
    """The README's "After the demo": `govwatch demo --keep DIR`, then the commands it
    prints against DIR/demo.db."""
    kept = tmp_path / "demo"
    done = govwatch("demo", "--keep", str(kept))
    assert done.returncode == 0, done.stderr
    db = f"sqlite:///{kept / 'demo.db'}"
    assert f"govwatch events --db {db}" in done.stdout
    assert "govwatch add URL" in done.stdout
    events = govwatch("events", "--db", db, "--format", "json")
    assert events.returncode == 0, events.stderr
    assert {e["kind"] for e in json.loads(events.stdout)} >= {"new", "revised", "removed"}
    again = govwatch("demo", "--keep", str(kept))
    assert again.returncode != 0
    assert again.stderr.strip().count("\n") == 0 and str(kept) in again.stderr


def govwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govwatch", *args], capture_output=True, text=True, timeout=120
    )
