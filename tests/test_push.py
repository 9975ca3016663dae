"""Push notifications through Apprise, to a local JSON webhook: each event once per target,
retries, digests, secrets masked. The store runs on a clock that moves a minute per
reading, so a retry's backoff has always passed at the next run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from govwatch.errors import ConfigError
from govwatch.feeds.push import SEND_LEASE, Notifier
from govwatch.feeds.topics import Topic, load_topics
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.deliveries import claim_due, mark_failed, mark_sent, target_states
from govwatch.store.schema import deliveries
from tests.test_feeds import JJ, REVISED, ZD, add, open_store, page, remove, url
from tests.webhook import Webhook

BASE = "https://govwatch.example"
FAST = Settings(notify_retry_base=1.0, notify_attempts=3)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """On SQLite, and on PostgreSQL among the slow tests."""
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with Webhook() as receiver:
        yield receiver


def notifier(
    store: Store, *topics: Topic, settings: Settings = FAST, environ: dict[str, str] | None = None
) -> Notifier:
    made = Notifier(store, topics, BASE, settings, environ=environ or {})
    made.start()
    return made


def test_each_event_once_per_target_across_runs_and_restarts(store: Store, hook: Webhook) -> None:
    add(store, 9, title="配置推送之前的通知")  # before the target existed: not owed
    topic = Topic("zd", "张店", sites=(ZD,), notify=(hook.url(),))
    first = notifier(store, topic)
    assert first.run().sent == 0
    add(store, 1)
    add(store, 2, JJ, title="靖江市教师招聘公告")  # another site: not this topic's
    add(store, 1, **REVISED)
    remove(store, 1)
    assert first.run().sent == 3
    assert first.run().sent == 0
    # A restart, and a second topic on the same target: nothing is sent again.
    again = notifier(store, topic, Topic("all2", "全部", notify=(hook.url(),)))
    assert again.run().sent == 1  # only the 靖江 notice, which only the new topic carries
    assert hook.titles() == [
        "[新] 关于开展春季校园安全检查的通知",
        "[修订] 关于开展春季校园安全检查的通知",
        "[撤下] 关于开展春季校园安全检查的通知",
        "[新] 靖江市教师招聘公告",
    ]
    new, revised, removed, _ = (m["message"] for m in hook.received)
    assert "张教体字〔2025〕1号" in new and "张店区教育和体育局 通知公告" in new
    assert "2025\\-02\\-28" in new  # Markdown: the date's hyphens escaped
    notice = store.notice(url(1))
    assert notice is not None
    assert f"({BASE}/notices/{notice.id})" in new and f"({url(1)})" in new
    assert f"({BASE}/notices/{notice.id}/diff?from=1&to=2)" in revised
    assert "改动：正文、文号" in revised and "张教体字〔2025〕2号" in revised
    assert "撤下" in removed and "/diff" not in removed
    (state,) = target_states(store)
    assert (state.sent, state.pending, state.failed) == (4, 0, 0)


def test_a_receiver_that_fails_twice_then_recovers_gets_each_message_once(
    store: Store, hook: Webhook
) -> None:
    topic = Topic("zd", "张店", notify=(hook.url(),))
    push = notifier(store, topic)
    add(store, 1)
    add(store, 2)
    hook.fail_next = 2
    first = push.run()
    assert (first.sent, first.failed) == (0, 1)  # the first failed; the second waits with it
    (state,) = target_states(store)
    assert (state.pending, state.retrying, state.failed) == (2, 1, 0)
    assert state.last_error and "500" in state.last_error
    assert push.run().failed == 1
    assert push.run().sent == 2
    assert push.run().sent == 0
    assert len(hook.received) == 2
    assert hook.titles() == ["[新] 关于开展春季校园安全检查的通知"] * 2


def test_a_sender_whose_claim_lapsed_records_nothing(store: Store, hook: Webhook) -> None:
    push = notifier(store, Topic("zd", "张店", notify=(hook.url(),)))
    add(store, 1)
    hook.fail_next = 1
    assert push.run().failed == 1  # pending again, due at the clock's next reading
    (key,) = push.targets
    (slow,) = claim_due(store, key, 1, SEND_LEASE)
    (other,) = claim_due(store, key, 1, SEND_LEASE)  # a minute later: the lease had lapsed
    assert other.id == slow.id
    assert mark_sent(store, [other]) == 1
    # The slow sender's outcome comes last: it no longer holds the row and changes nothing.
    assert mark_sent(store, [slow]) == 0
    mark_failed(store, [slow], "timed out", timedelta(seconds=1))
    (state,) = target_states(store)
    assert (state.sent, state.pending, state.retrying, state.last_error) == (1, 0, 0, None)
    assert push.run().sent == 0


def test_two_senders_a_lapsed_claim_and_nothing_sent_twice(
    store: Store, hook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    """Two processes push to one target. The first one's send hangs past its claim (the
    store's clock moves a minute a reading), the second sends the message meanwhile; what
    the first then records changes nothing: no retry of a message that arrived."""
    topic = Topic("zd", "张店", notify=(hook.url(),))
    other = notifier(store, topic)
    outcomes = iter(["timed out", None])

    def hangs(url: str, title: str, body: str) -> str | None:
        assert other.run().sent == 1  # the claim lapsed: the other sender takes the message
        return next(outcomes)

    first = Notifier(store, [topic], BASE, FAST, environ={}, send=hangs)
    first.start()
    add(store, 1)
    assert first.run().failed == 1  # its failure is not recorded over the other's send
    (state,) = target_states(store)
    assert (state.sent, state.pending, state.retrying, state.last_error) == (1, 0, 0, None)
    attempts = sa.select(deliveries.c.attempts, deliveries.c.last_error)
    assert store._read(lambda conn: conn.execute(attempts).all()) == [(0, None)]
    assert first.run().sent == 0 and other.run().sent == 0
    assert hook.titles() == ["[新] 关于开展春季校园安全检查的通知"]

    add(store, 2, title="第二条")
    with caplog.at_level(logging.WARNING, "govwatch.feeds.push"):
        assert first.run().sent == 1  # "delivered" late, after the other sent it
    assert "outlasted its 20s claim" in caplog.text
    (state,) = target_states(store)
    assert (state.sent, state.pending) == (2, 0)
    assert hook.titles()[1:] == ["[新] 第二条"]
    assert first.run().sent == 0 and other.run().sent == 0 and len(hook.received) == 2


def test_given_up_after_the_last_attempt(store: Store, hook: Webhook) -> None:
    push = notifier(store, Topic("zd", "张店", notify=(hook.url(),)))
    add(store, 1)
    hook.fail_next = 99
    for _ in range(5):
        push.run()
    (state,) = target_states(store)
    assert (state.pending, state.failed) == (0, 1)
    hook.fail_next = 0
    assert push.run().sent == 0 and hook.received == []


def test_many_events_at_once_make_a_digest(store: Store, hook: Webhook) -> None:
    topic = Topic("zd", "张店", notify=(hook.url(),))
    push = notifier(store, topic, settings=replace(FAST, notify_digest=3))
    for n in range(1, 5):
        add(store, n, title=f"第{n}号[通知]")
    assert push.run().sent == 4
    (digest,) = hook.received
    assert digest["title"] == "govwatch：4 条公告动态"
    lines = [line for line in digest["message"].splitlines() if line.startswith("- ")]
    assert [line.split("](")[0] for line in lines] == [
        f"- [新] [第{n}号\\[通知\\]" for n in range(1, 5)
    ]
    add(store, 5)
    assert push.run().sent == 1 and hook.titles()[-1].startswith("[新] ")


def test_baseline_events_are_not_pushed(store: Store, hook: Webhook) -> None:
    push = notifier(store, Topic("zd", "张店", notify=(hook.url(),)))
    store.upsert_site("quiet", "首次抓取的站点", "generic", [])
    old = page(title="很早的通知", issued_date="2020-01-01")
    store.record_page("quiet", "http://quiet.example/1.html", old, b"", None, baseline=True)
    add(store, 1)
    assert push.run().sent == 1
    assert hook.titles() == ["[新] 关于开展春季校园安全检查的通知"]


def test_secrets_come_from_the_environment_and_are_never_shown(
    store: Store, hook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-wecom-key-0042"
    topic = Topic("zd", "张店", notify=(hook.url("hook/${H11P_KEY}"),))
    push = notifier(store, topic, environ={"H11P_KEY": secret})
    add(store, 1)
    hook.fail_next = 1
    with caplog.at_level(logging.DEBUG):
        push.run()
        push.run()
    assert hook.paths == [f"/hook/{secret}"]  # the real URL was used
    shown = [caplog.text, *(repr(s) for s in target_states(store)), repr(push.targets)]
    assert all(secret not in text for text in shown)
    assert "***" in target_states(store)[0].label


def test_notify_in_topics_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(
        '[[topic]]\nid = "zd"\ntitle = "张店"\n'
        'notify = ["wecombot://${H11P_WECOM}", "json://127.0.0.1/hook"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"topic 'zd': notify: .*\$\{H11P_WECOM\}"):
        load_topics(path)
    monkeypatch.setenv("H11P_WECOM", "abc123")
    topic = load_topics(path)[1]
    assert topic.notify == ("wecombot://${H11P_WECOM}", "json://127.0.0.1/hook")
    path.write_text('[[topic]]\nid = "zd"\ntitle = "张店"\nnotify = ["nosuch://x"]\n')
    with pytest.raises(ConfigError, match=r"topic 'zd': notify: nosuch://… is not"):
        Notifier(Store.open("sqlite://"), load_topics(path), BASE, FAST)
