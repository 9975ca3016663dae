"""The notice and diff pages in a real browser: Debian's headless chromium renders them at
phone and desktop widths. GOVWATCH_UPDATE_SCREENSHOTS=1 writes the screenshots to
docs/screenshots/, where the committed ones show what the pages look like."""

from __future__ import annotations

import os
import struct
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from govwatch.demo.mirror import demo_mirror
from govwatch.feeds.topics import load_topics
from govwatch.store import Store
from tests.conftest import ROOT
from tests.test_server import ADDED, crawl, live_server, require_tool, revise, write_seeds

pytestmark = pytest.mark.slow  # headless Chromium

SIZES = {"phone": (390, 1100), "desktop": (1280, 1000)}
SCREENSHOTS = ROOT / "docs" / "screenshots"
UPDATE = os.environ.get("GOVWATCH_UPDATE_SCREENSHOTS") == "1"
NEW_DOC_NO = "青教发〔2024〕99号"


@dataclass(frozen=True)
class Served:
    base: str
    notice_id: int
    title: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A notice revised once (text and 文号) on the unseen-site flow, served without the
    scheduler."""
    root = tmp_path_factory.mktemp("browser")
    with demo_mirror() as mirror, Store.open(f"sqlite:///{root / 'govwatch.db'}") as store:
        seeds = write_seeds(mirror, root / "seeds", "generic")
        crawl(store, seeds)
        site = mirror.site("generic")
        index = next(i for i, n in enumerate(site.notices) if "校园安全" in n.title)
        notice = site.notice(revise(site, index))
        notice.meta["doc_no"] = NEW_DOC_NO
        crawl(store, seeds)
        row = store.notice(site.notice_url(notice.id))
        assert row is not None and row.current_version == 2
        with live_server(store, seeds, load_topics(None), scheduler=False) as base:
            yield Served(base, row.id, notice.title)


def chromium(profile: Path, *args: str) -> str:
    exe = require_tool("chromium", "chromium")
    command = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=True)
    return done.stdout


def png_facts(data: bytes) -> tuple[int, int, int]:
    """(width, height, distinct byte values of the pixel data): a blank page has few."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    pixels, at = b"", 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        if kind == b"IDAT":
            pixels += data[at + 8 : at + 8 + length]
        at += 12 + length
    return width, height, len(set(zlib.decompress(pixels)))


def cjk_font_installed() -> bool:
    try:
        fonts = subprocess.run(
            ["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=30
        ).stdout
    except FileNotFoundError:
        return False
    return bool(fonts.strip())


@pytest.mark.parametrize("page", ["notice", "diff"])
@pytest.mark.parametrize("size", sorted(SIZES))
def test_pages_render_in_chromium(served: Served, page: str, size: str, tmp_path: Path) -> None:
    if UPDATE and not cjk_font_installed():
        pytest.fail("screenshots need a CJK font (fonts-noto-cjk), or Chinese shows as boxes")
    url = f"{served.base}/notices/{served.notice_id}"
    if page == "diff":
        url += "/diff?from=1&to=2"
    dom = chromium(tmp_path / "dom-profile", "--dump-dom", url)
    assert served.title in dom
    if page == "diff":
        assert f"<ins>{ADDED}</ins>" in dom and "<del>" in dom
        assert f"<ins>{NEW_DOC_NO}</ins>" in dom
    else:
        assert ADDED in dom and NEW_DOC_NO in dom and '<th scope="row">索引号</th>' in dom

    width, height = SIZES[size]
    shot = (SCREENSHOTS if UPDATE else tmp_path) / f"{page}-{size}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    chromium(
        tmp_path / "shot-profile", f"--screenshot={shot}", f"--window-size={width},{height}", url
    )
    data = shot.read_bytes()
    assert len(data) > 20_000, "a screenshot this small shows next to nothing"
    got_width, got_height, distinct = png_facts(data)
    assert (got_width, got_height) == (width, height)
    assert distinct > 50, "the screenshot is (nearly) blank"


@pytest.mark.parametrize("size", sorted(SIZES))
def test_search_page_renders_in_chromium(served: Served, size: str, tmp_path: Path) -> None:
    """The search page finds the revised notice by a word of its new text and marks it."""
    url = f"{served.base}/search?q={quote(ADDED[2:6])}&kind=revised"
    dom = chromium(tmp_path / "dom-profile", "--dump-dom", url)
    assert served.title in dom
    assert f"<mark>{ADDED[2:6]}</mark>" in dom
    assert "订阅这个搜索" in dom and "第 2 版" not in dom  # the current version matched

    width, height = SIZES[size]
    shot = (SCREENSHOTS if UPDATE else tmp_path) / f"search-{size}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    chromium(
        tmp_path / "shot-profile", f"--screenshot={shot}", f"--window-size={width},{height}", url
    )
    got_width, got_height, distinct = png_facts(shot.read_bytes())
    assert (got_width, got_height) == (width, height)
    assert distinct > 50, "the screenshot is (nearly) blank"
