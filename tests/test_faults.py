"""A bad night on the sites never turns into false alarms or lost history.

A site the crawler has never seen (the mirror's plain-HTML generic flow, with a view
counter) sits behind the fault server. After a clean first crawl, every kind of fault the
server knows is switched on, one per notice page, for two crawls; then they clear. The
crawls must end within a bound derived from the settings, record each fault per URL with
its kind (and list it in the summary), create no version or event, mark nothing removed,
and leave the store exactly as it was.

With GOVWATCH_WRITE_REPORT=1 the session writes docs/reliability.md from what it saw.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from govwatch.cli.summary import crawl_table
from govwatch.crawler.engine import Crawler, RunSummary
from govwatch.crawler.fetch import Destinations, fetch, make_client
from govwatch.crawler.politeness import MAX_RETRY_AFTER
from govwatch.crawler.seeds import Seed, load_seeds
from govwatch.demo.mirror import MirrorSite, load_seed_texts, populate
from govwatch.errors import BlockedAddress, FetchError, RedirectError
from govwatch.parsers import clean, clean_bytes
from govwatch.parsers.missing import is_soft_404
from govwatch.settings import Settings
from govwatch.store import Store, database
from govwatch.store.schema import events, notices, versions
from tests.conftest import ROOT
from tests.faults import FAULTS, FaultServer, loopback_only, soft_404_page

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # a fault server and two crawls per fault kind

REPORT = ROOT / "docs" / "reliability.md"

SETTINGS = Settings(
    timeout=0.6,
    connect_timeout=0.5,
    retries=1,
    retry_base=0.05,
    max_bytes=2**20,
    max_redirects=3,
    concurrency=16,
    host_concurrency=4,
    gone_after=2,
)
RATE = 200.0
RETRY_AFTER = 1
FAST_ANSWER = 0.25
"""Seconds granted to one request the server answers at once (loopback, then parsing)."""

# What the crawler records for each fault; None: the page is read correctly, no error.
EXPECTED_KIND: dict[str, str | None] = {
    "http_500": "http_status",
    "http_502": "http_status",
    "http_503": "http_status",
    "http_429": "http_status",
    "hang": "timeout",
    "drip": "timeout",
    "reset": "reset",
    "truncate": "connection",
    "redirect_loop": "redirect",
    "redirect_chain": "redirect",
    "redirect_offsite": "redirect",
    "redirect_private": "blocked_address",
    "redirect_link_local": "blocked_address",
    "huge": "too_large",
    "garbage": "decode",
    "gbk_as_utf8": None,
    "utf8_as_gbk": None,
    "ruishu": "challenge",
    "jsl": "challenge",
    "empty": "empty",
    "soft_404": "soft_404",
}
RETRIED = {"http_500", "http_502", "http_503", "http_429", "hang", "drip", "reset", "truncate"}
STALLING = {"hang", "drip", "huge"}
WITH_RETRY_AFTER = {"http_503", "http_429"}
REDIRECTING = {"redirect_loop", "redirect_chain"}


def url_budget(fault: str | None, settings: Settings) -> float:
    """The longest one URL may take under `fault`, from the settings: attempts × (the
    whole-response timeout for a server that stalls, else a prompt answer per hop), plus
    the waits between attempts (Retry-After, capped, or the backoff ceiling)."""
    attempts = settings.retries + 1 if fault in RETRIED else 1
    hops = settings.max_redirects + 1 if fault in REDIRECTING else 1
    per_attempt = settings.timeout if fault in STALLING else FAST_ANSWER * hops
    if fault in WITH_RETRY_AFTER:
        waits = settings.retries * min(RETRY_AFTER, MAX_RETRY_AFTER)
    elif fault in RETRIED:
        waits = sum(settings.retry_base * 2**a for a in range(settings.retries))
    else:
        waits = 0.0
    return attempts * (per_attempt + 1 / RATE) + waits


@dataclass
class FaultRecord:
    """What one fault did, over every crawl that met it (for docs/reliability.md)."""

    kinds: set[str] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)
    crawls: int = 0
    backends: set[str] = field(default_factory=set)


@dataclass
class Report:
    faults: dict[str, FaultRecord] = field(default_factory=dict)
    crawls: list[tuple[str, float, float]] = field(default_factory=list)  # backend, took, bound

    def record(self, backend: str, fault: str, kind: str | None, message: str) -> None:
        entry = self.faults.setdefault(fault, FaultRecord())
        entry.crawls += 1
        entry.backends.add(backend)
        if kind is not None:
            entry.kinds.add(kind)
            entry.messages.add(message)

    def markdown(self) -> str:
        lines = [
            "# Reliability report",
            "",
            "Written by the test suite (`GOVWATCH_WRITE_REPORT=1 python -m pytest "
            "tests/test_faults.py`), from what `tests/test_faults.py` saw: a site the "
            "crawler had never seen (plain HTML listings with 下一页, notices with the usual "
            "chrome, a 信息公开 table and a view counter) behind the fault server of "
            "`tests/faults.py`. After a clean first crawl, each fault below was switched on "
            "for one notice page, for two crawls in a row; then the faults were cleared and "
            "the site crawled again.",
            "",
            f"Settings of the test: timeout {SETTINGS.timeout:g} s, connect timeout "
            f"{SETTINGS.connect_timeout:g} s, {SETTINGS.retries} retry, backoff base "
            f"{SETTINGS.retry_base:g} s, size cap {SETTINGS.max_bytes // 2**20} MiB, "
            f"{SETTINGS.max_redirects} redirects, {SETTINGS.gone_after} 404s before removal.",
            "",
            "| fault | what the server did | what govwatch did | versions / events made | lost |",
            "|---|---|---|---|---|",
        ]
        for fault, what in FAULTS.items():
            entry = self.faults.get(fault)
            if entry is None:
                did = "not tried in this run"
            elif entry.kinds:
                kinds = ", ".join(f"`{k}`" for k in sorted(entry.kinds))
                sample = min(entry.messages, key=len).replace("|", "\\|")
                did = f"recorded as {kinds} for the URL, listed in the summary (“{sample}”)"
            else:
                did = "read the page correctly (no error): the notice stayed one version"
            lines.append(f"| `{fault}` | {what} | {did} | none | nothing |")
        backends = sorted({b for e in self.faults.values() for b in e.backends})
        slowest = max(self.crawls, key=lambda c: c[1], default=("", 0.0, 0.0))
        lines += [
            "",
            f"Backends: {', '.join(backends) or '-'}. Every crawl with faults finished within "
            f"the bound computed from the settings (slowest: {slowest[1]:.1f} s of a "
            f"{slowest[2]:.1f} s bound). No crawl marked a notice `revised` or `removed`; "
            "the dump of notices, versions and events after the faults cleared equals the "
            "one before them.",
            "",
            "Also tested: a redirect or a listing link to another host, to 10.0.0.1 or to "
            "169.254.169.254 is recorded and never followed, not even when the seed lists "
            "that address among its hosts (`tests/test_faults.py`); a crawler killed with "
            "SIGKILL at random points leaves the store consistent on SQLite and PostgreSQL "
            "(`tests/test_crash.py`); bad input to the CLI gets a one-line error "
            "(`tests/test_cli_errors.py`); property tests of the decoder, the parsers and "
            "the text cleaner (`tests/test_properties.py`).",
            "",
        ]
        return "\n".join(lines)


_REPORT = Report()


@pytest.fixture(scope="session")
def report() -> Iterator[Report]:
    yield _REPORT
    if os.environ.get("GOVWATCH_WRITE_REPORT") == "1" and _REPORT.faults:
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(_REPORT.markdown(), encoding="utf-8")


@pytest.fixture
def unseen_site() -> Iterator[MirrorSite]:
    """26 notices on three listing pages, a view counter on every notice page."""
    site = MirrorSite("unseen", "generic", page_size=9, view_counter=True, agency="临江市教育局")
    populate(site, len(FAULTS) + 5, load_seed_texts())
    with site:
        yield site


def seed_file(tmp_path: Path, listing: str, *extra: str) -> list[Seed]:
    path = tmp_path / "unseen.toml"
    lines = [
        'id = "unseen"',
        'name = "临江市教育局 通知公告"',
        'parser = "generic"',
        f'listing_urls = ["{listing}"]',
        "max_pages = 5",
        'interval = "1h"',
        f"rate = {RATE}",
        *extra,
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_seeds(path)


def crawl(store: Store, seeds: list[Seed]) -> tuple[RunSummary, float]:
    started = time.monotonic()
    summary = asyncio.run(Crawler(store, SETTINGS).run(seeds))
    return summary, time.monotonic() - started


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Notices, versions and events as comparable rows: everything but times and run ids."""
    engine = sa.create_engine(database.parse_url(url))
    try:
        with engine.connect() as conn:
            url_of = dict(conn.execute(sa.select(notices.c.id, notices.c.url)).all())
            notice_rows = conn.execute(sa.select(notices)).all()
            version_rows = conn.execute(sa.select(versions)).all()
            event_rows = conn.execute(sa.select(events)).all()
    finally:
        engine.dispose()
    return {
        "notices": sorted(
            (r.url, r.site_id, r.title, r.listed_date, r.status, r.gone_count, r.current_version)
            for r in notice_rows
        ),
        "versions": sorted(
            (
                *(url_of[r.notice_id], r.number, r.content_hash, r.title, r.body),
                *(repr(r.meta), repr(r.attachments), repr(r.changed_fields), r.raw_html),
            )
            for r in version_rows
        ),
        "events": sorted(
            (url_of[r.notice_id], r.seq, r.kind, r.version, repr(r.changed_fields))
            for r in event_rows
        ),
    }


