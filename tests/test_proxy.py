"""Proxies and why a site cannot be reached, as a user meets them: a geo-fenced site on
127.0.0.x that never answers this machine, a forwarding proxy that reaches it, and
`govwatch check`, `crawl`, `sites` and `/healthz` run as processes.

The site's address (127.0.0.8) is blackholed from here: its listening socket's accept
queue is full, so the kernel drops every SYN and a connect times out, as one to a
geo-fenced site does. The proxy stands in another network, where that address leads to the
site (127.0.0.7), which answers only clients from the proxy's address 127.0.0.9.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from govwatch.crawler.fetch import Response, fetch, make_client
from govwatch.crawler.pages import PageFailure, read_page
from govwatch.crawler.proxy import mask, no_proxy_patterns
from govwatch.errors import ConfigError, GovwatchError, NoAnswer, Refused, TLSFailure
from govwatch.settings import Settings
from tests.conftest import ROOT, LocalServer
from tests.test_server import free_port, wait_for

SITE, BLACKHOLE, EGRESS = "127.0.0.7", "127.0.0.8", "127.0.0.9"
USER, SECRET = "crawler", "s3cr3t-pw"
PAGES, PER_PAGE = 2, 3
ENV = {"GOVWATCH_CONNECT_TIMEOUT": "0.5", "GOVWATCH_TIMEOUT": "5", "GOVWATCH_RETRIES": "0"}
NO_ANSWER = "no answer from the site (blackholed or geo-fenced?): try a proxy"


def listing(page: int) -> bytes:
    rows = "".join(
        f'<li><a href="/tzgg/{n}.html">关于做好第{n}批校园安全检查工作的通知</a>'
        f"<span>2024-06-{10 + n:02d}</span></li>"
        for n in range(page * PER_PAGE, (page + 1) * PER_PAGE)
    )
    pager = f'<a href="/tzgg/index_{page + 1}.html">下一页</a>' if page + 1 < PAGES else ""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>通知公告</title></head><body>'
        f'<div class="list"><ul>{rows}</ul></div><div class="page">{pager}</div></body></html>'
    ).encode()


def notice(n: int) -> bytes:
    body = "".join(
        f"<p>各学校：为切实做好校园安全工作，现将第{n}批检查有关事项通知如下，第{k}条。</p>"
        for k in range(6)
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>通知</title></head><body>'
        f"<h1>关于做好第{n}批校园安全检查工作的通知</h1><div>发布日期：2024-06-10</div>"
        f'<div class="content">{body}</div></body></html>'
    ).encode()


def pages() -> dict[str, bytes]:
    found = {"/tzgg/index.html": listing(0)}
    found |= {f"/tzgg/index_{p}.html": listing(p) for p in range(1, PAGES)}
    return found | {f"/tzgg/{n}.html": notice(n) for n in range(PAGES * PER_PAGE)}


class _Site(BaseHTTPRequestHandler):
    """Answers the proxy's address only; any other client is left hanging."""

    def do_GET(self) -> None:
        if self.client_address[0] != EGRESS:
            time.sleep(3)
            return
        body = pages().get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class Proxy:
    """A forwarding HTTP proxy: absolute-URI GETs with Basic credentials, connecting out
    from EGRESS, where the blackholed address leads to the site."""

    routes: dict[tuple[str, int], tuple[str, int]]
    seen: list[str] = field(default_factory=list)

    def handle(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk:
                return
            head += chunk
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        self.seen.append(target)
        token = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
        if headers.get("Proxy-Authorization") != f"Basic {token}":
            client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n")
            client.sendall(b"Content-Length: 0\r\nConnection: close\r\n\r\n")
            return
        url = urlsplit(target)
        where = self.routes.get((url.hostname or "", url.port or 80))
        if where is None:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with socket.create_connection(where, timeout=5, source_address=(EGRESS, 0)) as out:
            out.sendall(f"{method} {url.path} HTTP/1.0\r\nHost: {url.netloc}\r\n\r\n".encode())
            while chunk := out.recv(65536):
                client.sendall(chunk)


@dataclass
class Socks:
    """A SOCKS5 proxy (RFC 1928, user and password of RFC 1929) that connects out from
    EGRESS, where the blackholed address leads to the site."""

    routes: dict[tuple[str, int], tuple[str, int]]
    seen: list[tuple[str, int]] = field(default_factory=list)

    def handle(self, client: socket.socket) -> None:
        def read(n: int) -> bytes:
            data = b""
            while len(data) < n and (chunk := client.recv(n - len(data))):
                data += chunk
            return data

        read(read(2)[1])  # the methods offered
        client.sendall(b"\x05\x02")  # user and password, please
        user = read(read(2)[1])
        password = read(read(1)[0])
        if (user, password) != (USER.encode(), SECRET.encode()):
            client.sendall(b"\x01\x01")
            return
        client.sendall(b"\x01\x00")
        _, _, _, kind = read(4)
        host = socket.inet_ntoa(read(4)) if kind == 1 else read(read(1)[0]).decode()
        port = int.from_bytes(read(2), "big")
        self.seen.append((host, port))
        with socket.create_connection(
            self.routes[(host, port)], timeout=5, source_address=(EGRESS, 0)
        ) as out:
            client.sendall(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
            threading.Thread(target=_pump, args=(out, client), daemon=True).start()
            _pump(client, out)


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        return  # the other side closed


@dataclass
class World:
    site_url: str
    proxy_url: str
    proxy: Proxy
    socks_url: str
    socks: Socks


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    site = ThreadingHTTPServer((SITE, 0), _Site)
    site.daemon_threads = True
    blackhole = socket.socket()
    blackhole.bind((BLACKHOLE, 0))
    blackhole.listen(0)
    filler = socket.create_connection(blackhole.getsockname())  # the accept queue is full
    routes = {blackhole.getsockname(): site.server_address[:2]}
    proxy, socks = Proxy(routes), Socks(routes)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            proxy.handle(self.request)

    class SocksHandler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            socks.handle(self.request)

    relay = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    socks_relay = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SocksHandler)
    servers = (site, relay, socks_relay)
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = blackhole.getsockname()
    try:
        yield World(
            f"http://{host}:{port}/tzgg/index.html",
            f"http://{USER}:{SECRET}@127.0.0.1:{relay.server_address[1]}",
            proxy,
            f"socks5://{USER}:{SECRET}@127.0.0.1:{socks_relay.server_address[1]}",
            socks,
        )
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
        filler.close()
        blackhole.close()


def write_seed(directory: Path, url: str, proxy: str | None, seed_id: str = "fenced") -> Path:
    directory.mkdir(exist_ok=True)
    text = (
        f'id = "{seed_id}"\nname = "某某市教育局 通知公告"\nparser = "generic"\n'
        f'listing_urls = ["{url}"]\ninterval = "1h"\nrate = 200.0\nmax_pages = {PAGES}\n'
    )
    if proxy:
        text += f'proxy = "{proxy}"\n'
    path = directory / f"{seed_id}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govwatch", *args],
        capture_output=True,
        encoding="utf-8",
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **ENV, **env},
    )


