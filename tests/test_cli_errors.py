"""Bad input to the CLI: one line on stderr naming the thing, a non-zero exit, never a
traceback, never a password. And site text never drives the terminal: control characters
and escape sequences are stripped from text output and escaped in JSON.

The commands run in-process through click's runner (a crash would surface as an exception
other than SystemExit); the database and fetch cases also run as real processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from govwatch.cli import main
from govwatch.cli.clean import MAX_INPUT_BYTES
from govwatch.errors import StoreError
from govwatch.parsers.records import Attachment, Page
from govwatch.store import Store

UNREACHABLE_PG = "postgresql+psycopg://user:secret@127.0.0.1:1/x"
GOOD_SEED = 'id = "x"\nname = "x"\nparser = "generic"\ninterval = "1h"\nlisting_urls = ["http://127.0.0.1:1/"]\n'


def seed_text(**changes: str) -> str:
    keys = {"parser": '"generic"', "listing_urls": '["http://127.0.0.1:1/"]'} | changes
    return 'id = "x"\nname = "x"\ninterval = "1h"\n' + "".join(
        f"{k} = {v}\n" for k, v in keys.items()
    )


def make_files(tmp: Path) -> dict[str, Path]:
    """The bad inputs, named: each a file (or directory) on disk."""
    files = {
        "empty": tmp / "empty.html",
        "binary": tmp / "picture.html",
        "enormous": tmp / "enormous.html",
        "page": tmp / "page.html",
        "dir": tmp / "adir",
        "broken_toml": tmp / "broken.toml",
        "binary_toml": tmp / "binary.toml",
        "empty_toml": tmp / "empty.toml",
        "seed_parser": tmp / "seed_parser.toml",
        "seed_url": tmp / "seed_url.toml",
        "seed_ipv6": tmp / "seed_ipv6.toml",
        "seed_encoding": tmp / "seed_encoding.toml",
        "seed_rate": tmp / "seed_rate.toml",
        "good_seed": tmp / "good.toml",
        "not_a_db": tmp / "notadb.db",
        "store": tmp / "store.db",
    }
    files["empty"].write_bytes(b"")
    files["binary"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    with files["enormous"].open("wb") as f:  # sparse: no disk space taken
        f.truncate(MAX_INPUT_BYTES + 1)
    files["page"].write_text("<html><body><p>关于开展检查的通知</p></body></html>", "utf-8")
    files["dir"].mkdir()
    files["broken_toml"].write_text('id = "x"\nname = [1\n', "utf-8")
    files["binary_toml"].write_bytes(b"\xff\xfe\x00\x01garbage")
    files["empty_toml"].write_bytes(b"")
    files["seed_parser"].write_text(seed_text(parser='"nosuch"'), "utf-8")
    files["seed_url"].write_text(seed_text(listing_urls='["ftp://a/"]'), "utf-8")
    files["seed_ipv6"].write_text(seed_text(listing_urls='["http://[::1/"]'), "utf-8")
    files["seed_encoding"].write_text(seed_text(encoding='"klingon"'), "utf-8")
    files["seed_rate"].write_text(seed_text(rate="nan"), "utf-8")
    files["good_seed"].write_text(GOOD_SEED, "utf-8")
    files["not_a_db"].write_bytes(b"this is not a database\x00" * 100)
    Store.open(f"sqlite:///{files['store']}").close()
    return files


# (name, arguments from the files, what the one line must name)
Case = tuple[str, Callable[[dict[str, Path]], list[str]], Callable[[dict[str, Path]], str]]
CASES: list[Case] = [
    ("missing file", lambda f: ["clean", str(f["dir"] / "nope.html")], lambda f: "nope.html"),
    ("directory", lambda f: ["clean", str(f["dir"])], lambda f: str(f["dir"])),
    ("empty file", lambda f: ["clean", str(f["empty"])], lambda f: str(f["empty"])),
    ("binary file", lambda f: ["clean", str(f["binary"])], lambda f: str(f["binary"])),
    (
        "binary file as text",
        lambda f: ["clean", str(f["binary"]), "--format", "text"],
        lambda f: str(f["binary"]),
    ),
    ("enormous file", lambda f: ["clean", str(f["enormous"])], lambda f: str(f["enormous"])),
    (
        "invalid --url",
        lambda f: ["clean", str(f["page"]), "--url", "http://[::1"],
        lambda f: "http://[::1",
    ),
    (
        "unknown parser",
        lambda f: ["clean", str(f["page"]), "--parser", "nosuch"],
        lambda f: "nosuch",
    ),
    ("fetch: invalid URL", lambda f: ["fetch", "http://[::1"], lambda f: "http://[::1"),
    ("fetch: no URL at all", lambda f: ["fetch", "not a url"], lambda f: "not a url"),
    ("fetch: not http", lambda f: ["fetch", "ftp://x/y"], lambda f: "ftp://x/y"),
    ("fetch: bad port", lambda f: ["fetch", "http://127.0.0.1:99999/"], lambda f: "99999"),
    (
        "fetch: nothing listening",
        lambda f: ["fetch", "http://127.0.0.1:1/x.html"],
        lambda f: "127.0.0.1:1",
    ),
    (
        "fetch: unknown parser",
        lambda f: ["fetch", "http://127.0.0.1:1/", "--parser", "nosuch"],
        lambda f: "nosuch",
    ),
    (
        "broken seed TOML",
        lambda f: ["sites", "--seeds", str(f["broken_toml"])],
        lambda f: str(f["broken_toml"]),
    ),
    (
        "binary seed file",
        lambda f: ["sites", "--seeds", str(f["binary_toml"])],
        lambda f: str(f["binary_toml"]),
    ),
    (
        "empty seed file",
        lambda f: ["sites", "--seeds", str(f["empty_toml"])],
        lambda f: str(f["empty_toml"]),
    ),
    (
        "missing seeds",
        lambda f: ["sites", "--seeds", str(f["dir"] / "none")],
        lambda f: str(f["dir"] / "none"),
    ),
    (
        "seed: unknown parser",
        lambda f: ["sites", "--seeds", str(f["seed_parser"])],
        lambda f: "parser: unknown parser 'nosuch'",
    ),
    (
        "seed: not an http URL",
        lambda f: ["sites", "--seeds", str(f["seed_url"])],
        lambda f: "listing_urls",
    ),
    (
        "seed: malformed URL",
        lambda f: ["sites", "--seeds", str(f["seed_ipv6"])],
        lambda f: "listing_urls",
    ),
    (
        "seed: unknown encoding",
        lambda f: ["sites", "--seeds", str(f["seed_encoding"])],
        lambda f: "encoding: unknown encoding 'klingon'",
    ),
    (
        "seed: rate not a number",
        lambda f: ["sites", "--seeds", str(f["seed_rate"])],
        lambda f: "rate",
    ),
    (
        "crawl: broken seeds",
        lambda f: ["crawl", "--seeds", str(f["broken_toml"])],
        lambda f: str(f["broken_toml"]),
    ),
    (
        "crawl: unknown site id",
        lambda f: ["crawl", "nosuch-site", "--seeds", str(f["good_seed"])],
        lambda f: "nosuch-site",
    ),
    (
        "unreachable database",
        lambda f: ["events", "--db", UNREACHABLE_PG],
        lambda f: "user:***@127.0.0.1:1/x",
    ),
    (
        "history: unreachable database",
        lambda f: ["history", "http://x/1.html", "--db", UNREACHABLE_PG],
        lambda f: "127.0.0.1:1",
    ),
    (
        "crawl: unreachable database",
        lambda f: ["crawl", "--seeds", str(f["good_seed"]), "--db", UNREACHABLE_PG],
        lambda f: "127.0.0.1:1",
    ),
    (
        "database file that is not one",
        lambda f: ["events", "--db", f"sqlite:///{f['not_a_db']}"],
        lambda f: str(f["not_a_db"]),
    ),
    (
        "database in a directory that does not exist",
        lambda f: ["events", "--db", f"sqlite:///{f['dir']}/no/such/dir/x.db"],
        lambda f: "no/such/dir/x.db",
    ),
    (
        "unsupported database",
        lambda f: ["events", "--db", "mysql://user:secret@127.0.0.1/x"],
        lambda f: "mysql",
    ),
    (
        "--since not a date",
        lambda f: ["events", "--db", f"sqlite:///{f['dir']}/e.db", "--since", "yesterday"],
        lambda f: "yesterday",
    ),
    (
        "history of an unknown notice",
        lambda f: ["history", "http://x/unknown.html", "--db", f"sqlite:///{f['store']}"],
        lambda f: "http://x/unknown.html",
    ),
    (
        "history in a database that is not there",
        lambda f: ["history", "http://x/1.html", "--db", f"sqlite:///{f['dir']}/none.db"],
        lambda f: f"{f['dir']}/none.db",
    ),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_files(tmp_path_factory.mktemp("bad"))


def assert_one_line_error(exit_code: int, stderr: str, names: str, everything: str) -> None:
    assert exit_code != 0
    assert "Traceback" not in everything
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert names in lines[0], lines[0]
    assert "secret" not in everything


@pytest.mark.parametrize(("name", "args", "names"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_naming_it(
    files: dict[str, Path],
    name: str,
    args: Callable[[dict[str, Path]], list[str]],
    names: Callable[[dict[str, Path]], str],
) -> None:
    result = CliRunner().invoke(main, args(files), env={"GOVWATCH_DB": None})
    assert isinstance(result.exception, SystemExit), result.exception
    assert_one_line_error(result.exit_code, result.stderr, names(files), result.output)


@pytest.mark.parametrize(
    ("variable", "value", "args"),
    [
        ("GOVWATCH_TIMEOUT", "soon", ["fetch", "http://127.0.0.1:1/"]),
        ("GOVWATCH_MAX_BYTES", "1.5", ["events"]),
        ("GOVWATCH_DB", UNREACHABLE_PG, ["events"]),
    ],
)
def test_bad_environment_is_one_line_naming_it(variable: str, value: str, args: list[str]) -> None:
    result = CliRunner().invoke(main, args, env={variable: value})
    assert isinstance(result.exception, SystemExit), result.exception
    named = "127.0.0.1:1" if variable == "GOVWATCH_DB" else variable
    assert_one_line_error(result.exit_code, result.stderr, named, result.output)


TOPICS = [
    ("broken", b'[[topic]]\nid = "x\n', "not valid TOML"),
    ("binary", b"\xff\xfe\x00garbage", "not valid TOML"),
    ("bad table", b"[[topic]]\nnosuch = 1\n", "topic #1"),
]


@pytest.mark.parametrize(("kind", "content", "says"), TOPICS, ids=[t[0] for t in TOPICS])
def test_broken_topic_files(tmp_path: Path, kind: str, content: bytes, says: str) -> None:
    if "serve" not in main.commands:
        pytest.skip("no `govwatch serve` command (topics are read by the server)")
    topics = tmp_path / "broken.toml"
    topics.write_bytes(content)
    result = CliRunner().invoke(
        main, ["serve", "--topics", str(topics), "--db", f"sqlite:///{tmp_path / 's.db'}"]
    )
    assert isinstance(result.exception, SystemExit), result.exception
    assert_one_line_error(result.exit_code, result.stderr, str(topics), result.output)
    assert says in result.stderr


def test_missing_topic_file(tmp_path: Path) -> None:
    if "serve" not in main.commands:
        pytest.skip("no `govwatch serve` command (topics are read by the server)")
    missing = tmp_path / "none.toml"
    result = CliRunner().invoke(main, ["serve", "--topics", str(missing)])
    assert isinstance(result.exception, SystemExit), result.exception
    assert_one_line_error(result.exit_code, result.stderr, str(missing), result.output)


@pytest.mark.parametrize(
    "args",
    [
        ["events", "--db", UNREACHABLE_PG],
        ["crawl", "zhangdian-jyj-tzgg", "--seeds", "seeds", "--db", UNREACHABLE_PG],
        ["fetch", "http://[::1"],
    ],
)
def test_as_a_process_too(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "govwatch", *args],
        capture_output=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "GOVWATCH_DB"},
    )
    stderr = done.stderr.decode()
    assert_one_line_error(done.returncode, stderr, args[-1].replace("secret", "***"), stderr)
    assert b"secret" not in done.stdout


def test_store_failing_mid_crawl_is_one_line(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database going away during a pass (pages failing are no error: the summary)."""
    from govwatch.crawler.engine import Crawler

    async def lost(self: Crawler, seeds: object) -> None:
        raise StoreError(f"{self.store.name}: server closed the connection unexpectedly")

    monkeypatch.setattr(Crawler, "run", lost)
    db = tmp_path / "mid.db"
    result = CliRunner().invoke(
        main, ["crawl", "--seeds", str(files["good_seed"]), "--db", f"sqlite:///{db}"]
    )
    assert isinstance(result.exception, SystemExit), result.exception
    assert_one_line_error(result.exit_code, result.stderr, str(db), result.output)