def test_every_kind_of_fault_for_two_crawls_changes_nothing(
    store_url: str, tmp_path: Path, unseen_site: MirrorSite, report: Report
) -> None:
    backend = store_url.split(":", 1)[0].split("+")[0]
    with (
        FaultServer(upstream=unseen_site.base_url, retry_after=RETRY_AFTER) as server,
        Store.open(store_url) as store,
        loopback_only() as refused,
    ):
        seeds = seed_file(tmp_path, server.url("/tzgg/index.html"))
        first, _ = crawl(store, seeds)
        stats = first.sites["unseen"]
        assert (stats.new, stats.errors) == (len(unseen_site.notices), 0)
        before = dump(store_url)

        faulty = {
            server.url(urlsplit(unseen_site.notice_url(n.id)).path): kind
            for n, kind in zip(unseen_site.notices, FAULTS, strict=False)
        }
        for url, kind in faulty.items():
            server.set_fault(urlsplit(url).path, kind)
        failing = {url: kind for url, kind in faulty.items() if EXPECTED_KIND[kind]}
        clean_urls = len(unseen_site.notices) - len(failing)
        listing_pages = 3
        healthy = len(unseen_site.notices) - len(faulty) + listing_pages
        bound = sum(url_budget(kind, SETTINGS) for kind in faulty.values())
        bound += healthy * url_budget(None, SETTINGS)
        for _ in range(2):
            summary, took = crawl(store, seeds)
            report.crawls.append((backend, took, bound))
            assert took < bound, f"a crawl with faults took {took:.1f} s, bound {bound:.1f} s"
            stats = summary.sites["unseen"]
            assert (stats.new, stats.revised, stats.removed, stats.restored) == (0, 0, 0, 0)
            assert (stats.errors, stats.unchanged) == (len(failing), clean_urls)
            recorded = {e.url: e for e in store.errors(summary.run_id)}
            assert {url: e.kind for url, e in recorded.items()} == {
                url: EXPECTED_KIND[kind] for url, kind in failing.items()
            }
            table = crawl_table(summary)
            for url, kind in failing.items():
                assert f"{EXPECTED_KIND[kind]} " in table and url in table
            assert dump(store_url) == before, "a fault changed notices, versions or events"
            for url, kind in faulty.items():
                error = recorded.get(url)
                message = error.message.replace(server.base, "http://site") if error else ""
                report.record(backend, kind, error and error.kind, message)

        server.clear()
        summary, _ = crawl(store, seeds)
        stats = summary.sites["unseen"]
        assert (stats.new, stats.revised, stats.removed, stats.errors) == (0, 0, 0, 0)
        assert stats.unchanged == len(unseen_site.notices)
        assert dump(store_url) == before
    assert refused == [], "the crawler tried to reach an address off this machine"
    assert {hit.host for hit in server.hits} == {f"127.0.0.1:{server.port}"}, (
        "a redirect off the seed's hosts was followed"
    )


