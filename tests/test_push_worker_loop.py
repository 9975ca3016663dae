"""`govwatch worker --topics` pushes in a loop of its own: a push setup that fails at start
is tried again with backoff while the worker crawls, and a push that hangs holds up
neither the crawls nor the fleet's tick."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from govwatch.feeds.push import Notifier
from govwatch.feeds.topics import load_topics
from govwatch.settings import Settings
from govwatch.store import Store
from tests.fleet import Fleet, fleet_mirror, runs_by_site, wait_for
from tests.pg import fresh_database
from tests.test_worker import FAST
from tests.webhook import Webhook

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # PostgreSQL, worker processes

REFUSE = """
CREATE FUNCTION refuse_targets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'push targets refused by the test'; END $$;
CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON push_targets
    FOR EACH ROW EXECUTE FUNCTION refuse_targets();
"""


@pytest.fixture
def db(postgres_url: str) -> Iterator[tuple[str, sa.Engine]]:
    url = fresh_database(postgres_url)
    Store.open(url).close()
    engine = sa.create_engine(url)
    yield url, engine
    engine.dispose()


def write_topics(tmp_path: Path, hook: Webhook) -> Path:
    topics = tmp_path / "topics.toml"
    topics.write_text(
        f'[[topic]]\nid = "all2"\ntitle = "全部"\nnotify = ["{hook.url()}"]\n', "utf-8"
    )
    return topics


def start_worker(db: str, tmp_path: Path, hook: Webhook) -> Fleet:
    topics = write_topics(tmp_path, hook)
    env = FAST | {"GOVWATCH_TOPICS": str(topics), "GOVWATCH_NOTIFY_DIGEST": "1000"}
    fleet = Fleet(db, tmp_path / "seeds", tmp_path, env)
    fleet.worker("w", concurrency=2)
    return fleet


def new_titles(db: str) -> Counter[str]:
    with Store.open(db) as store:
        return Counter(f"[新] {e.title}" for e in store.events(kind="new"))


def test_a_push_setup_that_fails_at_start_is_tried_again(
    db: tuple[str, sa.Engine], tmp_path: Path
) -> None:
    url, engine = db
    with fleet_mirror(sites=2, hosts=1, notices=2) as mirror, Webhook() as hook:
        mirror.seed_files(tmp_path / "seeds", rate=50.0)
        # The target was registered by an earlier run: it is owed what is crawled now (a
        # target new to the store would be owed the events after its registration).
        topics = load_topics(write_topics(tmp_path, hook), {s.name for s in mirror.sites})
        with Store.open(url) as store:
            Notifier(store, topics, "http://govwatch.test", Settings()).start()
        with engine.begin() as conn:
            conn.exec_driver_sql(REFUSE)
        fleet = start_worker(url, tmp_path, hook)
        try:
            # The worker crawls meanwhile, and says it will try again.
            wait_for(lambda: len(runs_by_site(engine)) == 2, 60, "both sites crawled", 0.5)
            wait_for(lambda: "push targets refused" in fleet.log("w"), 30, "a failed start")
            assert "trying again in" in fleet.log("w")
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP TRIGGER refuse ON push_targets")
            wait_for(lambda: len(hook.received) >= 4, 60, "every event pushed", 0.5)
            time.sleep(3)  # more runs: nothing more arrives
        finally:
            statuses = fleet.stop()
        assert statuses == {"w": 0}, fleet.log("w")[-3000:]
        assert Counter(hook.titles()) == new_titles(url)


def test_a_hanging_push_holds_up_neither_crawls_nor_ticks(
    db: tuple[str, sa.Engine], tmp_path: Path
) -> None:
    url, engine = db

    def ticks_done() -> int:
        query = sa.text(
            "SELECT count(*) FROM procrastinate_jobs"
            " WHERE task_name = 'govwatch.tick' AND status = 'succeeded'"
        )
        with engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    with fleet_mirror(sites=2, hosts=1, notices=2) as mirror, Webhook() as hook:
        mirror.seed_files(tmp_path / "seeds", rate=50.0)
        # Every push run waits for the deliveries table as long as the test holds it.
        holder = engine.connect()
        holder.begin()
        holder.exec_driver_sql("LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE")
        fleet = start_worker(url, tmp_path, hook)
        try:
            wait_for(lambda: len(runs_by_site(engine)) == 2, 60, "both sites crawled", 0.5)
            before = ticks_done()
            time.sleep(5)
            assert ticks_done() - before >= 3, fleet.log("w")[-3000:]
            assert not hook.received
            holder.rollback()
            holder.close()
            wait_for(lambda: len(hook.received) >= 4, 60, "every event pushed", 0.5)
        finally:
            holder.close()
            statuses = fleet.stop()
        assert statuses == {"w": 0}, fleet.log("w")[-3000:]
        assert Counter(hook.titles()) == new_titles(url)
