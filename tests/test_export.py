"""`govwatch export`: a store crawled from a local mirror (a revision, a removal, Chinese
text with commas, quotes and line breaks) read back from CSV (csv module, pandas), JSON
lines and Parquet (pyarrow, pandas) to the values the store's own reads give; filters,
every version, empty exports, errors. On SQLite, and (slow) on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from govwatch.cli import main
from govwatch.crawler.engine import Crawler
from govwatch.crawler.seeds import load_seeds
from govwatch.demo.mirror import Mirror, MirrorSite
from govwatch.errors import StoreError
from govwatch.parsers.records import META_KEYS
from govwatch.settings import Settings
from govwatch.store import Store
from govwatch.store import export as store_export
from govwatch.store.export import COLUMNS, export_rows
from govwatch.store.filters import notice_day
from tests.stored import known_urls

FAST = Settings(retry_base=0.05, concurrency=8, host_concurrency=4)
BOM = b"\xef\xbb\xbf"
QUOTED = '关于"双减"工作的通知，请各校（园）转发'
TRICKY = [
    "各学校：",
    '现将《实施意见》印发给你们，请认真贯彻落实，"双减"不减质。',
    "联系人：张三，电话：0523-1234567",
]
EDITED = [*TRICKY[:2], "请于6月30日前报送，逾期不候。", TRICKY[2]]
TIMES = [name for name, kind in COLUMNS if kind == "time"]
INTS = [name for name, kind in COLUMNS if kind == "int"]
LISTS = [name for name, kind in COLUMNS if kind in ("texts", "files")]
NULLABLE = {*META_KEYS, "event", "removed_at", "last_checked_at", "parser_version"}


@dataclass(frozen=True)
class Scenario:
    db: str
    revised_url: str
    """The notice whose text holds commas, quotes and line breaks: revised once."""
    removed_url: str


def _site(
    name: str, flow: str, notices: list[tuple[str, list[str], str, dict[str, str]]]
) -> MirrorSite:
    site = MirrorSite(name, flow, page_size=10, agency="靖江市教育局")
    for title, paragraphs, day, extra in reversed(notices):
        made = site.make_notice(title, paragraphs, day)
        made.meta.update(extra)
        if extra.get("doc_no"):
            made.attachments = [("附件1：报名表，含“说明”.xlsx", "P0201.xlsx")]
        site.add(made)
    return site


def build(db: str, tmp_path: Path) -> Scenario:
    """Crawl two mirrored sites into `db`; revise one notice, remove another, crawl again."""
    jj = _site(
        "jj",
        "generic",
        [
            (
                QUOTED,
                TRICKY,
                "2024-06-10",
                {"doc_no": "靖教发〔2024〕12号", "index_no": "JJ-2024-012"},
            ),
            (
                "教师招聘公告",
                ["公开招聘教师10名。", "报名时间：6月1日至6月5日。"],
                "2024-05-20",
                {},
            ),
            ("春季植树活动", ["各单位积极参加。"], "2024-03-12", {"category": "综合政务"}),
        ],
    )
    zd = _site(
        "zd",
        "trs_wcm",
        [
            ("学位证书发放通知", ["学位证书于六月发放。"], "2024-07-01", {}),
            ("暑期安全教育", ["做好暑期安全教育。"], "2024-06-30", {}),
        ],
    )
    mirror = Mirror([jj, zd])
    with mirror, Store.open(db) as store:
        paths = mirror.seed_files(tmp_path / "seeds", rate=200.0)
        with paths[0].open("a", encoding="utf-8") as seed:
            seed.write("attachments = true\n")
        seeds = load_seeds(tmp_path / "seeds")
        first = asyncio.run(Crawler(store, FAST).run(seeds))
        assert sum(s.new for s in first.sites.values()) == 5
        tricky, removed = jj.notices[0], zd.notices[1]
        scenario = Scenario(db, jj.notice_url(tricky.id), zd.notice_url(removed.id))
        jj.edit(tricky.id, EDITED)
        zd.remove(removed.id)
        for _ in range(2):  # a notice is removed after its second 404
            asyncio.run(Crawler(store, FAST).run(seeds))
        assert len(store.history(scenario.revised_url)) == 2
    return scenario


def expected(db: str, every_version: bool = False) -> list[dict[str, Any]]:
    """The export's rows as the store's own reads tell them, in notice id, version order."""
    rows = []
    with Store.open(db) as store:
        names = store.site_names()
        for site in names:
            for url in known_urls(db, site):
                notice = store.notice(url)
                assert notice is not None
                history = store.history(url)
                events = [e for e in store.events(limit=10_000) if e.url == url]
                removals = [e.at for e in events if e.kind == "removed"]
                shown = history if every_version else [history[-1]]
                for version in shown:
                    kinds = [
                        e.kind
                        for e in events
                        if e.version == version.number and e.kind in ("new", "revised")
                    ]
                    texts = store.texts([a.sha256 for a in version.attachments if a.sha256])
                    rows.append(
                        {
                            "notice_id": notice.id,
                            "url": url,
                            "site": site,
                            "site_name": names[site],
                            "title": version.title,
                            "date": notice_day(
                                version.meta, notice.listed_date, version.fetched_at
                            ),
                            "status": notice.status,
                            "removed_at": max(removals) if notice.status == "removed" else None,
                            "version": version.number,
                            "current_version": notice.current_version,
                            "event": kinds[0] if kinds else None,
                            "changed_fields": list(version.changed_fields),
                            **{key: version.meta.get(key) for key in META_KEYS},
                            "body": version.body,
                            "attachments": [
                                {
                                    "name": a.name,
                                    "url": a.url,
                                    "sha256": a.sha256,
                                    "text_status": texts[a.sha256].extraction.status
                                    if a.sha256 in texts
                                    else None,
                                }
                                for a in version.attachments
                            ],
                            "fetched_at": version.fetched_at,
                            "first_seen_at": notice.first_seen_at,
                            "last_checked_at": notice.last_checked_at,
                            "parser_version": version.parser_version,
                            "content_hash": version.content_hash,
                        }
                    )
    return sorted(rows, key=lambda r: (r["notice_id"], r["version"]))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    where = tmp_path_factory.mktemp("export")
    return build(f"sqlite:///{where / 'govwatch.db'}", where)


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["export", "--db", db, *args])


def export_file(db: str, path: Path, fmt: str, *args: str) -> Result:
    result = run(db, "--format", fmt, *args, str(path))
    assert result.exit_code == 0, result.output
    return result


# Reading back: each format to the rows the store holds


def from_csv(data: bytes) -> list[dict[str, Any]]:
    assert data.startswith(BOM)
    reader = csv.DictReader(io.StringIO(data[len(BOM) :].decode(), newline=""))
    assert reader.fieldnames == [name for name, _ in COLUMNS]
    return [typed(row) for row in reader]


def typed(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(row)
    for name, value in row.items():
        if name in NULLABLE and value == "":
            out[name] = None
        elif name in INTS:
            out[name] = int(value)
        elif name in LISTS:
            out[name] = json.loads(value)
        elif name in TIMES:
            out[name] = datetime.fromisoformat(value)
    return out


def from_jsonl(data: bytes) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in data.decode().split("\n")[:-1]]
    for row in rows:
        assert list(row) == [name for name, _ in COLUMNS]
        for name in TIMES:
            row[name] = None if row[name] is None else datetime.fromisoformat(row[name])
    return rows


def check_formats(scenario: Scenario, tmp_path: Path) -> None:
    """Every format reads back to the store's values, by every reader an analyst uses."""
    want = expected(scenario.db)
    for fmt in ("csv", "jsonl", "parquet"):
        result = export_file(scenario.db, tmp_path / f"n.{fmt}", fmt)
        assert f"exported {len(want)} notices" in result.stderr
    assert from_csv((tmp_path / "n.csv").read_bytes()) == want
    assert from_jsonl((tmp_path / "n.jsonl").read_bytes()) == want

    table = pq.read_table(tmp_path / "n.parquet")
    assert table.to_pylist() == want
    assert table.schema.field("notice_id").type == pa.int64()
    assert table.schema.field("body").type == pa.string()
    assert table.schema.field("fetched_at").type == pa.timestamp("us", tz="UTC")

    frame = pd.read_parquet(tmp_path / "n.parquet")
    assert list(frame.columns) == [name for name, _ in COLUMNS]
    assert str(frame["notice_id"].dtype) == "int64"
    assert str(frame["version"].dtype) == "int64"
    assert str(frame["fetched_at"].dtype) == "datetime64[us, UTC]"
    assert list(frame["body"]) == [r["body"] for r in want]
    assert list(frame["fetched_at"]) == [pd.Timestamp(r["fetched_at"]) for r in want]

    sheet = pd.read_csv(tmp_path / "n.csv", encoding="utf-8-sig", keep_default_na=False)
    assert str(sheet["notice_id"].dtype) == "int64"
    assert list(sheet["title"]) == [r["title"] for r in want]
    assert list(sheet["body"]) == [r["body"] for r in want]

    by_url = {r["url"]: r for r in want}
    tricky = by_url[scenario.revised_url]
    assert (tricky["title"], tricky["body"]) == (QUOTED, "\n".join(EDITED))
    assert (tricky["version"], tricky["event"], tricky["doc_no"]) == (
        2,
        "revised",
        "靖教发〔2024〕12号",
    )
    assert tricky["changed_fields"] == ["body"]
    (file,) = tricky["attachments"]
    assert file["name"] == "附件1：报名表，含“说明”.xlsx" and file["sha256"] and file["text_status"]
    gone = by_url[scenario.removed_url]
    assert gone["status"] == "removed" and gone["removed_at"] is not None
    assert {r["status"] for r in want if r["url"] != scenario.removed_url} == {"active"}