def test_challenge_on_the_listing_is_reported_and_removes_nothing(
    tmp_path: Path, unseen_site: MirrorSite
) -> None:
    with (
        FaultServer(upstream=unseen_site.base_url) as server,
        Store.open(f"sqlite:///{tmp_path / 'c.db'}") as store,
    ):
        seeds = seed_file(tmp_path, server.url("/tzgg/index.html"))
        crawl(store, seeds)
        before = dump(f"sqlite:///{tmp_path / 'c.db'}")
        for fault in ("ruishu", "jsl"):
            server.set_fault("/tzgg/index.html", fault)
            summary, _ = crawl(store, seeds)
            (error,) = store.errors(summary.run_id)
            assert (error.url, error.kind) == (server.url("/tzgg/index.html"), "challenge")
            assert fault in error.message
            stats = summary.sites["unseen"]
            assert (stats.removed, stats.revised, stats.unchanged) == (
                0,
                0,
                len(unseen_site.notices),
            )
        assert dump(f"sqlite:///{tmp_path / 'c.db'}") == before


LISTING = """<html><head><meta charset="utf-8"><title>通知公告</title></head><body>
<ul class="list">{items}</ul><div class="pager"><a href="{next}">下一页</a></div></body></html>"""
NOTICE = """<html><head><meta charset="utf-8"><title>{title}</title></head><body>
<h1>{title}</h1><div class="content"><p>各学校：现将有关事项通知如下，请认真组织实施，确保各项工作落到实处。</p>
<p>一、请各校于本月底前完成自查并报送情况。</p><p>特此通知。</p></div></body></html>"""


