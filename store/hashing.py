"""What a version is: the cleaned record of a page, its canonical JSON and that JSON's hash.

Only the cleaned record counts, never the raw HTML, so a site that reshuffles its markup or
rotates a token in a script does not make a new version.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from parsers.records import Page

RECORD_KEYS: tuple[str, ...] = ("title", "body", "meta", "attachments")


def cleaned_record(page: Page) -> dict[str, Any]:
    """The versioned part of a detail page, in the JSON shape the CLI prints."""
    if page.kind != "detail":
        raise ValueError(f"only a detail page has a version, not a {page.kind} page")
    data = page.to_json()
    return {key: data[key] for key in RECORD_KEYS}


def canonical_json(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(record: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON."""
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    """Sorted record keys whose values differ, with meta reported per key as "meta.<key>"."""
    fields: list[str] = []
    for key in RECORD_KEYS:
        if key == "meta":
            old_meta, new_meta = old.get("meta") or {}, new.get("meta") or {}
            fields += [
                f"meta.{k}"
                for k in old_meta.keys() | new_meta.keys()
                if old_meta.get(k) != new_meta.get(k)
            ]
        elif old.get(key) != new.get(key):
            fields.append(key)
    return tuple(sorted(fields))