def shown(out: subprocess.CompletedProcess[str]) -> str:
    """Everything a command printed, which must never hold the proxy's password."""
    text = out.stdout + out.stderr
    assert SECRET not in text and USER not in text.replace("***@", "")
    return text


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_a_geofenced_site_is_crawled_whole_through_its_proxy(
    world: World, tmp_path: Path, scheme: str
) -> None:
    proxy_url = world.proxy_url if scheme == "http" else world.socks_url
    seeds = tmp_path / "seeds"
    write_seed(seeds, world.site_url, proxy_url)
    listed = run("sites", "--seeds", str(seeds))
    assert listed.returncode == 0, listed.stderr
    assert f"via {scheme}://***@127.0.0.1:{urlsplit(proxy_url).port}" in shown(listed)

    checked = run("check", "fenced", "--seeds", str(seeds))
    assert checked.returncode == 0, shown(checked)
    assert f"proxy     {scheme}://***@127.0.0.1:" in shown(checked)
    assert "result    works" in checked.stdout

    crawled = run("crawl", "--seeds", str(seeds), "--db", f"sqlite:///{tmp_path / 'g.db'}")
    assert crawled.returncode == 0, shown(crawled)
    label = "某某市教育局 通知公告 (fenced)"
    row = next(line for line in crawled.stdout.splitlines() if line.startswith(label))
    counts = row.removeprefix(label).split()
    new, errors = int(counts[0]), int(counts[5])
    assert (new, errors) == (PAGES * PER_PAGE, 0), crawled.stdout
    if scheme == "http":
        assert f"{urlsplit(world.site_url).netloc}/tzgg/index_1.html" in " ".join(world.proxy.seen)
    else:
        assert world.socks.seen[-1] == (
            urlsplit(world.site_url).hostname,
            urlsplit(world.site_url).port,
        )


