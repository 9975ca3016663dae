"""`govwatch worker --topics` pushes what the fleet crawls: two workers on one PostgreSQL
store, a local JSON webhook, each event once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from govwatch.store import Store
from tests.fleet import Fleet, fleet_mirror, wait_for
from tests.pg import fresh_database
from tests.test_worker import FAST
from tests.webhook import Webhook

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # PostgreSQL, worker processes


def test_workers_push_each_event_once(postgres_url: str, tmp_path: Path) -> None:
    db = fresh_database(postgres_url)
    Store.open(db).close()
    with fleet_mirror(sites=4, hosts=2, notices=3) as mirror, Webhook() as hook:
        seeds = mirror.seed_files(tmp_path / "seeds", rate=50.0)  # baseline = false: all news
        topics = tmp_path / "topics.toml"
        topics.write_text(
            f'[[topic]]\nid = "all2"\ntitle = "全部"\nnotify = ["{hook.url()}"]\n', "utf-8"
        )
        env = FAST | {"GOVWATCH_TOPICS": str(topics), "GOVWATCH_NOTIFY_DIGEST": "1000"}
        fleet = Fleet(db, seeds, tmp_path, env)
        try:
            fleet.worker("worker0", concurrency=2)
            fleet.worker("worker1", concurrency=2)

            def events() -> Counter[str]:
                with Store.open(db) as store:
                    return Counter(f"[新] {e.title}" for e in store.events(kind="new"))

            wait_for(lambda: sum(events().values()) == 12, 120, "every notice stored", 1.0)
            wait_for(lambda: len(hook.received) >= 12, 60, "every event pushed", 0.5)
            time.sleep(3)  # more ticks: nothing more arrives
        finally:
            statuses = fleet.stop()
        assert statuses == {"worker0": 0, "worker1": 0}, fleet.log("worker0")[-2000:]
        assert Counter(hook.titles()) == events()