def listing_of(paths: list[str], next_page: str) -> bytes:
    items = "".join(
        f'<li><a href="{p}">关于做好第{i}项工作的通知</a><span>2024-06-{i + 1:02d}</span></li>'
        for i, p in enumerate(paths, 1)
    )
    return LISTING.format(items=items, next=next_page).encode()


def test_private_addresses_are_refused_even_among_the_seed_hosts(tmp_path: Path) -> None:
    """The seed names 10.0.0.1 and 169.254.169.254 as its hosts, yet lives on loopback:
    a redirect or a listing link there is an error, and no connection is ever tried."""
    with FaultServer() as server, Store.open(f"sqlite:///{tmp_path / 'p.db'}") as store:
        paths = ["/a.html", "/b.html", "/c.html", "/d.html", "/e.html"]
        server.route("/list.html", listing_of(paths, "http://10.0.0.1/list_2.html"))
        for i, path in enumerate(paths[2:], 3):
            server.route(path, NOTICE.format(title=f"关于做好第{i}项工作的通知").encode())
        server.set_fault("/a.html", "redirect_private")
        server.set_fault("/b.html", "redirect_link_local")
        hosts = 'allowed_hosts = ["127.0.0.1", "10.0.0.1", "169.254.169.254"]'
        seeds = seed_file(tmp_path, server.url("/list.html"), hosts)
        with loopback_only() as refused:
            summary, _ = crawl(store, seeds)
        assert refused == []
        kinds = {e.url: e.kind for e in store.errors(summary.run_id)}
        assert kinds == {
            server.url("/a.html"): "blocked_address",
            server.url("/b.html"): "blocked_address",
            "http://10.0.0.1/list_2.html": "blocked_address",
        }
        assert summary.sites["unseen"].new == 3
        assert store.history(server.url("/a.html")) == []


def test_redirects_within_the_seed_hosts_are_followed(tmp_path: Path) -> None:
    with FaultServer() as server, Store.open(f"sqlite:///{tmp_path / 'r.db'}") as store:
        paths = ["/old.html", "/moved.html", "/c.html", "/d.html", "/e.html"]
        server.route("/list.html", listing_of(paths, "#"))
        for i, path in enumerate(paths[2:], 3):
            server.route(path, NOTICE.format(title=f"关于做好第{i}项工作的通知").encode())
        server.route("/old.html", b"", 301, headers=(("Location", "/new.html"),))
        server.route("/new.html", NOTICE.format(title="关于做好第1项工作的通知").encode())
        there = f"http://localhost:{server.port}/there.html"
        server.route("/moved.html", b"", 302, headers=(("Location", there),))
        server.route("/there.html", NOTICE.format(title="关于做好第2项工作的通知").encode())
        seeds = seed_file(
            tmp_path, server.url("/list.html"), 'allowed_hosts = ["127.0.0.1", "localhost"]'
        )
        summary, _ = crawl(store, seeds)
        assert (summary.sites["unseen"].new, summary.sites["unseen"].errors) == (5, 0)
        assert store.version(server.url("/old.html"), 1).title == "关于做好第1项工作的通知"
        assert store.version(server.url("/moved.html"), 1).title == "关于做好第2项工作的通知"