def test_without_the_proxy_check_and_crawl_say_no_answer_try_a_proxy(
    world: World, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    write_seed(seeds, world.site_url, None)
    checked = run("check", "fenced", "--seeds", str(seeds))
    assert checked.returncode != 0
    (line,) = checked.stderr.strip().splitlines()
    assert line.startswith("Error: fenced does not work: listing: ") and NO_ANSWER in line, line
    assert "set `proxy = " in checked.stdout

    crawled = run("crawl", "--seeds", str(seeds), "--db", f"sqlite:///{tmp_path / 'g.db'}")
    assert crawled.returncode == 1
    assert f"(fenced): unreachable: no listing page could be read (1 failed): {NO_ANSWER}" in (
        crawled.stdout
    )
    assert "no_answer" in crawled.stdout


def test_proxy_credentials_never_appear_in_output_errors_or_healthz(
    world: World, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    wrong = world.proxy_url.replace(SECRET, f"{SECRET}-old")
    write_seed(seeds, world.site_url, wrong, "wrong-password")
    dead = f"http://{USER}:{SECRET}@127.0.0.1:{free_port()}"
    write_seed(seeds, world.site_url, dead, "dead-proxy")
    bad = seeds / "bad.toml"
    write_seed(seeds, world.site_url, f"ftp://{USER}:{SECRET}@proxy.example", "bad")
    db = f"sqlite:///{tmp_path / 'g.db'}"

    refused = run("sites", "--seeds", str(seeds))
    assert refused.returncode != 0 and "proxy: not a proxy URL" in shown(refused)
    bad.unlink()
    for seed in ("wrong-password", "dead-proxy"):
        assert run("check", seed, "--seeds", str(seeds)).returncode != 0
        shown(run("check", seed, "--seeds", str(seeds)))
    crawled = run("crawl", "--seeds", str(seeds), "--db", db)
    assert "HTTP 407" in shown(crawled) and "connection refused" in crawled.stdout
    assert "proxy http://***@127.0.0.1:" in crawled.stdout
    shown(run("fetch", world.site_url, GOVWATCH_PROXY=dead))
    bad_env = run("fetch", world.site_url, GOVWATCH_PROXY=f"gopher://{USER}:{SECRET}@x")
    assert bad_env.returncode == 1 and "proxy: not a proxy URL" in shown(bad_env)

    port = free_port()
    command = [sys.executable, "-m", "govwatch", "serve", "--seeds", str(seeds), "--db", db]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as server:
        try:

            def crawled() -> str | None:
                try:
                    answer = httpx.get(f"http://127.0.0.1:{port}/healthz")
                except httpx.HTTPError:
                    return None
                sites = answer.json()["sites"]
                done = all(sites.get(s, {}).get("health") for s in ("dead-proxy", "wrong-password"))
                return answer.text if done else None

            healthz = wait_for(crawled, 60, "both seeds crawled")
        finally:
            server.terminate()
            out, err = server.communicate(timeout=60)
    assert SECRET not in healthz and SECRET not in out + err
    assert '"unhealthy_sites":["dead-proxy","wrong-password"]' in healthz
    assert "the proxy cannot be reached or refuses its credentials" in healthz


# --- the kinds of failure, and NO_PROXY ---------------------------------------------

FAST = Settings(connect_timeout=0.5, timeout=3, retries=0)


def test_a_refused_a_blackholed_and_a_tls_failure_are_told_apart(
    world: World, http_server: LocalServer
) -> None:
    plain = http_server.page("/x.html", b"<p>x</p>")

    async def fails(url: str) -> BaseException:
        async with make_client(FAST) as client:
            try:
                await fetch(client, url, FAST)
            except GovwatchError as exc:
                return exc
        raise AssertionError(f"{url} was fetched")

    assert isinstance(asyncio.run(fails(world.site_url)), NoAnswer)
    assert isinstance(asyncio.run(fails(f"http://127.0.0.1:{free_port()}/")), Refused)
    tls = asyncio.run(fails(plain.replace("http://", "https://")))
    assert isinstance(tls, TLSFailure) and "TLS handshake failed" in str(tls)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (403, b"<html><body>Forbidden</body></html>", "waf"),
        (406, b"<html><body>Not Acceptable</body></html>", "waf"),
        # A bare 412 is taken for 瑞数's (its markers may be obfuscated); a block page is not.
        (412, f"<p>{'您的访问请求可能对网站造成安全威胁，已被拦截。' * 20}</p>".encode(), "waf"),
        (412, b"<html><body></body></html>", "challenge"),
        (404, b"<html><body>Not Found</body></html>", "http_status"),
    ],
)
def test_a_waf_status_without_a_challenge_is_a_waf(status: int, body: bytes, kind: str) -> None:
    resp = Response("http://127.0.0.1/", status, body, "text/html", {})
    with pytest.raises(PageFailure) as refused:
        read_page(resp, "generic", "listing")
    assert refused.value.kind == kind


