"""Body markers (`registry.Markers`): a body a CMS marked wins over longer text beside it,
with the markers written as the CMS writes them, tag and attribute names in any case."""

from __future__ import annotations

import pytest

from govwatch.parsers import clean

URL = "http://www.example.gov.cn/art/2024/3/1/art_1_1.html"
NEWS = "".join(
    f"<p>市政府召开第{i}次常务会议，研究部署近期重点工作，会议强调要抓好安全生产和民生保障。</p>"
    for i in range(8)
)
BODY = "<p>各学校：现将有关事项通知如下。请于三月底前报送材料。</p>"


def _page(begin: str, end: str) -> str:
    return (
        "<html><head><title>关于报送材料的通知</title></head><body>"
        f'<div class="news">{NEWS}</div><div class="x">{begin}{BODY}{end}</div></body></html>'
    )


@pytest.mark.parametrize(
    ("begin", "end"),
    [
        ("<!--ZJEG_RSS.content.begin-->", "<!--ZJEG_RSS.content.end-->"),
        ("<!-- ZJEG_RSS.content.begin -->", "<!-- ZJEG_RSS.content.end -->"),
        ('<meta name="ContentStart">', '<meta name="ContentEnd">'),
        ("<META NAME='ContentStart' />", "<Meta Name=ContentEnd>"),
    ],
)
def test_the_marked_body_wins(begin: str, end: str) -> None:
    page = clean(_page(begin, end), URL)
    assert page.kind == "detail"
    assert page.body == "各学校：现将有关事项通知如下。请于三月底前报送材料。"


def test_without_markers_the_longer_text_wins() -> None:
    """The page above unmarked: the scorer takes the news, so the tests above test the marks."""
    page = clean(_page("", ""), URL)
    assert page.body is not None and page.body.startswith("市政府召开第0次常务会议")