@pytest.mark.parametrize(
    ("home", "url", "refused"),
    [
        ("1.2.3.4", "http://10.0.0.1/", BlockedAddress),
        ("1.2.3.4", "http://169.254.169.254/latest/meta-data/", BlockedAddress),
        ("1.2.3.4", "http://127.0.0.1:8080/", BlockedAddress),
        ("1.2.3.4", "http://[::1]/", BlockedAddress),
        ("1.2.3.4", "http://0.0.0.0/", BlockedAddress),
        ("1.2.3.4", "http://[::ffff:10.0.0.1]/", BlockedAddress),
        ("1.2.3.4", "http://localhost/", BlockedAddress),
        ("1.2.3.4", "http://5.6.7.8/", None),
        ("127.0.0.1", "http://127.0.0.5/", None),
        ("127.0.0.1", "http://10.0.0.1/", BlockedAddress),
        ("127.0.0.1", "http://169.254.169.254/", BlockedAddress),
        ("10.1.2.3", "http://10.0.0.1/", None),
        ("10.1.2.3", "http://169.254.169.254/", BlockedAddress),
        ("1.2.3.4", "file:///etc/passwd", FetchError),
    ],
)
def test_address_policy(home: str, url: str, refused: type[Exception] | None) -> None:
    """Non-public addresses only of the kind the seed lives on; checked without connecting
    (`localhost` resolves from the hosts file)."""
    where = Destinations(None, [home])
    if refused is None:
        asyncio.run(where.check(url))
    else:
        with pytest.raises(refused):
            asyncio.run(where.check(url))


def test_hosts_off_the_seed_are_refused_without_resolving_them() -> None:
    where = Destinations(["www.example.gov.cn"], ["1.2.3.4"])
    with pytest.raises(RedirectError, match="not one of the seed's hosts"):
        asyncio.run(where.check("http://elsewhere.invalid/x.html"))


def test_fetch_by_hand_refuses_a_redirect_to_a_private_address() -> None:
    """`govwatch fetch` of a public-looking URL path: the redirect target is checked too."""

    async def get(url: str) -> None:
        async with make_client(SETTINGS) as client:
            await fetch(client, url, SETTINGS)

    with FaultServer() as server, loopback_only() as refused:
        server.set_fault("/x.html", "redirect_link_local")
        with pytest.raises(BlockedAddress, match=r"169\.254\.169\.254"):
            asyncio.run(get(server.url("/x.html")))
    assert refused == []


@pytest.mark.parametrize("message", ["很抱歉，您访问的页面不存在！", "页面不存在"])
def test_soft_404_pages_are_recognised(message: str) -> None:
    page = clean_bytes(soft_404_page(message), "http://www.example.gov.cn/tzgg/1.html")
    assert page.kind == "detail" and is_soft_404(page)


def test_a_notice_that_mentions_a_missing_page_is_a_notice() -> None:
    long = clean(
        "<html><body><h1>关于网站部分页面不存在问题的整改通知</h1><div class='content'>"
        "<p>近期发现部分栏目页面不存在或链接失效，影响群众查阅。</p>"
        "<p>请各单位于6月30日前完成自查，修复失效链接，并将整改情况报送局办公室。</p>"
        "</div></body></html>",
        "http://www.example.gov.cn/tzgg/2.html",
    )
    assert long.kind == "detail" and not is_soft_404(long)
    with_meta = clean(
        "<html><body><table><tr><td>索引号</td><td>0001/2024-1</td></tr></table>"
        "<h1>页面不存在</h1><div class='content'><p>页面不存在</p></div></body></html>"
    )
    assert not is_soft_404(with_meta)


def test_the_committed_report_lists_every_fault_kind() -> None:
    text = REPORT.read_text(encoding="utf-8")
    missing = [kind for kind in FAULTS if f"| `{kind}` |" not in text]
    assert not missing, f"docs/reliability.md lacks {missing}: rerun with GOVWATCH_WRITE_REPORT=1"
    assert "| nothing |" in text