def test_no_proxy_hosts_bypass_a_configured_proxy(
    http_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = http_server.page("/direct.html", b"<p>direct</p>")
    dead = f"http://{USER}:{SECRET}@127.0.0.1:{free_port()}"

    async def status() -> int:
        async with make_client(FAST, dead) as client:
            return (await fetch(client, url, FAST)).status

    monkeypatch.setenv("NO_PROXY", "example.org, 127.0.0.1")
    assert asyncio.run(status()) == 200
    monkeypatch.setenv("NO_PROXY", "example.org")
    with pytest.raises(Refused) as refused:
        asyncio.run(status())
    assert SECRET not in str(refused.value)


def test_no_proxy_patterns_read_as_curl_and_httpx_read_them() -> None:
    env = {"no_proxy": "gov.cn, .example.org,10.0.0.1,::1"}
    assert no_proxy_patterns(env) == [
        "all://gov.cn",
        "all://*.gov.cn",
        "all://example.org",
        "all://*.example.org",
        "all://10.0.0.1",
        "all://[::1]",
    ]
    assert no_proxy_patterns({"NO_PROXY": "*"}) == ["all://"]


def test_mask_hides_the_user_and_password_of_every_url() -> None:
    text = "via socks5://u:p@h:1 and http://user@10.0.0.1:3128/ and http://plain/x@y"
    assert mask(text) == "via socks5://***@h:1 and http://***@10.0.0.1:3128/ and http://plain/x@y"


def test_a_stub_page_is_named_not_taken_for_an_empty_column(http_server: LocalServer) -> None:
    url = http_server.page("/tzgg/index.html", b"<html><head></head><body></body></html>")
    out = run("check", url)
    (line,) = out.stderr.strip().splitlines()
    assert out.returncode == 1 and "a stub page answers instead of the column" in line, line


def test_the_browser_takes_the_proxy_apart_and_refuses_a_socks_login() -> None:
    from govwatch.crawler.proxy import browser_proxy

    assert browser_proxy("http://u%40x:s%3Acret@10.0.0.1:3128", {"NO_PROXY": "gov.cn"}) == {
        "server": "http://10.0.0.1:3128",
        "bypass": "gov.cn,<-loopback>",
        "username": "u@x",
        "password": "s:cret",
    }
    assert browser_proxy("socks5://10.0.0.1:1080", {}) == {
        "server": "socks5://10.0.0.1:1080",
        "bypass": "<-loopback>",
    }
    assert browser_proxy("http://10.0.0.1:3128", {"NO_PROXY": "*"}) is None
    with pytest.raises(ConfigError, match=r"cannot log in to a SOCKS proxy") as caught:
        browser_proxy(f"socks5://{USER}:{SECRET}@10.0.0.1:1080", {})
    assert SECRET not in str(caught.value)