# --- site text never drives the terminal -------------------------------------------------

ESC = "\x1b[2J\x1b[31m"  # clear screen, red
C1 = "\x9b31m"  # the one-byte CSI
BIDI = "\u202e"  # right-to-left override
HOSTILE = f"关于{ESC}开展{C1}检查{BIDI}的通知"


def unsafe(text: str, keep: str = "\n") -> list[str]:
    """Characters that a terminal would act on."""
    return [
        ch
        for ch in text
        if ch not in keep and (not ch.isprintable() or "\x80" <= ch <= "\x9f") and ch != " "
    ]


@pytest.fixture
def hostile_store(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'hostile.db'}"
    url = f"http://127.0.0.1/{ESC}x{C1}.html"
    with Store.open(db) as store:
        run = store.start_run(["evil"])
        store.upsert_site("evil", "evil", "generic", [])
        for body in (f"第一段{ESC}。", f"第二段{C1}{BIDI}。"):
            page = Page(
                kind="detail",
                parser="generic",
                url=url,
                title=HOSTILE,
                body=body,
                meta={"publisher": f"教育局{ESC}"},
                attachments=(Attachment(f"附件{C1}.doc", f"http://127.0.0.1/{ESC}.doc"),),
            )
            store.record_page("evil", url, page, b"<html></html>", run)
    return db


