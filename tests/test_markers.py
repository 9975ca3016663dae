"""CMS body markers: the bytes a family gives as hints are in every page its start pattern
matches (in any case Python's `re.I` matches, ſ for s included), so that looking for the
hints first never misses a marked body; and a marked body is found whatever its case."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from govwatch.parsers import clean, registry
from govwatch.parsers.content import mark_content
from govwatch.parsers.selectors import MARKED_ID

MARKERS = registry.family_markers()


def test_the_families_declare_markers() -> None:
    assert MARKERS, "no CMS family declares body markers: the tests below test nothing"


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_every_start_a_pattern_matches_holds_one_of_its_hints(data: st.DataObject) -> None:
    for markers in MARKERS:
        start = data.draw(st.from_regex(markers.begin, fullmatch=True))
        page = data.draw(st.text(max_size=30)) + start + data.draw(st.text(max_size=30))
        lowered = page.encode("utf-8", "ignore").lower()
        assert any(hint in lowered for hint in markers.hints), (start, markers.hints)


def test_a_start_with_a_long_s_still_holds_a_hint() -> None:
    """ſ matches s under re.I: the hints lie outside such letters."""
    for markers, start in zip(
        MARKERS, ("<!-- ZJEG_RSſ.content.begin -->", "<meta name='ContentſtART'>"), strict=True
    ):
        assert markers.begin.fullmatch(start)
        assert any(hint in start.encode().lower() for hint in markers.hints)


BODY = "各有关单位：现将《关于做好2026年冬季校园安全工作的通知》印发给你们，请认真贯彻落实。"


def test_a_marked_body_is_found_in_any_case() -> None:
    for begin, end in (
        ("<META NAME=CONTENTSTART>", "<Meta Name='ContentEnd'/>"),
        ("<!--zjeg_rss.CONTENT.begin-->", "<!-- ZJEG_RSS.content.END -->"),
    ):
        page = (
            "<html><head><title>通知</title></head><body>"
            + "<div class='nav'>首页 | 通知公告 | 政策文件 | 联系我们 | 网站地图 | 无障碍</div>"
            + f"<div class='wrap'><h1>关于做好冬季校园安全工作的通知</h1>{begin}<p>{BODY}</p>{end}"
            + "<div class='side'>相关文章：另一则很长的相关文章标题，这里有不少字，用来干扰评分。</div>"
            + "</div></body></html>"
        )
        marked = mark_content(page).decode()
        assert re.search(rf'<div id="{MARKED_ID}">\s*<p>{BODY}</p>\s*</div>', marked), begin
        assert clean(page).body == BODY, begin


def test_an_unmarked_page_reaches_the_parser_as_its_utf8() -> None:
    page = "<html><body><p>通知\u3000正文</p></body></html>"
    assert mark_content(page) == page.encode()
