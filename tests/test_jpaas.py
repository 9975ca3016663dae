"""The Hanweb jpaas flow end to end, as 靖江 runs it: https only, columns under the 信息公开
tree (`/xxgk/fdzdgknr/…/index.html`), rows from the `page/build/unit` JSON API in pages of
the unit's size, not the pageSize asked. Through the mirror over TLS with a certificate of
a CA made here (trustme), the crawler trusting that CA only through `ca_bundle`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import trustme

from govwatch.crawler.engine import Crawler, RunSummary
from govwatch.crawler.fetch import fetch as http_fetch
from govwatch.crawler.fetch import make_client
from govwatch.crawler.seeds import Seed, load_seeds
from govwatch.demo.mirror import Mirror, MirrorSite, populate
from govwatch.demo.mirror.texts import generated_texts
from govwatch.errors import FetchError
from govwatch.parsers import clean_bytes
from govwatch.settings import Settings
from govwatch.store import Store

COLUMN = "/xxgk/fdzdgknr/tzgg"
COUNT = 37
PAGE_SIZE = 10  # the unit's own: 10, 10, 10, then a short page of 7; the parser asks 15
FAST = Settings(retry_base=0.05, concurrency=16, host_concurrency=4)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_bundle(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@contextmanager
def https_site(
    ca: trustme.CA, page_size: int = PAGE_SIZE, column_path: str | None = COLUMN
) -> Iterator[Mirror]:
    """A one-site mirror serving the jpaas column over https only."""
    site = MirrorSite(
        "jingjiang-xxgk", "hanweb_jpaas", page_size=page_size, column_path=column_path
    )
    populate(site, COUNT, generated_texts())
    mirror = Mirror([site])  # gives the site its host: the certificate must name it
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(site.host).configure_cert(server)
    site.tls = server
    with mirror:
        yield mirror


def seeds_for(mirror: Mirror, tmp_path: Path) -> list[Seed]:
    mirror.seed_files(tmp_path / "seeds", rate=500.0)
    (seed,) = load_seeds(tmp_path / "seeds")
    assert seed.parser == "hanweb_jpaas" and seed.listing_urls[0].startswith("https://")
    return [seed]


def crawl(store: Store, seeds: list[Seed], settings: Settings) -> RunSummary:
    return asyncio.run(Crawler(store, settings).run(seeds))


# --- the listing over https -------------------------------------------------------------


@pytest.mark.parametrize(("page_size", "rows"), [(10, [10, 10, 10, 7]), (15, [15, 15, 7])])
def test_api_pages_are_walked_whole(ca: trustme.CA, page_size: int, rows: list[int]) -> None:
    """The parser asks pageSize 15; a unit of 10 answers 10 and says so in `rows`, and the
    short last page ends the walk with no request past it."""
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    with https_site(ca, page_size) as mirror, httpx.Client(verify=trust) as client:
        site = mirror.sites[0]
        assert site.entry_url.startswith("https://") and site.entry_url.endswith(
            f"{COLUMN}/index.html"
        )
        queue, got, sizes = [site.entry_url], [], []
        while queue:
            resp = client.get(queue.pop(0))
            assert resp.status_code == 200
            page = clean_bytes(resp.content, str(resp.url), parser="hanweb_jpaas")
            assert page.kind == "listing"
            if page.items:
                sizes.append(len(page.items))
                pager = re.search(r'rows=\\?"(\d+)\\?" count=\\?"(\d+)', resp.text)
                assert pager is not None and pager.groups() == (str(page_size), str(COUNT))
                asked = json.loads(dict(parse_qsl(urlsplit(str(resp.url)).query))["paramJson"])
                assert asked["pageSize"] == "15"
            got += [i.url for i in page.items]
            queue += page.next_pages
        assert sizes == rows
        assert got == [site.notice_url(n.id) for n in site.notices]
        notice = re.compile(rf"https://{site.host}:\d+{COLUMN}/art/20\d\d/art_[0-9a-f]{{32}}\.html")
        assert all(notice.fullmatch(url) for url in got)
        assert len(site.log) == site.flow.listing_fetches(site) == 1 + len(rows)


def test_the_col_form_still_serves(ca: trustme.CA) -> None:
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    with https_site(ca, column_path=None) as mirror, httpx.Client(verify=trust) as client:
        site = mirror.sites[0]
        assert re.search(r"/col/col\d+/index\.html$", site.entry_url)
        notice = site.notices[0]
        assert re.search(r"/art/2024/art_[0-9a-f]{32}\.html$", site.notice_url(notice.id))
        assert client.get(site.entry_url).status_code == 200
        assert client.get(site.url(f"{COLUMN}/index.html")).status_code == 404


def unit_answer(rows: int, pager: str) -> str:
    items = "".join(
        f'<li class="clearfix"><a href="/xxgk/art/2024/art_{i:032x}.html">关于第{i}项工作安排的通知</a>'
        f'<span class="bt-right">2024-06-{1 + i % 28:02d}</span></li>'
        for i in range(rows)
    )
    return json.dumps({"success": True, "data": {"html": f"<ul>{items}</ul>{pager}"}})


API_URL = (
    "https://www.jingjiang.gov.cn/api-gateway/jpaas-publish-server/front/page/build/unit"
    '?webId=1&pageId=2&paramJson={"pageNo":%d,"pageSize":"15"}'
)


@pytest.mark.parametrize(
    ("page_no", "rows", "pager", "then"),
    [
        (3, 10, '<div class="pagination" rows="10" count="37"></div>', 4),  # 30 < 37
        (4, 7, '<div class="pagination" rows="10" count="37"></div>', None),  # the short last
        # No rows=: this page's 10, not the 15 asked (3 × 15 ≥ 37 would lose the last 7)…
        (3, 10, '<div class="pagination" count="37"></div>', 4),
        (4, 7, '<div class="pagination" count="37"></div>', 5),  # …one page too many at most,
        (5, 0, '<div class="pagination" count="37"></div>', None),  # which is empty: the end.
        (2, 0, '<div class="pagination" rows="10" count="37"></div>', None),  # Whatever count says.
    ],
)
def test_parser_pages_by_the_pagers_rows(
    page_no: int, rows: int, pager: str, then: int | None
) -> None:
    page = clean_bytes(unit_answer(rows, pager).encode(), API_URL % page_no, parser="hanweb_jpaas")
    assert len(page.items) == rows
    following = [
        json.loads(dict(parse_qsl(urlsplit(u).query))["paramJson"]) for u in page.next_pages
    ]
    assert following == ([] if then is None else [{"pageNo": then, "pageSize": "15"}])


# --- crawling -----------------------------------------------------------------------------


def test_crawl_new_unchanged_then_one_more(ca: trustme.CA, ca_bundle: str, tmp_path: Path) -> None:
    settings = replace(FAST, ca_bundle=ca_bundle)
    with https_site(ca) as mirror, Store.open(f"sqlite:///{tmp_path / 'gw.db'}") as store:
        site, seeds = mirror.sites[0], seeds_for(mirror, tmp_path)
        first = crawl(store, seeds, settings).sites[site.name]
        assert (first.new, first.revised, first.removed, first.errors) == (COUNT, 0, 0, 0)
        for notice in site.notices:
            url = site.notice_url(notice.id)
            (version,) = store.history(url)
            assert (version.title, version.body) == (notice.title, notice.body), url
            assert version.meta == site.flow.expected_meta(notice), url
            assert version.meta["index_no"] and version.meta["publisher"]

        site.reset_log()
        again = crawl(store, seeds, settings).sites[site.name]
        assert (again.new, again.revised, again.removed, again.errors) == (0, 0, 0, 0)
        assert again.bytes <= 0.05 * first.bytes, (again.bytes, first.bytes)
        assert site.stats().bytes_sent <= 0.05 * first.bytes

        added = site.make_notice(
            "关于做好2024年秋季学期开学工作的通知",
            ["各学校：", "现就2024年秋季学期开学工作通知如下，请认真贯彻落实。"],
            "2024-08-20",
        )
        site.add(added)
        third = crawl(store, seeds, settings).sites[site.name]
        assert (third.new, third.revised, third.removed, third.errors) == (1, 0, 0, 0)
        (version,) = store.history(site.notice_url(added.id))
        assert (version.title, version.body) == (added.title, added.body)


def test_crawl_without_the_ca_is_one_error_not_retried(ca: trustme.CA, tmp_path: Path) -> None:
    with https_site(ca) as mirror, Store.open(f"sqlite:///{tmp_path / 'gw.db'}") as store:
        summary = crawl(store, seeds_for(mirror, tmp_path), FAST)
        stats = summary.sites[mirror.sites[0].name]
        assert (stats.new, stats.errors, stats.requests) == (0, 1, 1)
        assert mirror.stats().requests == 0  # no handshake ever completed
        (error,) = store.errors(summary.run_id)
        assert "TLS certificate not trusted" in error.message and "\n" not in error.message


def test_a_certificate_for_another_host_is_rejected_even_with_the_ca(
    ca: trustme.CA, ca_bundle: str
) -> None:
    """ca_bundle adds trust in a CA; it never excuses a certificate naming another host."""
    with https_site(ca) as mirror:
        site = mirror.sites[0]
        elsewhere = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.99").configure_cert(elsewhere)
        site.tls = elsewhere
        settings = replace(FAST, ca_bundle=ca_bundle)

        async def get() -> None:
            async with make_client(settings) as client:
                await http_fetch(client, site.entry_url, settings)

        with pytest.raises(FetchError, match="TLS certificate rejected: IP address mismatch") as e:
            asyncio.run(get())
        assert "CA_BUNDLE" not in str(e.value) and "\n" not in str(e.value)


# --- govwatch fetch -------------------------------------------------------------------------


def fetch(url: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GOVWATCH_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
    }
    return subprocess.run(
        [sys.executable, "-m", "govwatch", "fetch", url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean_env, **env},
    )


def test_fetch_trusts_the_ca_bundle_only(ca: trustme.CA, ca_bundle: str, tmp_path: Path) -> None:
    with https_site(ca) as mirror:
        site = mirror.sites[0]
        notice = site.notices[4]
        url = site.notice_url(notice.id)

        done = fetch(url, GOVWATCH_CA_BUNDLE=ca_bundle)
        assert done.returncode == 0, done.stderr
        page = json.loads(done.stdout)
        assert (page["title"], page["body"]) == (notice.title, notice.body)
        assert page["meta"] == site.flow.expected_meta(notice)

        refused = fetch(url)
        assert refused.returncode == 1 and refused.stdout == ""
        (line,) = refused.stderr.splitlines()
        assert url in line and "TLS certificate not trusted" in line, line

        not_pem = tmp_path / "not.pem"
        not_pem.write_text("no certificates here\n")
        for bundle in (str(not_pem), str(tmp_path / "missing.pem")):
            bad = fetch(url, GOVWATCH_CA_BUNDLE=bundle)
            (line,) = bad.stderr.splitlines()
            assert bad.returncode == 1 and f"ca_bundle {bundle}: cannot load" in line, line
