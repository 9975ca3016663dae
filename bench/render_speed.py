"""Rendered listing pages per second, and the memory of the one browser that renders them.

Run by hand:  python bench/render_speed.py [--pages 60] [--rows 20]

Serves a script-built column on 127.0.0.1 (an empty list that a script fills from a JSON
API), renders its pages through crawler.render.Renderer (the `chromium` setting, unpaced,
POOL pages at once) and prints pages/s and the peak memory of the browser's processes
while rendering: the sum of their RSS (shared pages counted in each process) and of their
PSS (shared pages split among them: what the browser really costs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from govwatch.crawler.render import Renderer
from govwatch.parsers import clean
from govwatch.settings import Settings

SHELL = b"""<html><head><meta charset="utf-8"><title>bench</title></head><body><ul id="rows"></ul>
<script>
var n = new URLSearchParams(location.search).get("p") || "1";
fetch("/api/" + "list?p=" + n).then(function (r) { return r.json(); }).then(function (d) {
  document.getElementById("rows").innerHTML = d.rows.map(function (r) {
    return '<li><a href="' + r.u + '">' + r.t + "</a><span>" + r.d + "</span></li>";
  }).join("");
});
</script></body></html>"""


def serve(rows: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/api/list":
                page = int(parse_qs(parts.query).get("p", ["1"])[0])
                items = [
                    {
                        "u": f"/n{page}-{i}.html",
                        "t": f"关于第{page}-{i}项工作的通知",
                        "d": "2024-06-01",
                    }
                    for i in range(rows)
                ]
                body, kind = json.dumps({"rows": items}).encode(), "application/json"
            else:
                body, kind = SHELL, "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def browser_memory() -> tuple[int, int]:
    """(RSS, PSS) in bytes summed over this process's descendants: the browser's."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    me, rss, pss = os.getpid(), 0, 0
    for pid in parents:
        up = parents.get(pid)
        while up and up != me:
            up = parents.get(up)
        if up != me:
            continue
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:
            continue
    return rss, pss


@asynccontextmanager
async def unpaced(_host: str) -> AsyncIterator[None]:
    yield


async def run(base: str, pages: int, rows: int) -> None:
    renderer = Renderer(Settings.from_env())
    peak = [0, 0]
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            rss, pss = browser_memory()
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            await asyncio.sleep(0.2)

    async def one(n: int) -> int:
        rendered = await renderer.render(f"{base}/list.html?p={n}", unpaced)
        return len(clean(rendered.html, rendered.url, parser="generic", expect="listing").items)

    try:
        await renderer.render(f"{base}/list.html?p=0", unpaced)  # the browser's start-up
        sampler = asyncio.create_task(sample())
        started = time.perf_counter()
        listed = await asyncio.gather(*(one(n) for n in range(1, pages + 1)))
        elapsed = time.perf_counter() - started
        done.set()
        await sampler
    finally:
        await renderer.close()
    assert all(n == rows for n in listed), f"a page listed {min(listed)} of {rows} rows"
    mib = 1024 * 1024
    print(f"rendered listing pages: {pages} of {rows} rows each in {elapsed:.2f} s")
    print(f"pages/s:                {pages / elapsed:.2f} (page load + settle, 2 pages at once)")
    print(f"browser peak RSS sum:   {peak[0] / mib:.0f} MiB (shared pages counted per process)")
    print(f"browser peak PSS sum:   {peak[1] / mib:.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--rows", type=int, default=20)
    args = ap.parse_args()
    httpd = serve(args.rows)
    try:
        asyncio.run(run(f"http://127.0.0.1:{httpd.server_address[1]}", args.pages, args.rows))
    finally:
        httpd.shutdown()


if __name__ == "__main__":
    main()
