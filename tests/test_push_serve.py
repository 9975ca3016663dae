"""Push from `govwatch serve`, as a process, to a local JSON webhook: a receiver that fails
twice, a server killed while a message is on its way, a restart — and still each event
arrives exactly once, with the webhook's secret in no log, not in /healthz or /metrics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from govwatch.demo.mirror import demo_mirror
from govwatch.store import Store
from tests.conftest import ROOT
from tests.test_server import free_port, wait_for, write_seeds
from tests.webhook import Webhook

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # server processes, one of them SIGKILLed

SECRET = "hook-s3cret-7f3a"


def serve(seeds: Path, topics: Path, db: str, port: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "govwatch", "serve", "--seeds", str(seeds), "--db", db]
    command += ["--topics", str(topics), "--host", "127.0.0.1", "--port", str(port)]
    env = os.environ | {
        "H11P_HOOK_SECRET": SECRET,
        "GOVWATCH_NOTIFY_DIGEST": "1000",  # one message per event, to count them
        "GOVWATCH_NOTIFY_RETRY_BASE": "0.5",
    }
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_each_event_arrives_once_across_failures_a_kill_and_a_restart(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'govwatch.db'}"
    port = free_port()
    with demo_mirror() as mirror, Webhook() as hook:
        write_seeds(mirror, tmp_path / "seeds", "generic", interval="1h")
        topics = tmp_path / "topics.toml"
        url = hook.url("hook/${H11P_HOOK_SECRET}")
        topics.write_text(f'[[topic]]\nid = "all2"\ntitle = "全部"\nnotify = ["{url}"]\n', "utf-8")
        hook.fail_next, hook.hold_next = 2, 1

        first = serve(tmp_path / "seeds", topics, db, port)
        try:
            assert hook.held.wait(60), "no message reached the webhook"
            first.send_signal(signal.SIGKILL)  # a message on its way, the others owed
            _, first_err = first.communicate(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
        hook.release()
        assert hook.received == [], "the failed and the held messages count for nothing"

        with Store.open(db) as store:
            titles = Counter(f"[新] {e.title}" for e in store.events(kind="new", limit=10_000))
        assert sum(titles.values()) > 5

        second = serve(tmp_path / "seeds", topics, db, port)
        try:
            # The held message's claim runs out after 20 s; then it is sent again.
            wait_for(lambda: len(hook.received) >= sum(titles.values()), 90, "every event")
            time.sleep(4)  # two more rounds of the push loop: nothing more arrives
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        finally:
            second.send_signal(signal.SIGTERM)
            _, second_err = second.communicate(timeout=60)
    assert Counter(hook.titles()) == titles
    assert set(hook.paths) == {f"/hook/{SECRET}"}
    assert health.status_code == 200
    push = health.json()["push"]
    assert (push["loop"], push["failed"], push["retrying"]) == ("running", 0, 0)
    assert "govwatch_push_loop_up 1.0" in metrics.text
    (sent,) = [
        x
        for x in metrics.text.splitlines()
        if x.startswith('govwatch_push_deliveries{status="sent"')
    ]
    assert "***" in sent and sent.endswith(f" {float(sum(titles.values()))}")
    (target,) = push["targets"]
    assert target["sent"] == sum(titles.values()) and "***" in target["target"]
    for text in (first_err, second_err, health.text, metrics.text):
        assert SECRET not in text
    assert "Traceback" not in first_err + second_err
    assert "push to json://" in first_err and "failed (attempt 1" in first_err
