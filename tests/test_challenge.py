import pytest

from govwatch.parsers import clean
from govwatch.parsers.challenge import detect_challenge

RUISHU = (
    '<html><head><meta content="vpC816dOwf_iZoNc" r="m"><script type="text/javascript" r=\'m\'>'
    "$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=24858;$_ts.cd=\"qE2q\";</script>"
    '<script src="/4QbVtADbnLVIc/c.FxJzG50F.d2d9e0d.js" r="m"></script></head><body></body></html>'
)
JSL = (
    "<html><body><script>document.cookie=('_')+('_jsl_clearance_s=1700000000.123|0|')"
    "+('abc')+(';max-age=3600;path=/');location.href=location.pathname+location.search"
    "</script></body></html>"
)
CONTENT_WITH_TS = (
    "<html><head><script>$_ts=window['$_ts'];</script></head><body><h1>关于开展安全检查的通知</h1>"
    + "<p>"
    + "各单位要认真组织自查，及时整改发现的问题，确保安全。" * 10
    + "</p></body></html>"
)


@pytest.mark.parametrize(
    ("html", "status", "vendor"),
    [
        (RUISHU, 412, "ruishu"),
        (RUISHU, None, "ruishu"),
        (JSL, 521, "jsl"),
        (JSL, None, "jsl"),
        ("<html><body>Precondition Failed</body></html>", 412, "ruishu"),
        (CONTENT_WITH_TS, 200, None),
        (CONTENT_WITH_TS, None, None),
    ],
)
def test_challenge_detection(html: str, status: int | None, vendor: str | None) -> None:
    assert detect_challenge(html, status) == vendor


def test_clean_reports_a_challenge_never_content() -> None:
    page = clean(RUISHU, "http://scjg.gansu.gov.cn/a.shtml", status=412)
    assert page.to_json() == {
        "kind": "challenge",
        "url": "http://scjg.gansu.gov.cn/a.shtml",
        "parser": "challenge",
        "vendor": "ruishu",
    }
