"""Listings built by scripts, rendered in Debian's headless Chromium (`render = true`): a
local column whose pages list nothing in their HTML and fill the list from a JSON endpoint
no parser knows, its URL computed in the script, with next-page links the script writes."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from govwatch.cli.summary import crawl_table
from govwatch.crawler.probe import check_seed
from govwatch.crawler.seeds import Seed, load_seeds
from govwatch.crawler.survey import survey
from govwatch.settings import Settings
from govwatch.store import Store
from tests.conftest import LocalServer
from tests.test_crawl import FAST, NOTICE, crawl
from tests.test_server import require_tool

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # headless Chromium

PAGES = 3
PER_PAGE = 4
RATE = 2.0
SHELL = """<html><head><meta charset="utf-8"><title>通知公告</title></head><body>
<h1>通知公告</h1><ul id="rows"></ul><div id="pager"></div>
<script>
var n = parseInt(new URLSearchParams(location.search).get("p") || "1", 10);
fetch("/api/" + "list?p=" + n).then(function (r) { return r.json(); }).then(function (d) {
  var rows = document.getElementById("rows");
  d.rows.forEach(function (row) {
    var li = document.createElement("li");
    li.innerHTML = '<a href="' + row.u + '">' + row.t + "</a><span>" + row.d + "</span>";
    rows.appendChild(li);
  });
  if (n < d.pages) {
    document.getElementById("pager").innerHTML =
      '<a href="list.html?p=1">首页</a><a href="list.html?p=' + (n + 1) + '">下一页</a>';
  }
});
</script></body></html>"""


def title(i: int) -> str:
    return f"关于第{i}项工作安排的通知"


class Column:
    """The script-built column on a LocalServer, logging when each request came."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.times: list[tuple[float, str]] = []
        self.serve("/col/list.html", SHELL.encode())
        for p in range(1, PAGES + 1):
            self.serve(f"/col/list.html?p={p}", SHELL.encode())
            first = (p - 1) * PER_PAGE + 1
            rows = [
                {"u": f"/n{i}.html", "t": title(i), "d": f"2024-06-{i:02d}"}
                for i in range(first, first + PER_PAGE)
            ]
            body = json.dumps({"rows": rows, "pages": PAGES}, ensure_ascii=False).encode()
            self.serve(f"/api/list?p={p}", body, "application/json; charset=utf-8")
        for i in range(1, PAGES * PER_PAGE + 1):
            self.serve(f"/n{i}.html", NOTICE.replace("第1项".encode(), f"第{i}项".encode()))
        self.serve("/plain/list.html", PLAIN.encode())

    def serve(self, path: str, body: bytes, kind: str = "text/html; charset=utf-8") -> None:
        def answer(_h: object) -> tuple[int, dict[str, str], bytes]:
            self.times.append((time.monotonic(), path))
            return 200, {"Content-Type": kind}, body

        self.server.routes[path] = answer

    def loads(self) -> int:
        return sum(path.startswith("/col/") for _, path in self.times)


PLAIN = "<html><body><ul>{}</ul></body></html>".format(
    "".join(
        f'<li><a href="/n{i}.html">{title(i)}</a><span>2024-06-{i:02d}</span></li>' for i in (1, 2)
    )
)


@pytest.fixture
def column(http_server: LocalServer) -> Iterator[Column]:
    require_tool("chromium", "chromium")
    yield Column(http_server)


def write_seed(path: Path, seed_id: str, url: str, *, render: bool) -> None:
    path.mkdir(exist_ok=True)
    (path / f"{seed_id}.toml").write_text(
        f'id = "{seed_id}"\nname = "{seed_id}"\nparser = "generic"\nlisting_urls = ["{url}"]\n'
        f'interval = "1h"\nrate = {RATE}\nmax_pages = 10\nrender = {str(render).lower()}\n',
        encoding="utf-8",
    )


def test_a_script_built_column_is_crawled_whole_and_politely(
    column: Column, tmp_path: Path
) -> None:
    write_seed(tmp_path / "seeds", "js", column.server.base + "/col/list.html", render=True)
    seeds = load_seeds(tmp_path / "seeds")
    with Store.open(f"sqlite:///{tmp_path / 'r.db'}") as store:
        first = crawl(store, seeds).sites["js"]
        total = PAGES * PER_PAGE
        assert (first.new, first.errors, first.listing_read) == (total, 0, PAGES)
        assert {e.url for e in store.events(kind="new")} == {
            f"{column.server.base}/n{i}.html" for i in range(1, total + 1)
        }
        assert column.loads() == PAGES
        # The browser's requests: page loads and what their scripts asked for.
        starts = sorted(t for t, path in column.times if not path.startswith("/n"))
        closest = min(b - a for a, b in itertools.pairwise(starts))
        # Arrival times jitter by the server's threads; the gate paces when requests start.
        assert closest >= 0.8 / RATE, "two requests to the host closer than its rate allows"

        column.times.clear()
        again = crawl(store, seeds).sites["js"]
        assert (again.new, again.errors) == (0, 0)
        assert column.loads() == 1, "a re-crawl stops at the first page of known notices"


