"""The server's push loop stays alive, and /healthz and /metrics say when it is not: a store
that fails at startup and a bug are outlived, a killed loop and a hung run turn /healthz
503, and no secret of a target shows in any of it or in the log."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from govwatch.errors import StoreError
from govwatch.feeds.push import Notifier
from govwatch.feeds.topics import Topic
from govwatch.server import push as push_loop
from govwatch.server.app import create_app
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store.deliveries import target_states
from tests.test_feeds import ZD, add
from tests.test_push import BASE, FAST
from tests.webhook import Webhook

SECRET = "loop-s3cret-93b1"
ENV = {"H11P_LOOP_KEY": SECRET}


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """On SQLite, and on PostgreSQL among the slow tests; on the real clock, so a failed
    delivery waits its notify_retry_base (30 s) before it is tried again."""
    with Store.open(store_url) as opened:
        opened.upsert_site(ZD, "张店区教育和体育局 通知公告", "generic", [])
        yield opened


@pytest.fixture
def hook() -> Iterator[Webhook]:
    with Webhook() as receiver:
        yield receiver


@pytest.fixture(autouse=True)
def fast_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(push_loop, "POLL_SECONDS", 0.01)


def topic(hook: Webhook) -> Topic:
    return Topic("zd", "张店", notify=(hook.url("hook/${H11P_LOOP_KEY}"),))


def failing_first(real: Callable[[], object], errors: list[Exception]) -> Callable[[], object]:
    """`real`, which raises `errors` first, one a call."""

    def call() -> object:
        if errors:
            raise errors.pop()
        return real()

    return call


async def until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def test_the_loop_outlives_a_store_that_fails_at_startup_and_a_bug(
    store: Store, hook: Webhook, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    push = Notifier(store, [topic(hook)], BASE, FAST, environ=ENV)
    failures: dict[str, list[Exception]] = {
        "start": [StoreError("database briefly away")],  # at startup: before any run
        "run": [RuntimeError(f"a bug near {hook.url(f'hook/{SECRET}')}")],
    }
    for name, errors in failures.items():
        monkeypatch.setattr(push, name, failing_first(getattr(push, name), errors))
    states: list[str] = []

    async def main() -> None:
        loop = push_loop.PushLoop(push)
        assert loop.state() == "stopped"
        loop.start()
        await until(lambda: not any(failures.values()), "both failures")
        states.append(loop.state())
        await until(lambda: loop.state() == "running", "a whole run")
        add(store, 1)
        await until(lambda: bool(hook.titles()), "the delivery")
        health = loop.health()
        assert (health["loop"], health["failures_in_a_row"], health["last_error"]) == (
            "running",
            0,
            None,
        )
        assert health["last_run"] is not None
        await loop.stop()
        assert loop.state() == "stopped"

    with caplog.at_level(logging.ERROR, "govwatch.server.push"):
        asyncio.run(main())
    assert states == ["retrying"]
    assert hook.titles() == ["[新] 关于开展春季校园安全检查的通知"]
    assert "database briefly away" in caplog.text
    assert "RuntimeError: a bug near" in caplog.text and "Traceback" in caplog.text
    assert SECRET not in caplog.text and "***" in caplog.text


def test_a_loop_that_keeps_failing_backs_off_and_says_why(
    store: Store, hook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    push = Notifier(store, [topic(hook)], BASE, FAST, environ=ENV)
    monkeypatch.setattr(push, "run", failing_first(push.run, [StoreError(SECRET)] * 3))

    async def main() -> dict[str, Any]:
        loop = push_loop.PushLoop(push)
        loop.start()
        await until(lambda: loop.failures == 3, "three failures")
        health = loop.health()
        assert loop._delay() == 0.08  # 0.01 doubled per failure in a row
        await loop.stop()
        return health

    health = asyncio.run(main())
    assert (health["loop"], health["failures_in_a_row"], health["last_run"]) == (
        "retrying",
        3,
        None,
    )
    assert health["last_error"] == "***"
    assert push_loop.PushLoop(push)._delay() == 0.01
    monkeypatch.setattr(push_loop, "POLL_SECONDS", 2.0)
    many = push_loop.PushLoop(push)
    many.failures = 40
    assert many._delay() == push_loop.MAX_BACKOFF


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[Callable[[str], Awaitable[httpx.Response]]]:
    """The app with its lifespan (scheduler and push loop) running; yields a GET."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def get(path: str) -> httpx.Response:
                return await client.get(path)

            yield get