def test_every_format_reads_back_to_the_store(scenario: Scenario, tmp_path: Path) -> None:
    check_formats(scenario, tmp_path)
    raw = (tmp_path / "n.csv").read_bytes()
    # RFC 4180: CRLF between records, the quote doubled inside a quoted field, the body's
    # line breaks kept inside its quotes.
    assert raw.startswith(BOM + b"notice_id,url,site,") and b"\r\n" in raw
    assert '"关于""双减""工作的通知，请各校（园）转发"'.encode() in raw
    assert "各学校：\n现将".encode() in raw
    # JSON lines keep the characters as they are.
    assert QUOTED.replace('"', '\\"').encode() in (tmp_path / "n.jsonl").read_bytes()


def test_versions_give_one_row_per_stored_version(scenario: Scenario, tmp_path: Path) -> None:
    want = expected(scenario.db, every_version=True)
    assert len(want) == 6  # five notices, one of them revised
    for fmt in ("csv", "jsonl", "parquet"):
        result = export_file(scenario.db, tmp_path / f"v.{fmt}", fmt, "--versions")
        assert "exported 6 versions" in result.stderr
    assert from_csv((tmp_path / "v.csv").read_bytes()) == want
    assert from_jsonl((tmp_path / "v.jsonl").read_bytes()) == want
    assert pq.read_table(tmp_path / "v.parquet").to_pylist() == want
    revised = [r for r in want if r["url"] == scenario.revised_url]
    assert [(r["version"], r["event"], r["body"]) for r in revised] == [
        (1, "new", "\n".join(TRICKY)),
        (2, "revised", "\n".join(EDITED)),
    ]


