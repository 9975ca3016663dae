"""`govwatch crawl --topics` pushes what its pass found; `govwatch notify test TOPIC` sends a
test message and says whether each target took it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from govwatch.cli import main
from govwatch.demo.mirror import demo_mirror
from tests.test_server import write_seeds
from tests.webhook import Webhook


def topics_file(tmp_path: Path, hook: Webhook) -> Path:
    path = tmp_path / "topics.toml"
    path.write_text(
        f'[[topic]]\nid = "all2"\ntitle = "全部"\nnotify = ["{hook.url()}"]\n', encoding="utf-8"
    )
    return path


def test_crawl_with_topics_pushes_what_it_found(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'govwatch.db'}"
    with demo_mirror() as mirror, Webhook() as hook:
        write_seeds(mirror, tmp_path / "seeds", "generic")
        topics = topics_file(tmp_path, hook)
        args = ["crawl", "--seeds", str(tmp_path / "seeds"), "--db", db, "--topics", str(topics)]
        env = {"GOVWATCH_NOTIFY_DIGEST": "1000"}
        first = CliRunner().invoke(main, args, env=env)
        assert first.exit_code == 0, first.output
        sent = len(hook.received)
        assert sent > 5 and first.output.rstrip().endswith(f"pushed {sent} event(s)")
        again = CliRunner().invoke(main, args, env=env)
        assert again.exit_code == 0 and "pushed" not in again.output
        assert len(hook.received) == sent


def test_notify_test_sends_and_says_so(tmp_path: Path) -> None:
    with Webhook() as hook:
        topics = str(topics_file(tmp_path, hook))
        done = CliRunner().invoke(main, ["notify", "test", "all2", "--topics", topics])
        assert done.exit_code == 0, done.output
        assert done.output.startswith(f"sent      {hook.url()}")  # Apprise's form of the URL
        assert hook.titles() == ["govwatch 测试消息：全部"]
        hook.fail_next = 1
        failed = CliRunner().invoke(main, ["notify", "test", "all2", "--topics", topics])
        assert failed.exit_code == 1 and failed.output.startswith("FAILED    json://")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["nosuch"], "no topic 'nosuch' (topics: all2)"),
        (["all"], "topic 'all' has no notify URLs"),
    ],
)
def test_notify_test_names_what_is_wrong(tmp_path: Path, args: list[str], says: str) -> None:
    with Webhook() as hook:
        topics = str(topics_file(tmp_path, hook))
        done = CliRunner().invoke(main, ["notify", "test", *args, "--topics", topics])
    assert done.exit_code == 2 and says in done.output
