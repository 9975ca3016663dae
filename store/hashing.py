"""What a version is: the cleaned record of a page, its canonical JSON and that JSON's hash.

Only the cleaned record counts, never the raw HTML, so a site that reshuffles its markup or
rotates a token in a script does not make a new version.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from govwatch.parsers.records import META_KEYS, Attachment, Page

RECORD_KEYS: tuple[str, ...] = ("title", "body", "meta", "attachments")


def cleaned_record(page: Page) -> dict[str, Any]:
    """The versioned part of a detail page, in a form of its own: what the CLI prints may
    gain or rename keys without making every stored notice look revised. Empty metadata
    is left out, and keys keep META_KEYS order (the hash sorts them anyway)."""
    if page.kind != "detail":
        raise ValueError(f"only a detail page has a version, not a {page.kind} page")
    return {
        "title": page.title,
        "body": page.body,
        "meta": {key: page.meta[key] for key in META_KEYS if page.meta.get(key)},
        "attachments": [_attachment(a) for a in page.attachments],
    }


def _attachment(attachment: Attachment) -> dict[str, str]:
    """Name and URL; and the file's sha256 once fetched, so that a changed file is a
    changed record and the same bytes never are."""
    entry = {"name": attachment.name, "url": attachment.url}
    if attachment.sha256:
        entry["sha256"] = attachment.sha256
    return entry


def only_gained_files(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether `new` is `old` with sha256s added to attachments that had none (files
    fetched for the first time) and nothing else changed: no change of the notice."""
    rest = [{k: v for k, v in r.items() if k != "attachments"} for r in (old, new)]
    before, after = old.get("attachments") or [], new.get("attachments") or []
    if rest[0] != rest[1] or len(before) != len(after):
        return False
    gained = False
    for was, now in zip(before, after, strict=True):
        if was.get("sha256") or {k: v for k, v in now.items() if k != "sha256"} != was:
            if was != now:
                return False
        else:
            gained = gained or bool(now.get("sha256"))
    return gained


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