def test_site_and_since_filter(scenario: Scenario, tmp_path: Path) -> None:
    everything = expected(scenario.db)
    export_file(scenario.db, tmp_path / "zd.jsonl", "jsonl", "--site", "zd")
    assert from_jsonl((tmp_path / "zd.jsonl").read_bytes()) == [
        r for r in everything if r["site"] == "zd"
    ]
    later = [r for r in everything if r["date"] >= "2024-06-10"]
    assert 0 < len(later) < len(everything)
    for since in ("2024-06-10", "2024-06-10T23:00:00+08:00"):
        export_file(scenario.db, tmp_path / "s.jsonl", "jsonl", "--since", since)
        assert from_jsonl((tmp_path / "s.jsonl").read_bytes()) == later
    export_file(scenario.db, tmp_path / "b.jsonl", "jsonl", "--since", "2024-06-10", "--site", "jj")
    assert from_jsonl((tmp_path / "b.jsonl").read_bytes()) == [
        r for r in later if r["site"] == "jj"
    ]


def test_standard_output_holds_what_the_file_would(scenario: Scenario, tmp_path: Path) -> None:
    for fmt in ("csv", "jsonl"):
        export_file(scenario.db, tmp_path / f"f.{fmt}", fmt)
        result = run(scenario.db, "--format", fmt, "-")
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes == (tmp_path / f"f.{fmt}").read_bytes()
        assert "to standard output" in result.stderr


