"""The quality gate: scores the golden corpus and compares with pinned numbers.

    python -m tests.quality            print the scores
    python -m tests.quality --pin      rewrite tests/quality_pins.json (a reviewed step)

Corpus: the five seed dumps (tests/golden/seeds), the reconstructed site fixtures
(tests/fixtures/<parser>/) and the facts about the real pages in ../shared/realpages
(tests/golden/realpages). Body quality is character-level F1 (bag of characters,
whitespace ignored), the measure the held-out evaluation uses. Listings are scored
as cleaned by themselves and with the crawler's hint (`items_f1_hinted`); `listing_kind`
is the share of listing pages classified as listings without the hint.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govwatch.parsers import clean, clean_bytes
from tests.conftest import FIXTURES, GOLDEN, REALPAGES, SEEDS

PINS = Path(__file__).with_name("quality_pins.json")


def char_f1(predicted: str, expected: str) -> float:
    pred = Counter(ch for ch in predicted if not ch.isspace())
    gold = Counter(ch for ch in expected if not ch.isspace())
    if not pred and not gold:
        return 1.0
    overlap = sum((pred & gold).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(pred.values())
    recall = overlap / sum(gold.values())
    return 2 * precision * recall / (precision + recall)


def items_f1(predicted: list[dict[str, Any]], expected: list[dict[str, Any]]) -> float:
    pred = {(i["url"], i["title"], i.get("date")) for i in predicted}
    gold = {(i["url"], i["title"], i.get("date")) for i in expected}
    if not pred and not gold:
        return 1.0
    hit = len(pred & gold)
    if not hit:
        return 0.0
    return 2 * hit / (len(pred) + len(gold))


def realpage_checks(facts: dict[str, Any], page: dict[str, Any]) -> dict[str, bool]:
    """Each fact about a real page as a named pass/fail check."""
    checks = {"kind": page["kind"] == facts["kind"]}
    if facts["kind"] == "challenge":
        checks["vendor"] = page.get("vendor") == facts["vendor"]
        return checks
    if facts["kind"] == "listing":
        items = page.get("items", [])
        checks["items_count"] = len(items) == facts["items_count"]
        if items:
            for which, idx in (("first_item", 0), ("last_item", -1)):
                if which in facts:
                    checks[which] = items[idx] == facts[which]
        for url in facts.get("next_pages_contains", []):
            checks[f"next:{url}"] = url in page.get("next_pages", [])
        return checks
    body = page.get("body", "")
    checks["title"] = page.get("title") == facts["title"]
    for key, value in facts.get("meta", {}).items():
        checks[f"meta:{key}"] = page.get("meta", {}).get(key) == value
    checks["body_start"] = body.startswith(facts["body_starts_with"])
    checks["body_end"] = body.endswith(facts["body_ends_with"])
    n = facts["body_chars"]
    checks["body_chars"] = abs(len(body) - n) <= max(20, n // 10)
    for snippet in facts.get("body_contains", []):
        checks[f"contains:{snippet}"] = snippet in body
    for chrome in facts.get("absent", []):
        checks[f"absent:{chrome}"] = chrome not in body
    if "attachments" in facts:
        checks["attachments"] = page.get("attachments") == facts["attachments"]
    return checks


@dataclass
class Scores:
    body_f1: list[float] = field(default_factory=list)
    titles: list[bool] = field(default_factory=list)
    meta: list[bool] = field(default_factory=list)
    items: list[float] = field(default_factory=list)
    # Listings cleaned with the crawler's hint (expect="listing"), and whether each
    # listing is classified as one without it.
    items_hinted: list[float] = field(default_factory=list)
    listing_kind: list[bool] = field(default_factory=list)
    facts: list[bool] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add_golden(self, name: str, expected: dict[str, Any], got: dict[str, Any]) -> None:
        if expected["kind"] == "listing":
            self.items.append(items_f1(got.get("items", []), expected["items"]))
            self.facts.append(got.get("next_pages") == expected["next_pages"])
            self.listing_kind.append(got["kind"] == "listing")
            if got["kind"] != "listing":
                self.failures.append(f"{name}: classified as {got['kind']}")
            return
        self.body_f1.append(char_f1(got.get("body", ""), expected["body"]))
        self.titles.append(got.get("title") == expected["title"])
        if got.get("title") != expected["title"]:
            self.failures.append(f"{name}: title {got.get('title')!r}")
        keys = set(expected.get("meta", {})) | set(got.get("meta", {}))
        for key in sorted(keys):
            ok = got.get("meta", {}).get(key) == expected.get("meta", {}).get(key)
            self.meta.append(ok)
            if not ok:
                self.failures.append(f"{name}: meta {key} {got.get('meta', {}).get(key)!r}")

    def summary(self) -> dict[str, float]:
        def mean(xs: list[float] | list[bool]) -> float:
            return round(sum(xs) / len(xs), 4) if xs else 1.0

        return {
            "body_f1_mean": mean(self.body_f1),
            "body_f1_min": round(min(self.body_f1), 4) if self.body_f1 else 1.0,
            "title_exact": mean(self.titles),
            "meta_exact": mean(self.meta),
            "items_f1": mean(self.items),
            "facts_pass": mean(self.facts),
            "items_f1_hinted": mean(self.items_hinted),
            "listing_kind": mean(self.listing_kind),
        }


def score_corpus() -> Scores:
    scores = Scores()
    for golden in sorted((GOLDEN / "seeds").glob("*.json")):
        source = SEEDS / f"{golden.stem}.txt"
        if source.exists():
            got = clean(source.read_text(encoding="utf-8")).to_json()
            scores.add_golden(f"seed {golden.stem}", json.loads(golden.read_text()), got)
    for expected_path in sorted(FIXTURES.glob("*/*.json")):
        source = next(
            (
                p
                for p in (
                    expected_path.with_suffix(".html"),
                    expected_path.with_suffix(".json.txt"),
                )
                if p.exists()
            ),
            None,
        )
        if source is None:
            continue
        expected = json.loads(expected_path.read_text())
        data, parser = source.read_bytes(), expected["parser"]
        got = clean_bytes(data, expected["url"], parser=parser).to_json()
        scores.add_golden(f"{expected_path.parent.name}/{expected_path.stem}", expected, got)
        if expected["kind"] == "listing":
            hinted = clean_bytes(data, expected["url"], parser=parser, expect="listing")
            scores.items_hinted.append(items_f1(hinted.to_json()["items"], expected["items"]))
    for facts_path in sorted((GOLDEN / "realpages").glob("*.json")):
        facts = json.loads(facts_path.read_text())
        source = REALPAGES / facts["file"]
        if not source.exists():
            continue
        got = clean_bytes(source.read_bytes(), facts["url"]).to_json()
        if facts["kind"] == "listing":
            scores.listing_kind.append(got["kind"] == "listing")
        for check, ok in realpage_checks(facts, got).items():
            scores.facts.append(ok)
            if not ok:
                scores.failures.append(f"{facts['file']}: {check}")
    return scores


def main() -> None:
    scores = score_corpus()
    summary = scores.summary()
    for failure in scores.failures:
        print("  miss", failure)
    for key, value in summary.items():
        print(f"{key:14} {value:.4f}")
    if "--pin" in sys.argv:
        PINS.write_text(json.dumps(summary, indent=2) + "\n")
        print(f"pinned to {PINS}")


if __name__ == "__main__":
    main()
