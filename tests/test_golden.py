"""Golden files: every parser against pages whose right output is written down.

- tests/fixtures/<parser>/<case>.html (or .json.txt) beside <case>.json: the whole
  expected output of `govwatch clean --url URL --parser NAME`; a listing's rows and
  next pages also with `--kind listing` (the crawler's hint).
- tests/golden/seeds/<stem>.json: the expected output for ../shared/seeds/<stem>.txt.
- tests/golden/realpages/<stem>.json: short facts about ../shared/realpages/<file>,
  read in place (never copied), listings also with the hint; those cases skip when
  the folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from govwatch.parsers import clean, clean_bytes
from govwatch.parsers.records import Expect
from tests.conftest import FIXTURES, GOLDEN, REALPAGES, SEEDS
from tests.quality import realpage_checks


def _fixture_cases() -> list[Any]:
    cases = []
    for expected in sorted(FIXTURES.glob("*/*.json")):
        for suffix in (".html", ".json.txt"):
            source = expected.with_suffix(suffix)
            if source.exists():
                cases.append(
                    pytest.param(source, expected, id=f"{expected.parent.name}/{expected.stem}")
                )
    return cases


@pytest.mark.parametrize(("source", "expected"), _fixture_cases())
def test_fixture(source: Path, expected: Path) -> None:
    want = json.loads(expected.read_text(encoding="utf-8"))
    got = clean_bytes(source.read_bytes(), want["url"], parser=want["parser"]).to_json()
    assert got == want


def _listing_cases() -> list[Any]:
    return [
        case
        for case in _fixture_cases()
        if json.loads(case.values[1].read_text(encoding="utf-8"))["kind"] == "listing"
    ]


@pytest.mark.parametrize(("source", "expected"), _listing_cases())
def test_listing_fixture_with_crawl_hint(source: Path, expected: Path) -> None:
    """A page the crawler reaches as a listing gives the same rows and pages with the hint."""
    want = json.loads(expected.read_text(encoding="utf-8"))
    got = clean_bytes(
        source.read_bytes(), want["url"], parser=want["parser"], expect="listing"
    ).to_json()
    assert (got["kind"], got["items"], got["next_pages"]) == (
        "listing",
        want["items"],
        want["next_pages"],
    )


def _seed_cases() -> list[Any]:
    return [pytest.param(p, id=p.stem) for p in sorted((GOLDEN / "seeds").glob("*.json"))]


@pytest.mark.parametrize("expected", _seed_cases())
def test_seed_text_dump(expected: Path) -> None:
    source = SEEDS / f"{expected.stem}.txt"
    if not source.exists():
        pytest.skip(f"{source} is absent (../shared/seeds not beside the repo)")
    want = json.loads(expected.read_text(encoding="utf-8"))
    got = clean(source.read_text(encoding="utf-8")).to_json()
    assert {k: got[k] for k in want} == want


def _realpage_cases() -> list[Any]:
    return [pytest.param(p, id=p.stem) for p in sorted((GOLDEN / "realpages").glob("*.json"))]


@pytest.mark.parametrize("facts_path", _realpage_cases())
def test_real_page(facts_path: Path) -> None:
    facts = json.loads(facts_path.read_text(encoding="utf-8"))
    source = REALPAGES / facts["file"]
    if not source.exists():
        pytest.skip(f"{source} is absent (../shared/realpages not beside the repo)")
    hints: tuple[Expect, ...] = (None, "listing") if facts["kind"] == "listing" else (None,)
    for expect in hints:
        got = clean_bytes(source.read_bytes(), facts["url"], expect=expect).to_json()
        failed = [name for name, ok in realpage_checks(facts, got).items() if not ok]
        dump = json.dumps(got, ensure_ascii=False)[:3000]
        assert not failed, f"{facts['file']} (expect={expect}): {failed}\n{dump}"