def test_an_empty_export_is_a_valid_file(scenario: Scenario, tmp_path: Path) -> None:
    for fmt in ("csv", "jsonl", "parquet"):
        result = export_file(scenario.db, tmp_path / f"e.{fmt}", fmt, "--since", "2999-01-01")
        assert "exported 0 notices" in result.stderr
    header = ",".join(name for name, _ in COLUMNS).encode()
    assert (tmp_path / "e.csv").read_bytes() == BOM + header + b"\r\n"
    assert (tmp_path / "e.jsonl").read_bytes() == b""
    table = pq.read_table(tmp_path / "e.parquet")
    assert table.num_rows == 0
    assert table.schema.names == [name for name, _ in COLUMNS]
    frame = pd.read_parquet(tmp_path / "e.parquet")
    assert (len(frame), str(frame["first_seen_at"].dtype)) == (0, "datetime64[us, UTC]")


def test_batches_follow_one_another_without_gap_or_repeat(scenario: Scenario) -> None:
    with Store.open(scenario.db) as store:
        whole = [r for rows in export_rows(store, every_version=True) for r in rows]
        batches = list(export_rows(store, every_version=True, batch=2))
    assert [len(rows) for rows in batches] == [2, 2, 2]
    assert [r for rows in batches for r in rows] == whole == expected(scenario.db, True)


def test_mistakes_are_one_line_and_exit_2(scenario: Scenario, tmp_path: Path) -> None:
    unknown = run(scenario.db, "--site", "nowhere", "--format", "csv", str(tmp_path / "x.csv"))
    assert unknown.exit_code == 2
    assert "no site 'nowhere'" in unknown.stderr and "known: jj, zd" in unknown.stderr
    to_stdout = run(scenario.db, "--format", "parquet", "-")
    assert to_stdout.exit_code == 2 and "needs a file" in to_stdout.stderr
    bad_day = run(scenario.db, "--since", "last week", "--format", "csv", "-")
    assert bad_day.exit_code == 2 and "--since" in bad_day.stderr
    nowhere = run(scenario.db, "--format", "csv", str(tmp_path / "no" / "x.csv"))
    assert nowhere.exit_code == 2 and "cannot write in" in nowhere.stderr
    assert not list(tmp_path.iterdir())


def test_parquet_without_pyarrow_says_so(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    result = run(scenario.db, "--format", "parquet", str(tmp_path / "x.parquet"))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: --format parquet needs pyarrow: pip install 'govwatch[parquet]'"
    ]
    assert not list(tmp_path.iterdir())
    export_file(scenario.db, tmp_path / "x.csv", "csv")  # the other formats need no pyarrow


def test_a_failed_export_leaves_the_earlier_file(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "n.csv"
    export_file(scenario.db, out, "csv")
    before = out.read_bytes()

    def failing(*args: Any, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
        yield from list(export_rows(*args, **kwargs))[:1]
        raise StoreError("the database went away")

    monkeypatch.setattr(store_export, "export_rows", failing)
    result = run(scenario.db, "--format", "csv", str(out))
    assert result.exit_code == 1 and "the database went away" in result.stderr
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["n.csv"]


@pytest.mark.slow
def test_postgresql_exports_the_same(postgres_url: str, tmp_path: Path) -> None:
    from tests.pg import fresh_database

    check_formats(build(fresh_database(postgres_url), tmp_path), tmp_path)