def test_without_chromium_a_render_seed_fails_in_one_line_and_others_crawl(
    column: Column, tmp_path: Path
) -> None:
    base = column.server.base
    write_seed(tmp_path / "seeds", "js", base + "/col/list.html", render=True)
    write_seed(tmp_path / "seeds", "plain", base + "/plain/list.html", render=False)
    seeds = load_seeds(tmp_path / "seeds")
    missing = replace(FAST, chromium=str(tmp_path / "no-chromium"))
    with Store.open(f"sqlite:///{tmp_path / 'n.db'}") as store:
        summary = crawl(store, seeds, missing)
        plain, js = summary.sites["plain"], summary.sites["js"]
        assert (plain.new, plain.errors) == (2, 0)
        assert (js.new, js.errors) == (0, 1)
        (failure,) = summary.failures
        assert failure.kind == "render" and "\n" not in failure.message
        assert failure.message.startswith(f"no browser at {tmp_path / 'no-chromium'}")
        assert summary.health["js"].status == "unreachable"
        assert "render  " in crawl_table(summary) and "no browser at" in crawl_table(summary)
    assert column.loads() == 0


def test_check_names_the_json_the_list_is_filled_from(column: Column) -> None:
    url = column.server.base + "/col/list.html"
    seed = Seed("js", "js", "generic", (url,), 5, timedelta(hours=1), (), rate=50.0, render=True)
    report = asyncio.run(check_seed(seed, FAST))
    assert report.works and len(report.items) == PER_PAGE
    assert report.json_urls[0] == column.server.base + "/api/list?p=1"
    assert report.second is not None and report.second.page is not None
    assert len(report.second.page.items) == PER_PAGE


def test_add_offers_render_for_a_script_shell(column: Column) -> None:
    url = column.server.base + "/col/list.html"
    found = asyncio.run(
        survey(
            url,
            Settings(retry_base=0.05),
            pick=lambda _home: pytest.fail(),
            seed_id=None,
            used=set(),
        )
    )
    assert found.column.render and found.seed.render
    assert found.report.works


class RecordingProxy:
    """A forwarding HTTP proxy on 127.0.0.1 that notes every URL asked through it."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        seen = self.seen

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = self.request.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
                seen.append(target)
                url = urlsplit(target)
                with socket.create_connection((url.hostname, url.port or 80), timeout=5) as out:
                    query = f"?{url.query}" if url.query else ""
                    out.sendall(
                        f"{method} {url.path}{query} HTTP/1.0\r\nHost: {url.netloc}\r\n\r\n".encode()
                    )
                    while data := out.recv(65536):
                        self.request.sendall(data)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def test_a_render_seed_with_a_proxy_renders_through_it(column: Column, tmp_path: Path) -> None:
    """The pages the browser loads and the JSON their scripts read go through the seed's
    proxy, as the seed's other requests do."""
    proxy = RecordingProxy()
    threading.Thread(target=proxy.server.serve_forever, daemon=True).start()
    try:
        write_seed(tmp_path / "seeds", "js", column.server.base + "/col/list.html", render=True)
        seed_file = tmp_path / "seeds" / "js.toml"
        seed_file.write_text(seed_file.read_text() + f'proxy = "{proxy.url}"\n', encoding="utf-8")
        with Store.open(f"sqlite:///{tmp_path / 'r.db'}") as store:
            stats = crawl(store, load_seeds(tmp_path / "seeds")).sites["js"]
        assert (stats.new, stats.errors) == (PAGES * PER_PAGE, 0)
        through = {
            urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else "")
            for url in proxy.seen
        }
        assert {f"/api/list?p={p}" for p in range(1, PAGES + 1)} <= through
        assert "/col/list.html" in through and "/n1.html" in through
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()


SCRIPT_NOTICE = """<html><head><meta charset="utf-8"><title>{title}</title></head><body>
<h1>{title}</h1><div class="content" id="text"></div>
<script>
fetch("/api/" + "text?i={i}").then(function (r) {{ return r.json(); }}).then(function (d) {{
  document.getElementById("text").innerHTML = d.paragraphs.map(function (p) {{
    return "<p>" + p + "</p>";
  }}).join("");
}});
</script></body></html>"""


def test_render_notices_reads_notices_written_by_scripts(column: Column, tmp_path: Path) -> None:
    """A plain listing whose notices hold no text until their scripts fetch it: with
    `render_notices = true` every notice is stored with its text."""
    links = "".join(
        f'<li><a href="/s{i}.html">{title(i)}</a><span>2024-06-{i:02d}</span></li>' for i in (1, 2)
    )
    column.serve("/s/list.html", f"<html><body><ul>{links}</ul></body></html>".encode())
    for i in (1, 2):
        column.serve(f"/s{i}.html", SCRIPT_NOTICE.format(title=title(i), i=i).encode())
        text = {"paragraphs": ["各单位：", f"请按时完成第{i}项工作，并于月底前报送总结。"]}
        column.serve(f"/api/text?i={i}", json.dumps(text, ensure_ascii=False).encode())
    write_seed(tmp_path / "seeds", "sn", column.server.base + "/s/list.html", render=False)
    seed_file = tmp_path / "seeds" / "sn.toml"
    seed_file.write_text(seed_file.read_text() + "render_notices = true\n", encoding="utf-8")
    with Store.open(f"sqlite:///{tmp_path / 'r.db'}") as store:
        stats = crawl(store, load_seeds(tmp_path / "seeds")).sites["sn"]
        assert (stats.new, stats.errors) == (2, 0)
        (only,) = store.history(column.server.base + "/s2.html")
        assert "请按时完成第2项工作" in only.body

    # Without it, the same notices have no text: an error each, nothing stored.
    seed_file.write_text(seed_file.read_text().replace("render_notices = true\n", ""), "utf-8")
    with Store.open(f"sqlite:///{tmp_path / 'plain.db'}") as store:
        stats = crawl(store, load_seeds(tmp_path / "seeds")).sites["sn"]
        assert (stats.new, stats.errors) == (0, 2)
