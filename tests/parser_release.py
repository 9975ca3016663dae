"""A parser release whose output differs, for the tests of upgrades: a new code digest and
one more line at the end of every notice body the generic parser cleans."""

from __future__ import annotations

from dataclasses import replace

import pytest

from govwatch.parsers import registry
from govwatch.parsers.records import Expect, Page

IMPROVED = "（由新版解析器读出的一行）"


def improved_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    generic = registry.get("generic")

    def parse(text: str, url: str | None, expect: Expect = None) -> Page:
        page = generic.parse(text, url, expect)
        if page.kind != "detail":
            return page
        return replace(page, body=page.body + "\n" + IMPROVED)

    monkeypatch.setitem(registry._REGISTRY, "generic", replace(generic, parse=parse))
    monkeypatch.setattr(registry, "_code_digest", lambda: "next-release")