@pytest.mark.parametrize(
    "args",
    [
        ["events"],
        ["events", "--format", "json"],
        ["history", "URL"],
        ["history", "URL", "--format", "json"],
        ["diff", "URL"],
        ["diff", "URL", "--format", "json"],
    ],
)
def test_site_text_cannot_drive_the_terminal(hostile_store: str, args: list[str]) -> None:
    url = f"http://127.0.0.1/{ESC}x{C1}.html"
    result = CliRunner().invoke(
        main, [url if a == "URL" else a for a in args] + ["--db", hostile_store]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip()
    assert unsafe(result.output) == []
    if "json" in args:
        json.loads(result.output)  # escaped, not dropped: still the same data


def test_clean_text_output_is_safe(tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(
        f"<html><head><title>{HOSTILE}</title></head><body><h1>{HOSTILE}</h1>"
        f"<table><tr><td>发布机构</td><td>教育局{C1}{ESC}</td></tr></table>"
        f"<div class='content'><p>各学校：{ESC}请认真做好检查工作，确保安全。{C1}</p>"
        f"<p>附件：<a href='/a{ESC}.doc'>检查表{BIDI}.doc</a></p></div></body></html>",
        encoding="utf-8",
    )
    for fmt in ("text", "json"):
        result = CliRunner().invoke(
            main, ["clean", str(page), "--format", fmt, "--url", "http://127.0.0.1/x.html"]
        )
        assert result.exit_code == 0, result.output
        assert "检查" in result.output
        assert unsafe(result.output) == []