def pushing_app(store: Store, hook: Webhook, monkeypatch: pytest.MonkeyPatch) -> Starlette:
    monkeypatch.setenv("H11P_LOOP_KEY", SECRET)
    return create_app(store, [topic(hook)], [], Settings(base_url=BASE), scheduler=True)


def loop_up(metrics: httpx.Response) -> str:
    (line,) = [x for x in metrics.text.splitlines() if x.startswith("govwatch_push_loop_up ")]
    return line.split()[1]


def test_healthz_and_metrics_say_the_loop_was_killed(
    store: Store, hook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = pushing_app(store, hook, monkeypatch)
    hook.fail_next = 1  # a failed delivery: its error is shown, masked
    shown: list[str] = []

    async def main() -> None:
        async with serving(app) as get:
            pushes = app.state.pushes
            await until(lambda: pushes.state() == "running", "a whole run")
            add(store, 1)
            await until(lambda: target_states(store)[0].retrying == 1, "the failure")
            alive, metrics = await get("/healthz"), await get("/metrics")
            assert alive.status_code == 200, alive.text
            push = alive.json()["push"]
            assert push["loop"] == "running" and push["last_run"]
            (target,) = push["targets"]
            assert target["retrying"] == 1 and "***" in target["target"]
            assert loop_up(metrics) == "1.0"
            assert "govwatch_push_loop_last_run_timestamp_seconds " in metrics.text
            shown.extend([alive.text, metrics.text])

            pushes._task.cancel()  # as if it had died
            await asyncio.gather(pushes._task, return_exceptions=True)
            dead, metrics = await get("/healthz"), await get("/metrics")
            assert dead.status_code == 503
            assert dead.json()["status"] == "failing"
            assert dead.json()["push"]["loop"] == "stopped"
            assert dead.json()["db"]["ok"] and dead.json()["scheduler"]["running"]
            assert loop_up(metrics) == "0.0"
            shown.extend([dead.text, metrics.text])

    asyncio.run(main())
    assert all(SECRET not in text for text in shown)


def test_healthz_says_a_hung_run_stalled_the_loop(
    store: Store, hook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(push_loop, "STALE_AFTER", 0.3)
    app = pushing_app(store, hook, monkeypatch)
    pushes = app.state.pushes
    release = threading.Event()
    real_run = pushes.notifier.run

    def hung() -> Any:
        release.wait(30)  # a send or a query that never comes back
        return real_run()

    async def main() -> None:
        async with serving(app) as get:
            await until(lambda: pushes.state() == "running", "a whole run")
            monkeypatch.setattr(pushes.notifier, "run", hung)
            await until(lambda: pushes.state() == "stalled", "the stall", 5)
            stalled, metrics = await get("/healthz"), await get("/metrics")
            assert stalled.status_code == 503 and stalled.json()["push"]["loop"] == "stalled"
            assert loop_up(metrics) == "0.0"
            monkeypatch.setattr(pushes.notifier, "run", real_run)
            release.set()
            await until(lambda: pushes.state() == "running", "the run after")
            assert (await get("/healthz")).status_code == 200

    try:
        asyncio.run(main())
    finally:
        release.set()


def test_healthz_without_pushing_topics_says_off(store: Store) -> None:
    app = create_app(store, [Topic("zd", "张店")], [], Settings(base_url=BASE), scheduler=True)

    async def main() -> httpx.Response:
        async with serving(app) as get:
            return await get("/healthz")

    health = asyncio.run(main())
    assert health.status_code == 200 and health.json()["push"]["loop"] == "off"
    assert app.state.pushes is None
